DROP TABLE reservation_lines;
DROP TABLE reservations;
