DROP TRIGGER catalogue_revision_update;
CREATE TRIGGER catalogue_revision_update AFTER UPDATE OF name_key, hidden ON products BEGIN
    UPDATE catalogue_revision SET revision = revision + 1;
END;
