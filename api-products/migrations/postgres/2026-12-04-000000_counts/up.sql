-- How many products are visible and hidden, kept by a trigger in the same
-- transaction as every insert, delete and change of `hidden`: the list's `total`
-- without counting the catalogue on every request (the count grew with it).
-- Writers of products wait for each other on these two rows; stock changes do
-- not touch them.
CREATE TABLE catalogue_counts (
    hidden BOOLEAN PRIMARY KEY,
    products BIGINT NOT NULL
);
INSERT INTO catalogue_counts (hidden, products)
    SELECT false, count(*) FILTER (WHERE NOT hidden) FROM products
    UNION ALL
    SELECT true, count(*) FILTER (WHERE hidden) FROM products;

CREATE FUNCTION catalogue_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE catalogue_counts SET products = products - 1 WHERE hidden = OLD.hidden;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE catalogue_counts SET products = products + 1 WHERE hidden = NEW.hidden;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER catalogue_counts_insert_delete AFTER INSERT OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION catalogue_counts_keep();
CREATE TRIGGER catalogue_counts_hidden AFTER UPDATE OF hidden ON products
    FOR EACH ROW WHEN (OLD.hidden IS DISTINCT FROM NEW.hidden)
    EXECUTE FUNCTION catalogue_counts_keep();
