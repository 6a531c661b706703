-- The catalogue's revision, bumped in the same transaction as every insert,
-- delete and change of a name or of `hidden`: each replica's search index
-- (`api-products/src/index.rs`) reads it to know when to reload the names.
-- Stock changes do not touch it.
CREATE TABLE catalogue_revision (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO catalogue_revision (id, revision) VALUES (1, 1);
CREATE TRIGGER catalogue_revision_insert AFTER INSERT ON products BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
END;
CREATE TRIGGER catalogue_revision_delete AFTER DELETE ON products BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
END;
CREATE TRIGGER catalogue_revision_update AFTER UPDATE OF name_key, hidden ON products BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
END;
