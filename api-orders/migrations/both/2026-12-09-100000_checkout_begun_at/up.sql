-- When the checkout attempt under way began. `checkout_started_at` is the
-- attempt's lease: a retry that carries it on and every claim of the repair
-- loop set it to now, so it cannot tell how long an attempt has been stuck.
-- This one is set once, when the attempt is recorded, and read only by the
-- metric `orders_checkout_oldest_unfinished_seconds` (the CheckoutsStuck
-- alert). Attempts under way at the upgrade began no later than their lease.
ALTER TABLE orders ADD COLUMN checkout_begun_at TIMESTAMP;
UPDATE orders SET checkout_begun_at = checkout_started_at WHERE checkout_state IS NOT NULL;
