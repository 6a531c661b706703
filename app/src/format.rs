//! How numbers and times read on screen.

use chrono::{DateTime, Utc};

/// Cents as dollars: `1234` is `$12.34`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let dollars = group_thousands(cents / 100);
    format!("{sign}${dollars}.{:02}", cents % 100)
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A price typed by a person (`12`, `12.5`, `$12.50`) in cents.
pub fn parse_money(input: &str) -> Option<i64> {
    let s = input.trim().trim_start_matches('$').replace(',', "");
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

/// A contract time (UTC) as `2024-05-01 14:03 UTC`.
pub fn time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_cents_as_dollars() {
        assert_eq!(money(0), "$0.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(1234), "$12.34");
        assert_eq!(money(123456789), "$1,234,567.89");
        assert_eq!(money(-250), "-$2.50");
    }

    #[test]
    fn typed_prices_become_cents() {
        assert_eq!(parse_money("12"), Some(1200));
        assert_eq!(parse_money("12.5"), Some(1250));
        assert_eq!(parse_money("$1,012.05"), Some(101205));
        assert_eq!(parse_money(".99"), Some(99));
        assert_eq!(parse_money(""), None);
        assert_eq!(parse_money("1.234"), None);
        assert_eq!(parse_money("-3"), None);
        assert_eq!(parse_money("abc"), None);
    }
}
