-- Contract v1.3, "Payments": each payment attempt of an order is one
-- PaymentIntent at the provider, recorded here before the provider is called
-- (src/payments/), so that after a timeout or a crash the attempt is found
-- again (by `intent_id`, or by listing the provider's PaymentIntents and
-- matching `metadata.order_id` and `metadata.attempt_key`) instead of made twice.
--
-- `attempt`: 1, 2, ... per order (unique: two racing requests never make the
-- same attempt twice). `attempt_key`: random, the provider's Idempotency-Key
-- and metadata. `status`: `creating` until the provider answered, then the
-- PaymentIntent's status as last seen. `error`: a sentence for people from a
-- failed confirmation. `pay_started_at`: when `pay` last confirmed it (the
-- expiry sweep waits 60 s after that). `refunded`: its money went back.
CREATE TABLE payment_attempts (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    attempt_key TEXT NOT NULL,
    amount BIGINT NOT NULL,
    intent_id TEXT,
    client_secret TEXT,
    status TEXT NOT NULL,
    error TEXT,
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    pay_started_at TIMESTAMP,
    refunded BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, attempt)
);
CREATE INDEX payment_attempts_by_intent ON payment_attempts (intent_id);

-- The provider's webhook events applied, by id: a duplicate is answered and ignored.
CREATE TABLE payment_events (
    id TEXT PRIMARY KEY,
    received_at TIMESTAMP NOT NULL
);
