DROP TABLE stock_reservation_lines;
DROP TABLE stock_reservations;
ALTER TABLE products DROP COLUMN hidden;
ALTER TABLE products DROP COLUMN stock;
