//! Users: accounts, sessions.

use serde::{Deserialize, Serialize};

/// A user as every client sees it. It never carries a password, a hash or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_admin: bool,
}

/// `POST /api/user/create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// 3-32 characters of `A-Za-z0-9_.-`; surrounding whitespace is ignored.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub username: String,
    /// `local@domain.tld`: no whitespace or control characters, one `@`, a
    /// dot inside the domain; at most 254 characters. Surrounding whitespace is ignored.
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 254))]
    #[serde(default)]
    pub email: String,
    /// 8-128 characters, not only white space (v1.3).
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 8, max_length = 128)
    )]
    #[serde(default)]
    pub password: String,
    /// Optional: at most 100 characters, no control characters; surrounding whitespace is ignored.
    #[serde(default)]
    pub first_name: String,
    /// Optional: at most 100 characters, no control characters; surrounding whitespace is ignored.
    #[serde(default)]
    pub last_name: String,
}

/// What is wrong with `password` as a new account's password, or `None`:
/// 8-128 characters, not only white space (contract v1.3). The one rule: the
/// users service refuses with it (422 on `password`), and the SPA's sign-up
/// form checks it before sending.
pub fn password_problem(password: &str) -> Option<&'static str> {
    let chars = password.chars().count();
    if chars == 0 {
        Some("is required")
    } else if password.chars().all(char::is_whitespace) {
        Some("must not be only white space")
    } else if chars < 8 {
        Some("must be at least 8 characters")
    } else if chars > 128 {
        Some("must be at most 128 characters")
    } else {
        None
    }
}

/// `POST /api/user/login`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Required, not blank (a blank one is a 422, not a 401).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub username: String,
    /// Required, not blank.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub password: String,
}

/// The answer to a successful login: the token to send as `Authorization: Bearer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub message: String,
    pub api_key: String,
}

/// The answer to `POST /api/user/logout-all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutAllBody {
    pub message: String,
    /// How many live tokens were revoked.
    pub revoked: usize,
}

#[cfg(test)]
mod tests {
    use super::password_problem;

    #[test]
    fn passwords_are_8_to_128_characters_not_only_white_space() {
        assert_eq!(password_problem(""), Some("is required"));
        assert_eq!(
            password_problem("1234567"),
            Some("must be at least 8 characters")
        );
        assert_eq!(password_problem("12345678"), None);
        assert_eq!(password_problem(" correct horse "), None);
        assert_eq!(password_problem(&"é".repeat(128)), None);
        assert!(password_problem(&"x".repeat(129)).is_some());
        for blank in [
            "        ",
            "\t\t\t\t\n\n\n\n",
            "\u{3000}\u{3000}\u{a0}\u{2003}     ",
            "  ",
        ] {
            assert_eq!(
                password_problem(blank),
                Some("must not be only white space"),
                "{blank:?}"
            );
        }
    }
}
