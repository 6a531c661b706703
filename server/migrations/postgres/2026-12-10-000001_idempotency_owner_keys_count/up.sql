-- Each owner's hours from the keys already there, then a trigger that counts
-- every insert into idempotency_keys, whoever makes it.
INSERT INTO idempotency_owner_keys (owner, hour, keys)
SELECT owner, date_trunc('hour', created_at), count(*)
FROM idempotency_keys
GROUP BY owner, date_trunc('hour', created_at);

CREATE FUNCTION idempotency_owner_keys_count() RETURNS trigger AS $$
BEGIN
    INSERT INTO idempotency_owner_keys (owner, hour, keys)
    VALUES (NEW.owner, date_trunc('hour', NEW.created_at), 1)
    ON CONFLICT (owner, hour) DO UPDATE SET keys = idempotency_owner_keys.keys + 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys
FOR EACH ROW EXECUTE FUNCTION idempotency_owner_keys_count();
