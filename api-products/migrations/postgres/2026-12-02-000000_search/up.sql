-- Search that uses an index: trigrams of the lowercase names, which answer
-- "contains" (name_key LIKE '%term%') for terms of three characters or more
-- without reading every product. pg_trgm ships with PostgreSQL and is a
-- trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_name_trigrams ON products USING gin (name_key gin_trgm_ops);
