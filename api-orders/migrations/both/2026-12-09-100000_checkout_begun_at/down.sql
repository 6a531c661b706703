ALTER TABLE orders DROP COLUMN checkout_begun_at;
