-- The count of each owner's keys an hour, once per statement rather than once
-- per row: a cart batch inserts all its kept answers in one statement, and the
-- per-row trigger ran an upsert (through PL/pgSQL) for each. The rows a
-- statement inserted are grouped by owner and hour, and each pair is upserted
-- once, in a fixed order so that two statements wait for each other rather
-- than deadlock.
DROP TRIGGER idempotency_keys_counted ON idempotency_keys;
CREATE OR REPLACE FUNCTION idempotency_owner_keys_count() RETURNS trigger AS $$
BEGIN
    INSERT INTO idempotency_owner_keys (owner, hour, keys)
    SELECT owner, date_trunc('hour', created_at), count(*)
    FROM added
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (owner, hour) DO UPDATE
    SET keys = idempotency_owner_keys.keys + EXCLUDED.keys;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER idempotency_keys_counted AFTER INSERT ON idempotency_keys
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION idempotency_owner_keys_count();
