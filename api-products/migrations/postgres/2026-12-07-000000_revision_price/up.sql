-- Sorting by price (contract v1.3, `sort=price`) is answered from the names
-- each replica keeps in memory, which now hold prices: a change of a price
-- bumps the catalogue's revision too, so replicas reload them. Stock changes
-- still do not. Safe during a rolling upgrade: a replica of the previous
-- release only reloads its names a little more often.
DROP TRIGGER catalogue_revision_bump ON products;
CREATE TRIGGER catalogue_revision_bump
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name_key, hidden, price ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_revision_bump();
