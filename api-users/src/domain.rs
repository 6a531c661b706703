//! Validated user input: built once from a request, trusted afterwards.
//!
//! Usernames and emails are trimmed and NFC-normalised before anything else
//! looks at them, so that one name typed with a composed `é` and the same
//! name with `e` + a combining accent are one account: the uniqueness checks
//! and the stored values only ever see the composed form.

use server::{ApiError, Fields};
use shared::RegisterRequest;
use unicode_normalization::UnicodeNormalization;

/// `raw` trimmed and in Unicode normalisation form C: how a username or an
/// email is compared and stored (login and lookups use it too).
pub fn normalise(raw: &str) -> String {
    raw.trim().nfc().collect()
}

/// 3-32 characters of `A-Za-z0-9_.-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = normalise(raw);
        if !(3..=32).contains(&raw.chars().count()) {
            return Err("must be 3 to 32 characters".into());
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err("may only contain letters, digits, '_', '.' and '-'".into());
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address of a plausible shape, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = normalise(raw);
        if raw.is_empty() {
            return Err("is required".into());
        }
        let valid = raw.chars().count() <= 254
            && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
            && raw.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(raw))
        } else {
            Err("is not a valid email address".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 8-128 characters, not only white space ([`shared::password_problem`], the
/// SPA's rule too). Never logged, never returned.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match shared::password_problem(raw) {
            Some(problem) => Err(problem.into()),
            None => Ok(Self(raw.to_owned())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A first or last name: optional, at most 100 characters, no control characters.
fn parse_name(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(raw.to_owned())
}

/// A registration whose every field is valid.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub first_name: String,
    pub last_name: String,
}

impl NewUser {
    /// Parses every field, reporting all invalid ones at once (422).
    pub fn parse(req: &RegisterRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let username = fields.check("username", Username::parse(&req.username));
        let email = fields.check("email", Email::parse(&req.email));
        let password = fields.check("password", Password::parse(&req.password));
        let first_name = fields.check("first_name", parse_name(&req.first_name));
        let last_name = fields.check("last_name", parse_name(&req.last_name));
        match (username, email, password, first_name, last_name) {
            (Some(username), Some(email), Some(password), Some(first_name), Some(last_name)) => {
                Ok(Self {
                    username,
                    email,
                    password,
                    first_name,
                    last_name,
                })
            }
            _ => Err(fields.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("al.ice-_9").is_ok());
        assert!(Username::parse("élodie").is_err());
    }

    #[test]
    fn emails() {
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("ab.co").is_err());
        assert!(Email::parse("a b@c.de").is_err());
        assert!(Email::parse("a@@b.de").is_err());
    }

    #[test]
    fn emails_are_kept_composed() {
        let composed = Email::parse(" jos\u{e9}@example.com ").unwrap();
        let decomposed = Email::parse("jose\u{301}@example.com").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(decomposed.as_str(), "jos\u{e9}@example.com");
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("         ").is_err());
        assert_eq!(
            format!("{:?}", Password::parse("12345678").unwrap()),
            "Password(***)"
        );
    }
}
