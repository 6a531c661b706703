DROP TRIGGER idempotency_keys_counted;
DROP TABLE idempotency_owner_keys;
