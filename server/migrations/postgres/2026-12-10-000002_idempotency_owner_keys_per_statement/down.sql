DROP TRIGGER idempotency_keys_counted ON idempotency_keys;
CREATE OR REPLACE FUNCTION idempotency_owner_keys_count() RETURNS trigger AS $$
BEGIN
    INSERT INTO idempotency_owner_keys (owner, hour, keys)
    VALUES (NEW.owner, date_trunc('hour', NEW.created_at), 1)
    ON CONFLICT (owner, hour) DO UPDATE SET keys = idempotency_owner_keys.keys + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys
FOR EACH ROW EXECUTE FUNCTION idempotency_owner_keys_count();
