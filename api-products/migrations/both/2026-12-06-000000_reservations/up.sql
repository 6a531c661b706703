-- Contract v1.3: a reservation is one checkout attempt, named by the orders
-- service, instead of one per order. A release of a reservation never seen
-- leaves a tombstone (`released`, no lines), so a reserve that arrives after
-- its release (a slow network, a queued request) takes nothing.
CREATE TABLE reservations (
    reservation TEXT PRIMARY KEY,
    -- Informative (logs, support): the order the attempt was for.
    order_id BIGINT,
    released BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- What a reservation took (or, once released, gave back), product by product.
CREATE TABLE reservation_lines (
    reservation TEXT NOT NULL REFERENCES reservations (reservation) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    qty BIGINT NOT NULL CHECK (qty >= 1),
    PRIMARY KEY (reservation, product_id)
);

-- The v1.2 reservations carry over under the name a v1.2 caller means,
-- `order-<order_id>`, so releasing one of them after the upgrade still
-- returns its units. The old tables stay unused until a later release drops
-- them (a replica of the previous release may still be running).
INSERT INTO reservations (reservation, order_id, released, created_at, updated_at)
    SELECT 'order-' || order_id, order_id, released, created_at, updated_at
    FROM stock_reservations;
INSERT INTO reservation_lines (reservation, product_id, qty)
    SELECT 'order-' || order_id, product_id, qty
    FROM stock_reservation_lines;
