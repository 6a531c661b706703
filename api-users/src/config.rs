//! Every setting of the users service, read once when it is built
//! ([`crate::build`]) and handed down: the common ones (`server::Settings`)
//! and its own ([`UsersConfig`]).

use chrono::Duration;
use server::config::{positive, Vars};
use server::Settings;

use crate::db::limits::Limit;

/// How long a successful login makes its client address known to the
/// account's ceiling (contract v1.3: 30 days).
const KNOWN_ADDRESS_DAYS: i64 = 30;

/// The settings every service has (`HOST`, `PORT`, `DATABASE_URL`, the
/// limits...) from `vars` (the environment, or explicit values).
pub fn settings(vars: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    Settings::from_vars(crate::NAME, shared::ports::USERS, vars)
}

/// The users service's own settings.
#[derive(Debug, Clone)]
pub struct UsersConfig {
    /// `TOKEN_TTL_SECS`, default 24 h: how long a login lasts.
    pub token_ttl: Duration,
    /// `LOGIN_MAX_FAILURES` (5) per `LOGIN_WINDOW_SECS` (300): failed logins
    /// per username and client address before the next attempt gets a 429.
    pub login_pair: Limit,
    /// `LOGIN_ACCOUNT_MAX_FAILURES` (100) an hour: failed logins of one
    /// account from addresses it has not logged in from lately.
    pub login_account: Limit,
    /// How long a successful login keeps an address known (30 days).
    pub known_address_for: Duration,
    /// `REGISTER_MAX_PER_ADDRESS` (20) an hour: registrations per client address.
    pub registrations: Limit,
    /// `TOKENS_PER_USER`, default 20: live tokens a user may hold; a new login
    /// retires the oldest.
    pub tokens_per_user: i64,
    /// `HASHES_PER_ADDRESS` (1): password hashes of one client address at
    /// the hashing threads at once.
    pub hashes_per_address: usize,
    /// `HASHES_WAITING_PER_ADDRESS` (16): more of them that wait their turn
    /// before the address gets a 429.
    pub hashes_waiting_per_address: usize,
}

impl UsersConfig {
    /// The settings above from `vars`; one that cannot be used is an error
    /// naming it.
    pub fn from_vars(vars: Vars<'_>) -> anyhow::Result<Self> {
        // Every number is positive and fits the database's 32-bit columns.
        let number = |name: &str, default: i32| -> anyhow::Result<i32> {
            Ok(positive(vars, name)?.unwrap_or(default))
        };
        let seconds = |name: &str, default: i32| -> anyhow::Result<Duration> {
            Ok(Duration::seconds(number(name, default)?.into()))
        };
        let hour = Duration::hours(1);
        Ok(Self {
            token_ttl: seconds("TOKEN_TTL_SECS", 86_400)?,
            login_pair: Limit {
                name: "login",
                max: number("LOGIN_MAX_FAILURES", 5)?,
                window: seconds("LOGIN_WINDOW_SECS", 300)?,
            },
            login_account: Limit {
                name: "account",
                max: number("LOGIN_ACCOUNT_MAX_FAILURES", 100)?,
                window: hour,
            },
            known_address_for: Duration::days(KNOWN_ADDRESS_DAYS),
            registrations: Limit {
                name: "register",
                max: number("REGISTER_MAX_PER_ADDRESS", 20)?,
                window: hour,
            },
            tokens_per_user: number("TOKENS_PER_USER", 20)?.into(),
            // Positive: the casts are exact.
            hashes_per_address: number("HASHES_PER_ADDRESS", 1)? as usize,
            hashes_waiting_per_address: number("HASHES_WAITING_PER_ADDRESS", 16)? as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<UsersConfig> {
        UsersConfig::from_vars(&|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn unset_settings_take_their_defaults() {
        let config = config(&[("TOKENS_PER_USER", " ")]).unwrap();
        assert_eq!(config.token_ttl, Duration::hours(24));
        assert_eq!(config.tokens_per_user, 20);
        assert_eq!(config.login_pair.max, 5);
    }

    #[test]
    fn a_number_that_is_not_positive_or_too_large_stops_the_start_naming_it() {
        for bad in ["0", "-3", "five", "2147483648", "1.5"] {
            let err = config(&[("LOGIN_MAX_FAILURES", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("LOGIN_MAX_FAILURES: "), "{bad}: {err}");
            assert!(err.contains(bad), "{bad}: {err}");
        }
        assert_eq!(
            config(&[("LOGIN_MAX_FAILURES", " 7 ")])
                .unwrap()
                .login_pair
                .max,
            7
        );
    }
}
