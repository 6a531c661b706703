-- How many products are visible and hidden, kept by triggers in the same
-- transaction as every insert, delete and change of `hidden`: the list's `total`
-- without counting the catalogue on every request (the count grew with it).
CREATE TABLE catalogue_counts (
    hidden BOOLEAN PRIMARY KEY NOT NULL,
    products BIGINT NOT NULL
);
INSERT INTO catalogue_counts (hidden, products)
    SELECT 0, (SELECT count(*) FROM products WHERE hidden = 0)
    UNION ALL
    SELECT 1, (SELECT count(*) FROM products WHERE hidden = 1);
CREATE TRIGGER catalogue_counts_insert AFTER INSERT ON products BEGIN
    UPDATE catalogue_counts SET products = products + 1 WHERE hidden = new.hidden;
END;
CREATE TRIGGER catalogue_counts_delete AFTER DELETE ON products BEGIN
    UPDATE catalogue_counts SET products = products - 1 WHERE hidden = old.hidden;
END;
CREATE TRIGGER catalogue_counts_hidden AFTER UPDATE OF hidden ON products
    WHEN old.hidden <> new.hidden BEGIN
    UPDATE catalogue_counts SET products = products - 1 WHERE hidden = old.hidden;
    UPDATE catalogue_counts SET products = products + 1 WHERE hidden = new.hidden;
END;
