//! Settings of the users service beyond the common ones.

use chrono::Duration;

#[derive(Debug, Clone)]
pub struct UsersConfig {
    /// `TOKEN_TTL_SECS`, default 24 h: how long a login lasts.
    pub token_ttl: Duration,
    /// `LOGIN_MAX_FAILURES`, default 5: failed logins per username and client
    /// address per window before the next attempt gets a 429.
    pub max_login_failures: i32,
    /// `LOGIN_WINDOW_SECS`, default 300.
    pub login_window: Duration,
    /// `TOKENS_PER_USER`, default 20: live tokens a user may hold; a new login
    /// retires the oldest.
    pub tokens_per_user: i64,
}

impl UsersConfig {
    pub fn from_vars(vars: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let number = |name: &str, default: i64| number(vars, name, default);
        Ok(Self {
            token_ttl: Duration::seconds(number("TOKEN_TTL_SECS", 86_400)?),
            max_login_failures: number("LOGIN_MAX_FAILURES", 5)? as i32,
            login_window: Duration::seconds(number("LOGIN_WINDOW_SECS", 300)?),
            tokens_per_user: number("TOKENS_PER_USER", 20)?,
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
