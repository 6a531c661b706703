DROP TABLE idempotency_owner_keys;
