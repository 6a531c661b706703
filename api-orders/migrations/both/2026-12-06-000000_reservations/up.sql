-- Contract v1.3: each checkout attempt reserves stock under a name of its
-- own, kept here while the attempt is under way (`checkout_state` set), so
-- that a retry goes on with the same reservation and the repair loop
-- releases exactly that one. An attempt under way at the upgrade reserved
-- as v1.2 did, under `order-<id>`.
ALTER TABLE orders ADD COLUMN checkout_reservation TEXT;
UPDATE orders SET checkout_reservation = 'order-' || id WHERE checkout_state IS NOT NULL;
