DROP TRIGGER idempotency_keys_counted;
DELETE FROM idempotency_owner_keys;
