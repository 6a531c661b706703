-- Sent outbox messages and payment webhook ids are swept in the background
-- (server::retention): oldest first, a batch at a time, through these indexes.
-- Messages not done yet are never swept (the partial index leaves them out).
CREATE INDEX outbox_done_at ON outbox (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX payment_events_received_at ON payment_events (received_at);
