-- The catalogue's revision, bumped in the same transaction as every insert,
-- delete and change of a name or of `hidden`: each replica's search index
-- (`api-products/src/index.rs`) reads it to know when to reload the names.
-- Once per statement, so a bulk load bumps it once; stock changes do not
-- touch it.
CREATE TABLE catalogue_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO catalogue_revision (id, revision) VALUES (1, 1);

CREATE FUNCTION catalogue_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER catalogue_revision_bump
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name_key, hidden ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_revision_bump();
