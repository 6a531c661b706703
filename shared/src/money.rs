//! Money as people read it: the SPA shows prices this way, and the services
//! name a changed price the same way in a 409's `fields`.

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
}
