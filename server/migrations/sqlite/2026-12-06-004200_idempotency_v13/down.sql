DROP TABLE idempotency_secret;
DROP INDEX idempotency_keys_owner;
ALTER TABLE idempotency_keys DROP COLUMN headers;
ALTER TABLE idempotency_keys DROP COLUMN owner;
