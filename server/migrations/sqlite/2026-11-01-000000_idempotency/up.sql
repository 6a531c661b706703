-- Answers kept for `Idempotency-Key` (contract v1.1), in every service's own
-- database so that its replicas agree. `status` is NULL while the first
-- request with the key is being handled.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status INTEGER,
    body BLOB,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
