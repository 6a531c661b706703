DROP TRIGGER catalogue_counts_hidden;
DROP TRIGGER catalogue_counts_delete;
DROP TRIGGER catalogue_counts_insert;
DROP TABLE catalogue_counts;
