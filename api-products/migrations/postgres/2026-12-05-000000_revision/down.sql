DROP TRIGGER catalogue_revision_bump ON products;
DROP FUNCTION catalogue_revision_bump();
DROP TABLE catalogue_revision;
