-- Sorting by price (contract v1.3, `sort=price`) is answered from the names
-- each replica keeps in memory, which now hold prices: a change of a price
-- bumps the catalogue's revision too, so replicas reload them. Stock changes
-- still do not. Safe during a rolling upgrade: a replica of the previous
-- release only reloads its names a little more often.
DROP TRIGGER catalogue_revision_update;
CREATE TRIGGER catalogue_revision_update AFTER UPDATE OF name_key, hidden, price ON products BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
END;
