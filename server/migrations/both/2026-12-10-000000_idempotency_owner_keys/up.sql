-- How many keys each owner made in each hour: an upper bound of its live keys
-- (the sum of its hours since the cut-off), read instead of counting its rows
-- each time a key is claimed. A trigger counts every insert (the next
-- migration, each backend's own); deletes do not count down, so the sum only
-- ever overcounts, and only an owner whose sum nears the cap is counted exactly.
CREATE TABLE idempotency_owner_keys (
    owner TEXT NOT NULL,
    hour TIMESTAMP NOT NULL,
    keys BIGINT NOT NULL,
    PRIMARY KEY (owner, hour)
);
-- The retention sweep deletes hours past their day through this index.
CREATE INDEX idempotency_owner_keys_hour ON idempotency_owner_keys (hour);
