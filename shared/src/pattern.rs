//! The text rules of the request fields as JSON Schema patterns, for the
//! services' OpenAPI documents: each written once from the same two
//! character classes, next to the rule it mirrors. An attribute can only
//! hold a literal, so the documents put them on their fields afterwards
//! (`server::openapi`), from [`FIELDS`] and [`QUERY_PARAMS`].
//!
//! White space is what Rust's `char::is_whitespace` (and so `str::trim`,
//! with which every parser strips a value) says it is; a control character
//! is `char::is_control`.

/// Inside a character class: the white space beyond Latin-1.
macro_rules! wide_space {
    () => {
        r"\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// Inside a character class: all white space (`char::is_whitespace`).
macro_rules! space {
    () => {
        concat!(r"\t-\r \x85\xa0", wide_space!())
    };
}

/// Inside a character class: control characters and white space together
/// (the Latin-1 ones merge into two ranges).
macro_rules! control_or_space {
    () => {
        concat!(r"\x00-\x20\x7f-\xa0", wide_space!())
    };
}

/// Surrounding white space, which the parsers ignore.
macro_rules! padding {
    () => {
        concat!("[", space!(), "]*")
    };
}

/// A character that is neither white space nor a control character.
macro_rules! visible {
    () => {
        concat!("[^", control_or_space!(), "]")
    };
}

/// A character that is not a control character.
macro_rules! not_control {
    () => {
        r"[^\x00-\x1f\x7f-\x9f]"
    };
}

/// 1 to `$inner + 2` printable characters once trimmed: something visible at
/// each end, no control character between (`order::printable_problem`, the
/// users service's names).
macro_rules! printable {
    ($inner:literal) => {
        concat!(
            visible!(),
            "(?:",
            not_control!(),
            "{0,",
            $inner,
            "}",
            visible!(),
            ")?"
        )
    };
}

/// Not blank: some character other than white space, and no NUL (a login's
/// username and password, a new password: `password_problem`).
pub const NOT_BLANK: &str = concat!(r"^[^\x00]*[^\x00", space!(), r"][^\x00]*$");

/// A username: 3-32 of `A-Za-z0-9_.-` (the users service's `Username`).
pub const USERNAME: &str = concat!("^", padding!(), "[A-Za-z0-9_.-]{3,32}", padding!(), "$");

/// `local@domain.tld`: no white space or control characters, one `@`, a dot
/// inside the domain (the users service's `Email`).
pub const EMAIL: &str = concat!(
    "^",
    padding!(),
    "[^@",
    control_or_space!(),
    "]+@[^@.",
    control_or_space!(),
    "][^@",
    control_or_space!(),
    r"]*\.[^@",
    control_or_space!(),
    "]*[^@.",
    control_or_space!(),
    "]",
    padding!(),
    "$"
);

/// A first or last name: at most 100 characters, no control characters
/// (the users service's `NewUser`).
pub const PERSON_NAME: &str = concat!(
    "^",
    padding!(),
    "(?:",
    printable!(98),
    ")?",
    padding!(),
    "$"
);

/// A product's name: something visible, no control characters (the
/// products service's `ProductName`; its length is `max_length`).
pub const PRODUCT_NAME: &str = concat!("^", not_control!(), "*", visible!(), not_control!(), "*$");

/// A slug: `a-z0-9-`, not only digits, or blank (made from the name; the
/// products service's `Slug`).
pub const SLUG: &str = concat!(
    "^",
    padding!(),
    "(?:[a-z0-9-]*[a-z-][a-z0-9-]*)?",
    padding!(),
    "$"
);

/// A description: at most 2000 characters; line breaks and tabs are the
/// only control characters allowed (the products service's
/// `parse_description`).
pub const DESCRIPTION: &str = concat!(
    "^",
    padding!(),
    "(?:",
    visible!(),
    r"(?:[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]{0,1998}",
    visible!(),
    ")?)?",
    padding!(),
    "$"
);

/// A search term: at most 100 characters without NUL (the products
/// service's `SearchTerm`).
pub const SEARCH: &str = concat!(
    "^",
    padding!(),
    r"(?:[^\x00",
    space!(),
    r"](?:[^\x00]{0,98}[^\x00",
    space!(),
    "])?)?",
    padding!(),
    "$"
);

/// 1-100 printable characters once trimmed: a field of a shipping address
/// (`order::printable_problem`).
pub const ADDRESS_LINE: &str = concat!("^", padding!(), printable!(98), padding!(), "$");

/// An optional address line (`line2`): blank, or as [`ADDRESS_LINE`]; the
/// same rule as a person's name.
pub const OPTIONAL_ADDRESS_LINE: &str = PERSON_NAME;

/// 1-64 printable characters once trimmed: a tracking number.
pub const TRACKING_NUMBER: &str = concat!("^", padding!(), printable!(62), padding!(), "$");

/// Two letters (ISO 3166 alpha-2), any case.
pub const COUNTRY: &str = concat!("^", padding!(), "[A-Za-z]{2}", padding!(), "$");

/// The `status` filter: order statuses, comma-separated, or nothing (any).
pub const STATUS_LIST: &str = concat!(
    "^",
    padding!(),
    "(?:(?:open|awaiting_payment|placed|paid|shipped|delivered|cancelled)(?:",
    padding!(),
    ",",
    padding!(),
    "(?:open|awaiting_payment|placed|paid|shipped|delivered|cancelled))*)?",
    padding!(),
    "$"
);

/// Which property of which schema follows which pattern. An update's
/// fields follow the rules of creation.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("RegisterRequest", "username", USERNAME),
    ("RegisterRequest", "email", EMAIL),
    ("RegisterRequest", "password", NOT_BLANK),
    ("RegisterRequest", "first_name", PERSON_NAME),
    ("RegisterRequest", "last_name", PERSON_NAME),
    ("LoginRequest", "username", NOT_BLANK),
    ("LoginRequest", "password", NOT_BLANK),
    ("CreateProductRequest", "name", PRODUCT_NAME),
    ("CreateProductRequest", "slug", SLUG),
    ("CreateProductRequest", "description", DESCRIPTION),
    ("UpdateProductRequest", "name", PRODUCT_NAME),
    ("UpdateProductRequest", "description", DESCRIPTION),
    ("ShippingAddress", "name", ADDRESS_LINE),
    ("ShippingAddress", "line1", ADDRESS_LINE),
    ("ShippingAddress", "line2", OPTIONAL_ADDRESS_LINE),
    ("ShippingAddress", "city", ADDRESS_LINE),
    ("ShippingAddress", "postal_code", ADDRESS_LINE),
    ("ShippingAddress", "country", COUNTRY),
    ("ShipRequest", "tracking_number", TRACKING_NUMBER),
];

/// Which query parameter follows which pattern (`q` of [`crate::ProductsQuery`]).
pub const QUERY_PARAMS: &[(&str, &str)] = &[("q", SEARCH), ("status", STATUS_LIST)];

#[cfg(test)]
mod tests {

    #[test]
    fn the_classes_are_rusts_white_space_and_control_characters() {
        // Every character a class range names, against Rust's predicates.
        let range = |from: u32, to: u32| (from..=to).filter_map(char::from_u32);
        let spaces: Vec<char> = range(0, 0x3000).filter(|c| c.is_whitespace()).collect();
        let class: String = spaces.iter().collect();
        let listed = [
            '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
            '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}',
            '\u{2008}', '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}',
            '\u{3000}',
        ];
        assert_eq!(class, listed.iter().collect::<String>());
        assert!(space!().starts_with(r"\t-\r \x85\xa0"));
        let controls: Vec<char> = range(0, 0x3000).filter(|c| c.is_control()).collect();
        assert_eq!(
            controls,
            range(0, 0x1f).chain(range(0x7f, 0x9f)).collect::<Vec<_>>()
        );
    }
}
