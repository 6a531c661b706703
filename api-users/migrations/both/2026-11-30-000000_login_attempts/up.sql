-- Failed logins are counted per username and client address together (API
-- v1.1), so that attempts from one address cannot lock the owner out from
-- another.
DROP TABLE login_failures;
CREATE TABLE login_attempts (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX login_attempts_window_start ON login_attempts (window_start);
CREATE INDEX tokens_user_created ON tokens (user_id, created_at);
