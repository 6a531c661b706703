-- Contract v1.3: each caller's live keys are capped (`owner`: the user, or
-- an HMAC of the anonymous caller's address), kept answers replay their
-- Retry-After and Location (`headers`, JSON pairs), and fingerprints are an
-- HMAC under a secret: the deployment's IDEMPOTENCY_SECRET, or this one,
-- made by the first process that needs it.
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT;
CREATE INDEX idempotency_keys_owner ON idempotency_keys (owner, created_at);
CREATE TABLE idempotency_secret (
    id INTEGER PRIMARY KEY,
    secret BLOB NOT NULL
);
-- The anonymous rows (registrations) held a plain SHA-256 of bodies with
-- their passwords in them: gone. Other rows stay until their day is over
-- (a retry across the upgrade is then refused as another request, 422,
-- rather than done twice), but for the refusals v1.3 no longer keeps.
DELETE FROM idempotency_keys WHERE caller = 'anonymous';
DELETE FROM idempotency_keys
WHERE status IS NOT NULL AND (status < 200 OR status > 299) AND status <> 409;
UPDATE idempotency_keys SET owner = caller;
