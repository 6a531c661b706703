-- The same version in both and sqlite: what migrations.rs's tests expect refused.
SELECT 1;
