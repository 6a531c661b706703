DROP TABLE login_addresses;
DROP TABLE rate_limits;
CREATE TABLE login_attempts (
    username TEXT NOT NULL,
    client TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX login_attempts_window_start ON login_attempts (window_start);
