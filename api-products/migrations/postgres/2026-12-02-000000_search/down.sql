DROP INDEX products_visible;
DROP INDEX products_name_trigrams;
