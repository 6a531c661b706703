CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- The name lowercased by the service (Unicode-aware, the same on both
    -- backends): what search matches and what makes names unique whatever their case.
    name_key TEXT NOT NULL,
    slug TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0),
    -- A path under /images/ served by this service, or an absolute http(s) URL.
    image TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX products_slug_key ON products (slug);
CREATE UNIQUE INDEX products_name_key ON products (name_key);
