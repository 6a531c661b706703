-- Search that uses an index: an FTS5 table of the lowercase names with the
-- trigram tokenizer, which answers "contains" (LIKE '%term%') for terms of
-- three characters or more without reading every product. It holds no copy
-- of the names (external content) and triggers keep it in step.
CREATE VIRTUAL TABLE products_search USING fts5(
    name_key,
    content = 'products',
    content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO products_search (products_search) VALUES ('rebuild');
CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_search (rowid, name_key) VALUES (new.id, new.name_key);
END;
CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_search (products_search, rowid, name_key)
        VALUES ('delete', old.id, old.name_key);
END;
CREATE TRIGGER products_search_update AFTER UPDATE OF name_key ON products BEGIN
    INSERT INTO products_search (products_search, rowid, name_key)
        VALUES ('delete', old.id, old.name_key);
    INSERT INTO products_search (rowid, name_key) VALUES (new.id, new.name_key);
END;
