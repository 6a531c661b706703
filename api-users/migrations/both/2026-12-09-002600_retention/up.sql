-- Expired tokens are swept in the background (server::retention): oldest
-- expiry first, a batch at a time, through this index.
CREATE INDEX tokens_expires_at ON tokens (expires_at);
