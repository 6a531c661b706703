-- Undoes up.sql beside it (testdata of migrations.rs's tests).
SELECT 1;
