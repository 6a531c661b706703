DROP TRIGGER products_search_update;
DROP TRIGGER products_search_delete;
DROP TRIGGER products_search_insert;
DROP TABLE products_search;
