DROP INDEX orders_checkout_key;
DROP INDEX orders_checkout_pending;
ALTER TABLE orders DROP COLUMN checkout_started_at;
ALTER TABLE orders DROP COLUMN checkout_key;
ALTER TABLE orders DROP COLUMN checkout_state;
