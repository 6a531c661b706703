//! A checkout refused for stock (409 `out_of_stock`, contract v1.2): which lines
//! of the cart are short and what is left of each, and one button that sets
//! every short line to what is left so the shopper can check out again.
//!
//! The state lives above the cart's contents ([`StockCheck`]): the contents are
//! drawn anew whenever the cart changes, and the outcome of adjusting must
//! survive exactly that change.

use leptos::prelude::*;
use shared::stock::left_in;
use shared::Order;

use crate::a11y::{focus_when_drawn, refocus_by_id};
use crate::api::ApiError;
use crate::components::Busy;
use crate::state::{use_shop, Shop};

/// One line the products service could not fill.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortage {
    pub product_id: i64,
    /// The name stored in the cart line (a hidden product keeps it).
    pub name: String,
    pub in_cart: i64,
    /// Units left to sell (0 when none, or off sale).
    pub left: i64,
    /// The service's own sentence: "only 2 left", "no longer on sale".
    pub reason: String,
}

/// The short lines named by a 409 `out_of_stock`, in cart order; `None` for any
/// other error.
pub fn shortages(e: &ApiError, order: &Order) -> Option<Vec<Shortage>> {
    if e.code() != Some("out_of_stock") {
        return None;
    }
    let fields = e.fields();
    let mut short: Vec<Shortage> = order
        .items
        .iter()
        .filter_map(|item| {
            let reason = fields.get(&item.product.to_string())?;
            Some(Shortage {
                product_id: item.product,
                name: item.name.clone(),
                in_cart: item.quantity,
                left: left_in(reason),
                reason: reason.clone(),
            })
        })
        .collect();
    // A product the cart on screen does not show (changed elsewhere): still named.
    for (id, reason) in &fields {
        let Ok(product_id) = id.parse::<i64>() else {
            continue;
        };
        if !short.iter().any(|s| s.product_id == product_id) {
            short.push(Shortage {
                product_id,
                name: format!("Product {product_id}"),
                in_cart: 0,
                left: left_in(reason),
                reason: reason.clone(),
            });
        }
    }
    Some(short)
}

/// What adjusting did to one line.
#[derive(Debug, Clone, PartialEq)]
struct Adjusted {
    name: String,
    from: i64,
    to: i64,
}

fn summary(changes: &[Adjusted]) -> String {
    if changes.is_empty() {
        return "Your cart already holds no more than what is left. Check out again when ready."
            .to_string();
    }
    let parts: Vec<String> = changes
        .iter()
        .map(|c| match c.to {
            0 => format!("{} removed", c.name),
            n => format!("{} now {n} (was {})", c.name, c.from),
        })
        .collect();
    format!(
        "Your cart is adjusted to what is left: {}. Check it and check out again.",
        parts.join("; ")
    )
}

/// Sets each short line to what is left (0 removes it), one call per line, as
/// the cart holds them now: the shopper may have changed a line since the
/// checkout was refused. Stops at the first failure; says what it changed.
async fn adjust_cart(shop: Shop, lines: &[Shortage]) -> (Vec<Adjusted>, Result<(), ApiError>) {
    let mut changes = Vec::new();
    for s in lines {
        let current = shop
            .cart
            .get_untracked()
            .and_then(Result::ok)
            .flatten()
            .and_then(|o| {
                o.items
                    .iter()
                    .find(|i| i.product == s.product_id)
                    .map(|i| i.quantity)
            })
            .unwrap_or(0);
        let to = current.min(s.left);
        if current == 0 || to == current {
            continue;
        }
        match shop.api.update_item(s.product_id, to).await {
            Ok(order) => {
                shop.set_cart(Some(order));
                changes.push(Adjusted {
                    name: s.name.clone(),
                    from: current,
                    to,
                });
            }
            Err(e) => return (changes, Err(e)),
        }
    }
    (changes, Ok(()))
}

/// The stock problem of the cart page, and the adjusting of the cart.
#[derive(Clone, Copy)]
pub struct StockCheck {
    /// The short lines of the last refused checkout, until adjusted or checked out.
    pub short: RwSignal<Option<Vec<Shortage>>>,
    /// What the last adjusting did.
    pub adjusted: RwSignal<Option<String>>,
    /// Why the last adjusting stopped.
    failed: RwSignal<Option<ApiError>>,
    busy: Busy,
}

/// The id of the cart's "Check out" button, where focus goes after adjusting.
pub const CHECKOUT_ID: &str = "checkout";
const ADJUST_ID: &str = "adjust-cart";

impl StockCheck {
    pub fn new() -> Self {
        Self {
            short: RwSignal::new(None),
            adjusted: RwSignal::new(None),
            failed: RwSignal::new(None),
            busy: Busy::new(),
        }
    }

    /// A checkout was refused: show its short lines and offer to adjust.
    pub fn refused(&self, short: Vec<Shortage>) {
        self.adjusted.set(None);
        self.failed.set(None);
        self.short.set(Some(short));
        focus_when_drawn(ADJUST_ID.to_string());
    }

    /// "Adjust my cart to what is left".
    fn adjust(&self) {
        let this = *self;
        let shop = use_shop();
        let lines = self.short.get_untracked().unwrap_or_default();
        self.busy.run(async move {
            let (changes, result) = adjust_cart(shop, &lines).await;
            match result {
                Ok(()) => {
                    this.short.try_set(None);
                    this.adjusted.try_set(Some(summary(&changes)));
                    // The notice and its button are gone: go on to "Check out"
                    // (the heading when the cart is now empty).
                    refocus_by_id(CHECKOUT_ID.to_string());
                }
                Err(e) => {
                    this.failed.try_set(Some(e));
                }
            }
        });
    }

    /// A new checkout attempt: earlier outcomes no longer apply.
    pub fn clear(&self) {
        self.short.set(None);
        self.adjusted.set(None);
    }
}

/// The notice of a refused checkout (an alert) or of an adjusted cart (a
/// status). Both regions are always in the page so that what appears in them
/// is announced.
#[component]
pub fn StockNotices(check: StockCheck) -> impl IntoView {
    let busy = move || check.busy.is_busy();
    let failed = move || {
        check
            .failed
            .get()
            .map(|e| view! { <p class="notice-text" data-testid="adjust-failed">{format!("The cart was not adjusted: {e}")}</p> })
    };
    let short_notice = move || {
        check.short.get().map(|lines| {
            let count = lines.len();
            let heading = if count == 1 {
                "One item is short in stock".to_string()
            } else {
                format!("{count} items are short in stock")
            };
            view! {
                <div class="notice notice-warning stock-problem" data-testid="out-of-stock">
                    <h2 class="notice-title">{heading}</h2>
                    <p class="notice-text">"Nothing was charged and your cart is unchanged. What is left:"</p>
                    <ul class="short-lines">
                        {lines.into_iter().map(|s| view! { <ShortLine s /> }).collect_view()}
                    </ul>
                    {failed}
                    <button
                        type="button"
                        id=ADJUST_ID
                        class="button button-primary"
                        on:click=move |_| check.adjust()
                    >
                        {move || if busy() { "Adjusting…" } else { "Adjust my cart to what is left" }}
                    </button>
                </div>
            }
        })
    };
    view! {
        <div role="alert" class="cart-stock">{short_notice}</div>
        <div role="status" class="cart-stock">
            {move || check.adjusted.get().map(|text| view! {
                <div class="notice notice-success" data-testid="cart-adjusted">{text}</div>
            })}
        </div>
    }
}

#[component]
fn ShortLine(s: Shortage) -> impl IntoView {
    let what = if s.in_cart > 0 {
        format!(": {} in your cart, {}.", s.in_cart, s.reason)
    } else {
        format!(": {}.", s.reason)
    };
    view! {
        <li data-testid="short-line" data-product=s.product_id.to_string()>
            <strong>{s.name}</strong>
            {what}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{ErrorBody, Item};

    fn order() -> Order {
        let item = |product, name: &str, quantity| Item {
            product,
            name: name.into(),
            unit_price: 100,
            quantity,
            line_total: 100 * quantity,
        };
        Order {
            id: 1,
            user_id: 1,
            is_open: true,
            items: vec![item(3, "Lamp", 5), item(4, "Mug", 1), item(5, "Cup", 2)],
            total: 800,
            ..Default::default()
        }
    }

    fn refusal(code: &str, fields: &[(&str, &str)]) -> ApiError {
        ApiError::Rejected {
            status: 409,
            body: ErrorBody {
                message: "Not enough stock".into(),
                error: code.into(),
                fields: Some(
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
            },
        }
    }

    #[test]
    fn short_lines_are_named_as_in_the_cart_with_what_is_left() {
        let e = refusal(
            "out_of_stock",
            &[("3", "only 2 left"), ("4", "no longer on sale")],
        );
        let short = shortages(&e, &order()).unwrap();
        assert_eq!(short.len(), 2);
        assert_eq!(
            (short[0].name.as_str(), short[0].in_cart, short[0].left),
            ("Lamp", 5, 2)
        );
        assert_eq!((short[1].name.as_str(), short[1].left), ("Mug", 0));
        assert!(shortages(&refusal("empty_order", &[]), &order()).is_none());
    }

    #[test]
    fn the_summary_says_what_changed() {
        let changes = [
            Adjusted {
                name: "Lamp".into(),
                from: 5,
                to: 2,
            },
            Adjusted {
                name: "Mug".into(),
                from: 1,
                to: 0,
            },
        ];
        assert_eq!(
            summary(&changes),
            "Your cart is adjusted to what is left: Lamp now 2 (was 5); Mug removed. Check it and check out again."
        );
    }
}
