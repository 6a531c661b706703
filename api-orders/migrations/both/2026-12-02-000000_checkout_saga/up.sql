-- The checkout saga (contract v1.2): an order is closed only after the
-- products service reserved its stock, and a crash between the two steps is
-- repaired by the repair loop of any replica (see src/checkout.rs).
--
-- `checkout_state`: NULL when no checkout is under way; 'reserving' from the
-- moment the intent is recorded until the order is closed or the attempt
-- abandoned; 'releasing' while the repair loop returns the stock of an attempt
-- that died. The cart's lines cannot change while it is set.
-- `checkout_key`: the Idempotency-Key of the checkout, so that a retry after a
-- crash finds the order it closed.
-- `checkout_started_at`: when the state was last set; the repair loop only
-- touches attempts older than every request's time limit.
ALTER TABLE orders ADD COLUMN checkout_state TEXT
    CHECK (checkout_state IN ('reserving', 'releasing'));
ALTER TABLE orders ADD COLUMN checkout_key TEXT;
ALTER TABLE orders ADD COLUMN checkout_started_at TIMESTAMP;
CREATE INDEX orders_checkout_pending ON orders (checkout_started_at)
    WHERE checkout_state IS NOT NULL;
CREATE INDEX orders_checkout_key ON orders (user_id, checkout_key)
    WHERE checkout_key IS NOT NULL;
