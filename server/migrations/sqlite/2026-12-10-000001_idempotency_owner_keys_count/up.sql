-- Each owner's hours from the keys already there, then a trigger that counts
-- every insert into idempotency_keys, whoever makes it.
INSERT INTO idempotency_owner_keys (owner, hour, keys)
SELECT owner, strftime('%Y-%m-%d %H:00:00', created_at), count(*)
FROM idempotency_keys
GROUP BY owner, strftime('%Y-%m-%d %H:00:00', created_at);

CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys
BEGIN
    INSERT INTO idempotency_owner_keys (owner, hour, keys)
    VALUES (NEW.owner, strftime('%Y-%m-%d %H:00:00', NEW.created_at), 1)
    ON CONFLICT (owner, hour) DO UPDATE SET keys = keys + 1;
END;
