-- A backend's own migration, after the shared one (migrations.rs's tests).
SELECT 1;
