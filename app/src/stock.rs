//! How much of a product is left, as shoppers and admins read it (contract v1.2).
//!
//! `stock: null` means the shop does not count this product: it never runs out,
//! and shoppers are told nothing. Counted stock is only mentioned when it is low
//! enough to matter for a decision ("Only 3 left") or gone ("Out of stock").

use leptos::prelude::*;
use shared::Product;

/// At or below this many units, a shopper is told how many are left. Higher
/// counts say nothing useful and would read like sales pressure.
pub const FEW_LEFT: i64 = 5;

/// The most units the products service accepts for `stock`.
pub const MAX_STOCK: i64 = 1_000_000;

/// What a shopper can be told about a product's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Not tracked, or more than [`FEW_LEFT`]: nothing to say.
    Plenty,
    /// 1 to [`FEW_LEFT`] units.
    FewLeft(i64),
    /// None left (or off sale): it cannot be added to a cart.
    SoldOut,
}

impl Availability {
    pub fn of(product: &Product) -> Self {
        if !product.in_stock() {
            return Availability::SoldOut;
        }
        match product.stock {
            Some(n) if n <= FEW_LEFT => Availability::FewLeft(n),
            _ => Availability::Plenty,
        }
    }

    pub fn can_add(self) -> bool {
        self != Availability::SoldOut
    }

    /// The most a shopper may add at once: never more than is left.
    pub fn add_limit(self, usual: i64) -> i64 {
        match self {
            Availability::FewLeft(n) => usual.min(n),
            _ => usual,
        }
    }

    /// The sentence shown, if any.
    pub fn text(self) -> Option<String> {
        match self {
            Availability::Plenty => None,
            Availability::FewLeft(n) => Some(format!("Only {n} left")),
            Availability::SoldOut => Some("Out of stock".to_string()),
        }
    }
}

/// The id of a product's stock notice, for `aria-describedby` on its add button.
pub fn notice_id(scope: &str, product_id: i64) -> String {
    format!("{scope}-stock-{product_id}")
}

/// "Only N left" or "Out of stock" beside a product. The element is always there
/// (empty when there is nothing to say) so that cards keep one height whatever
/// their stock: no layout shift between cards or when stock changes.
#[component]
pub fn StockNotice(availability: Availability, id: String) -> impl IntoView {
    let class = match availability {
        Availability::Plenty => "stock-note",
        Availability::FewLeft(_) => "stock-note stock-few",
        Availability::SoldOut => "stock-note stock-out",
    };
    view! {
        <p class=class id=id data-testid="stock-note">
            {availability.text()}
        </p>
    }
}

/// A stock level typed by an admin: empty means "not tracked" (`None`), else a
/// whole number from 0 to [`MAX_STOCK`].
pub fn parse_stock(typed: &str) -> Result<Option<i64>, String> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<i64>() {
        Ok(n) if t.chars().all(|c| c.is_ascii_digit()) && n <= MAX_STOCK => Ok(Some(n)),
        _ => Err(
            "Stock must be a whole number from 0 to 1,000,000, or empty for not tracked."
                .to_string(),
        ),
    }
}

/// How an admin reads a product's stock.
pub fn admin_stock_text(stock: Option<i64>) -> String {
    match stock {
        None => "not tracked".to_string(),
        Some(0) => "0 (out of stock)".to_string(),
        Some(n) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(stock: Option<i64>, hidden: bool) -> Product {
        Product {
            id: 1,
            name: "Lamp".into(),
            slug: "lamp".into(),
            price: 100,
            image: String::new(),
            description: String::new(),
            stock,
            hidden,
        }
    }

    #[test]
    fn only_low_or_no_stock_is_mentioned() {
        assert_eq!(
            Availability::of(&product(None, false)),
            Availability::Plenty
        );
        assert_eq!(
            Availability::of(&product(Some(6), false)),
            Availability::Plenty
        );
        assert_eq!(
            Availability::of(&product(Some(5), false)),
            Availability::FewLeft(5)
        );
        assert_eq!(
            Availability::of(&product(Some(0), false)),
            Availability::SoldOut
        );
        assert_eq!(
            Availability::of(&product(None, true)),
            Availability::SoldOut
        );
        assert_eq!(Availability::FewLeft(2).text().unwrap(), "Only 2 left");
        assert_eq!(Availability::FewLeft(2).add_limit(99), 2);
        assert_eq!(Availability::Plenty.add_limit(99), 99);
    }

    #[test]
    fn typed_stock_is_a_count_or_empty() {
        assert_eq!(parse_stock(""), Ok(None));
        assert_eq!(parse_stock(" 12 "), Ok(Some(12)));
        assert_eq!(parse_stock("0"), Ok(Some(0)));
        assert_eq!(parse_stock("1000000"), Ok(Some(1_000_000)));
        for bad in ["-1", "1.5", "1000001", "ten", "+3"] {
            assert!(parse_stock(bad).is_err(), "{bad}");
        }
    }
}
