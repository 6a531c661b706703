-- An order; the open one is its user's cart.
--
-- `open_user_id` is the user's id while the order is open and NULL once it is
-- checked out. Being UNIQUE (NULLs never collide), it lets the database itself
-- hold at most one open order per user, and makes
-- `INSERT ... ON CONFLICT (open_user_id) DO NOTHING` open a cart idempotently.
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    is_open BOOLEAN NOT NULL DEFAULT TRUE,
    open_user_id INTEGER UNIQUE,
    -- Frozen at checkout; 0 while open (the cart's total is computed from its lines).
    total INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    checked_out_at TIMESTAMP,
    CONSTRAINT orders_open_state CHECK (
        (is_open AND open_user_id = user_id AND checked_out_at IS NULL)
        OR (NOT is_open AND open_user_id IS NULL AND checked_out_at IS NOT NULL)
    )
);
CREATE INDEX orders_user_history ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_history ON orders (created_at DESC, id DESC);

-- One line per product of an order, with the name and price it had when added.
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
    quantity INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    PRIMARY KEY (order_id, product_id)
) WITHOUT ROWID;
