-- How many keys each owner made in each hour: an upper bound of its live keys
-- (the sum of its hours since the cut-off), read instead of counting its rows
-- each time a key is claimed. Kept by a trigger, so that every insert counts,
-- whoever makes it; deletes do not count down, so the sum only ever
-- overcounts, and only an owner whose sum reaches the cap is counted exactly.
CREATE TABLE idempotency_owner_keys (
    owner TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    keys BIGINT NOT NULL,
    PRIMARY KEY (owner, hour)
);
-- The retention sweep deletes hours past their day through this index.
CREATE INDEX idempotency_owner_keys_hour ON idempotency_owner_keys (hour);
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
