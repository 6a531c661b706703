//! Quantities typed by people: kept exactly as typed, accepted only when they are
//! a whole number in range, otherwise refused with a sentence saying why.

/// The contract's range for one add-item call.
pub const ADD_RANGE: (i64, i64) = (1, 99);
/// The contract's range for update-item (v1.1): 0 removes the line.
pub const LINE_RANGE: (i64, i64) = (0, 999);

/// Reads a typed quantity: digits only (no sign, decimal point or exponent).
pub fn parse_quantity(typed: &str, (min, max): (i64, i64)) -> Result<i64, String> {
    let t = typed.trim();
    let range = format!("from {min} to {max}");
    if t.is_empty() {
        return Err(format!("Enter a quantity {range}."));
    }
    if !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "“{t}” is not a whole number. Enter a quantity {range}."
        ));
    }
    match t.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{t} is out of range. Enter a quantity {range}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_in_range_are_taken() {
        assert_eq!(parse_quantity("3", ADD_RANGE), Ok(3));
        assert_eq!(parse_quantity(" 99 ", ADD_RANGE), Ok(99));
        assert_eq!(parse_quantity("0", LINE_RANGE), Ok(0));
        assert_eq!(parse_quantity("999", LINE_RANGE), Ok(999));
    }

    #[test]
    fn anything_else_is_refused_never_rewritten() {
        for typed in ["1.5", "-1", "-3", "1e2", "", "abc", "+2", "0x10"] {
            assert!(parse_quantity(typed, ADD_RANGE).is_err(), "{typed}");
        }
        assert!(parse_quantity("0", ADD_RANGE).is_err());
        assert!(parse_quantity("100", ADD_RANGE).is_err());
        assert!(parse_quantity("1000", LINE_RANGE).is_err());
        assert!(parse_quantity("99999999999999999999", LINE_RANGE).is_err());
    }
}
