-- Contract v1.3, "Orders after checkout": an order's lifecycle (see
-- src/lifecycle/), its timeline, and the outbox of effects carried out after
-- a change commits (stock released, emails sent) by any replica.
--
-- `status`: the contract's statuses; 'open' is the cart. Orders checked out
-- before this release were placed (payments were off). Their reservation is
-- the v1.2 one, so that cancelling one gives back exactly its stock.
ALTER TABLE orders ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'awaiting_payment', 'placed', 'paid', 'shipped', 'delivered', 'cancelled'));
UPDATE orders SET status = 'placed' WHERE NOT is_open;
UPDATE orders SET checkout_reservation = 'order-' || id
    WHERE NOT is_open AND checkout_reservation IS NULL;
-- The shopper's email, from the users service at checkout.
ALTER TABLE orders ADD COLUMN email TEXT;
ALTER TABLE orders ADD COLUMN tracking_number TEXT;
ALTER TABLE orders ADD COLUMN cancel_reason TEXT
    CHECK (cancel_reason IN ('shopper', 'admin', 'payment_timeout'));
-- JSON of shared::ShippingAddress, validated before it is written.
ALTER TABLE orders ADD COLUMN shipping_address TEXT;
CREATE INDEX orders_by_status ON orders (status, checked_out_at);

-- The timeline: one row per change of status after the cart (the cart's
-- opening is `orders.created_at`). `actor`: shopper, admin or system.
CREATE TABLE order_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL CHECK (actor IN ('shopper', 'admin', 'system'))
);
CREATE INDEX order_events_of_order ON order_events (order_id, id);
INSERT INTO order_events (order_id, status, at, actor)
    SELECT id, 'placed', checked_out_at, 'shopper' FROM orders WHERE NOT is_open;

-- Effects of a change, written in its transaction and carried out after it
-- commits, at least once, by the relay of any replica (src/outbox/).
-- `effect`: 'email' or 'release'; `dedupe` makes each effect of a change
-- one row whatever retries happen (an email's Message-ID, a release's
-- reservation); `payload`: JSON of what to do. A row is leased
-- (`leased_until`) while one relay works on it, retried at `next_at` after a
-- failure, and done once `done_at` is set.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL,
    effect TEXT NOT NULL CHECK (effect IN ('email', 'release', 'refund')),
    dedupe TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    done_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE done_at IS NULL;
