-- Contract v1.2: stock and hidden products, and the orders' stock reservations.
-- Existing products keep selling as before: stock not tracked, not hidden.
ALTER TABLE products ADD COLUMN stock BIGINT NULL CHECK (stock >= 0);
ALTER TABLE products ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per order that reserved stock: the key that makes reserving and
-- releasing idempotent. A released reservation keeps its row, so releasing
-- again returns nothing twice.
CREATE TABLE stock_reservations (
    order_id BIGINT PRIMARY KEY,
    released BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- What an order took (or, once released, gave back), product by product.
CREATE TABLE stock_reservation_lines (
    order_id BIGINT NOT NULL REFERENCES stock_reservations (order_id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    -- Lines of one product in a request are summed, so above a cart line's 999.
    qty BIGINT NOT NULL CHECK (qty >= 1),
    PRIMARY KEY (order_id, product_id)
);
