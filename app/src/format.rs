//! How numbers and times read on screen.

use chrono::{DateTime, Utc};

/// Cents as dollars: `1234` is `$12.34` (the services say prices the same way).
pub use shared::money::money;

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

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A contract time (UTC) in the browser's own time zone: `1 May 2024, 16:03`.
/// Shoppers read their own clock; the `datetime` attribute keeps the exact instant.
pub fn local_time(t: &DateTime<Utc>) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    format!(
        "{} {} {}, {:02}:{:02}",
        date.get_date(),
        MONTHS[(date.get_month() as usize).min(11)],
        date.get_full_year(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// How a form field is called on screen, for the API's field names.
pub fn field_label(name: &str) -> String {
    match name {
        "qty" => "Quantity".into(),
        "product_id" => "Product".into(),
        "first_name" => "First name".into(),
        "last_name" => "Last name".into(),
        "image" => "Image URL".into(),
        other => {
            let mut chars = other.chars();
            match chars.next() {
                // The API's field names are ASCII (`postal_code`).
                Some(c) => std::iter::once(c.to_ascii_uppercase())
                    .chain(chars)
                    .collect::<String>()
                    .replace('_', " "),
                None => String::new(),
            }
        }
    }
}

/// A service's field problem (`"is required (whole cents)"`) as a sentence for
/// people: `"Price is required."`. Amounts in cents read as dollars, since every
/// money field is typed in dollars.
pub fn field_problem(label: &str, problem: &str) -> String {
    let mut text = problem.trim().replace(" (whole cents)", "");
    text = cents_to_dollars(&text);
    let starts_upper = text.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let mut sentence = if starts_upper || label.is_empty() {
        text
    } else {
        format!("{label} {text}")
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// `"at most 100000 cents"` becomes `"at most $1,000.00"`.
fn cents_to_dollars(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let amount = words[i].parse::<i64>().ok();
        match (
            amount,
            words.get(i + 1).map(|w| w.trim_end_matches(['.', ','])),
        ) {
            (Some(n), Some("cents" | "cent")) => {
                let tail = &words[i + 1][words[i + 1].trim_end_matches(['.', ',']).len()..];
                out.push(format!("{}{tail}", money(n)));
                i += 2;
            }
            _ => {
                out.push(words[i].to_string());
                i += 1;
            }
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_problems_read_as_sentences_in_dollars() {
        assert_eq!(
            field_problem("Price", "is required (whole cents)"),
            "Price is required."
        );
        assert_eq!(
            field_problem("Price", "must be at most 100000000 cents"),
            "Price must be at most $1,000,000.00."
        );
        assert_eq!(field_problem("Name", "Already taken."), "Already taken.");
        assert_eq!(field_label("first_name"), "First name");
        assert_eq!(field_label("email"), "Email");
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
