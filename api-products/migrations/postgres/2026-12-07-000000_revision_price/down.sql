DROP TRIGGER catalogue_revision_bump ON products;
CREATE TRIGGER catalogue_revision_bump
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF name_key, hidden ON products
    FOR EACH STATEMENT EXECUTE FUNCTION catalogue_revision_bump();
