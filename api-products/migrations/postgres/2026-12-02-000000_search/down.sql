DROP INDEX products_name_trigrams;
