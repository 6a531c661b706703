DROP INDEX tokens_user_created;
DROP TABLE login_attempts;
CREATE TABLE login_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL
);
