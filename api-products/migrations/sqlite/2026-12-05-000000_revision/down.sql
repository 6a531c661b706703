DROP TRIGGER catalogue_revision_update;
DROP TRIGGER catalogue_revision_delete;
DROP TRIGGER catalogue_revision_insert;
DROP TABLE catalogue_revision;
