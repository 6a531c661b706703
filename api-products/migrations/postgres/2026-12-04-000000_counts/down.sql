DROP TRIGGER catalogue_counts_hidden ON products;
DROP TRIGGER catalogue_counts_insert_delete ON products;
DROP FUNCTION catalogue_counts_keep();
DROP TABLE catalogue_counts;
