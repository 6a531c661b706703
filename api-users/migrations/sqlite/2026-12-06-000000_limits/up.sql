-- Every fixed-window limit of the service in one table, counted by one
-- statement (src/db/limits.rs): failed logins per username and client
-- address ('login'), failed logins per account ('account', v1.3) and
-- registrations per client address ('register', v1.3). The counts of
-- login_attempts are short-lived (5 minutes) and not carried over.
DROP TABLE login_attempts;
CREATE TABLE rate_limits (
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    hits INTEGER NOT NULL,
    window_start TIMESTAMP NOT NULL,
    PRIMARY KEY (name, subject)
);
CREATE INDEX rate_limits_window_start ON rate_limits (name, window_start);

-- The client addresses each user logged in from, keyed as the limits key
-- them (the address as text): an address with a success in the last 30 days
-- is not held back by the account's ceiling (v1.3).
CREATE TABLE login_addresses (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    last_success TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client)
);
CREATE INDEX login_addresses_last_success ON login_addresses (last_success);
