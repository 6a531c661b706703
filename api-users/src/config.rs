//! Settings of the users service beyond the common ones.

use chrono::Duration;

use crate::db::limits::Limit;

/// How long a successful login makes its client address known to the
/// account's ceiling (contract v1.3: 30 days).
const KNOWN_ADDRESS_DAYS: i64 = 30;

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
    pub fn from_vars(vars: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let number = |name: &str, default: i64| number(vars, name, default);
        let hour = Duration::hours(1);
        Ok(Self {
            token_ttl: Duration::seconds(number("TOKEN_TTL_SECS", 86_400)?),
            login_pair: Limit {
                name: "login",
                max: number("LOGIN_MAX_FAILURES", 5)? as i32,
                window: Duration::seconds(number("LOGIN_WINDOW_SECS", 300)?),
            },
            login_account: Limit {
                name: "account",
                max: number("LOGIN_ACCOUNT_MAX_FAILURES", 100)? as i32,
                window: hour,
            },
            known_address_for: Duration::days(KNOWN_ADDRESS_DAYS),
            registrations: Limit {
                name: "register",
                max: number("REGISTER_MAX_PER_ADDRESS", 20)? as i32,
                window: hour,
            },
            tokens_per_user: number("TOKENS_PER_USER", 20)?,
            hashes_per_address: number("HASHES_PER_ADDRESS", 1)? as usize,
            hashes_waiting_per_address: number("HASHES_WAITING_PER_ADDRESS", 16)? as usize,
        })
    }
}

fn number(vars: &dyn Fn(&str) -> Option<String>, name: &str, default: i64) -> anyhow::Result<i64> {
    match vars(name) {
        Some(v) if !v.trim().is_empty() => {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a whole number, got {v:?}"))?;
            anyhow::ensure!(n > 0 && n < i32::MAX as i64, "{name} must be positive");
            Ok(n)
        }
        _ => Ok(default),
    }
}
