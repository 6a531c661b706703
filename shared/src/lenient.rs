//! Numbers that arrive as JSON numbers or as strings.
//!
//! Form bodies and query strings carry every value as a string, so the contract
//! reads `"3"` as 3 and rejects `"3x"`. These deserializers accept both shapes
//! and fail with a message meant for the person who typed the value.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// An optional whole number given as a JSON number or a decimal string.
/// An empty string is refused (contract v1.1): an empty form field for a
/// number is a mistake to report, not a request for the default.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(OptI64)
}

struct OptI64;

const EXPECTED: &str = "must be a whole number";

impl<'de> Visitor<'de> for OptI64 {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptI64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("is too large"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(Some(v as i64))
        } else {
            Err(E::custom(EXPECTED))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            return Err(E::custom("must be a whole number, not empty"));
        }
        v.parse::<i64>().map(Some).map_err(|_| E::custom(EXPECTED))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(E::custom(EXPECTED))
    }
}

/// A required whole number, read as [`opt_i64`] reads one (`3`, `3.0`, `"3"`).
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_i64(d)?.ok_or_else(|| de::Error::custom("must be a whole number, not null"))
}

/// A field that may be absent (`None`, with `#[serde(default)]`) but, when
/// given, is a whole number as [`whole`] reads one: `null` is refused.
pub fn some_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole(d).map(Some)
}

/// A string field that may be absent (`None`, with `#[serde(default)]`) but,
/// when given, is a string: `null` is refused.
pub fn some_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    <String as serde::Deserialize>::deserialize(d).map(Some)
}

/// A field that may be absent (`None`, with `#[serde(default)]`), `null`
/// (`Some(None)`: "clear it") or a whole number as in [`opt_i64`].
pub fn opt_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    // Only called when the field is present.
    opt_i64(d).map(Some)
}

/// An optional boolean given as JSON `true`/`false` or the strings `"true"`
/// and `"false"` (query strings and forms).
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(OptBool)
}

struct OptBool;

impl<'de> Visitor<'de> for OptBool {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptBool)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(E::custom("must be true or false")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Q {
        #[serde(default, deserialize_with = "super::opt_i64")]
        n: Option<i64>,
    }

    fn parse(json: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Q>(json)
            .map(|q| q.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_numeric_strings_are_read() {
        assert_eq!(parse(r#"{"n": 3}"#), Ok(Some(3)));
        assert_eq!(parse(r#"{"n": "3"}"#), Ok(Some(3)));
        assert_eq!(parse(r#"{"n": " 42 "}"#), Ok(Some(42)));
        assert_eq!(parse(r#"{"n": -1}"#), Ok(Some(-1)));
        assert_eq!(parse(r#"{"n": 2.0}"#), Ok(Some(2)));
    }

    #[test]
    fn absent_and_null_are_none() {
        assert_eq!(parse(r#"{}"#), Ok(None));
        assert_eq!(parse(r#"{"n": null}"#), Ok(None));
    }

    #[test]
    fn empty_is_refused_not_defaulted() {
        assert!(parse(r#"{"n": ""}"#).unwrap_err().contains("not empty"));
        assert!(parse(r#"{"n": "  "}"#).is_err());
    }

    #[test]
    fn junk_is_refused() {
        assert!(parse(r#"{"n": "3x"}"#)
            .unwrap_err()
            .contains("whole number"));
        assert!(parse(r#"{"n": 2.5}"#).is_err());
        assert!(parse(r#"{"n": true}"#).is_err());
        assert!(parse(r#"{"n": [1]}"#).is_err());
    }

    #[derive(Deserialize, Debug)]
    struct Patch {
        #[serde(default, deserialize_with = "super::opt_opt_i64")]
        n: Option<Option<i64>>,
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        let p: Patch = serde_json::from_str("{}").unwrap();
        assert_eq!((p.n, p.b), (None, None));
        let p: Patch = serde_json::from_str(r#"{"n": null, "b": "TRUE"}"#).unwrap();
        assert_eq!((p.n, p.b), (Some(None), Some(true)));
        let p: Patch = serde_json::from_str(r#"{"n": "7", "b": false}"#).unwrap();
        assert_eq!((p.n, p.b), (Some(Some(7)), Some(false)));
        assert!(serde_json::from_str::<Patch>(r#"{"b": "yes"}"#).is_err());
        assert!(serde_json::from_str::<Patch>(r#"{"b": 1}"#).is_err());
    }
}
