DROP TRIGGER idempotency_keys_counted ON idempotency_keys;
DROP FUNCTION idempotency_owner_keys_count();
DELETE FROM idempotency_owner_keys;
