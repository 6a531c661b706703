DROP INDEX payment_events_received_at;
DROP INDEX outbox_done_at;
