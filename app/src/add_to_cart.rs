//! "Add to cart", on the product page and on catalogue cards: one press adds once.
//!
//! Each add is a [`Press`]: a press while a call is in flight is ignored (the
//! flag is set before the call starts, so even two events in one frame add
//! once) and the button says it is busy. A press within half a second of the
//! one before, however fast that add was answered, is the same intent: it is
//! sent with the same `Idempotency-Key`, so the service answers it with the
//! first add's answer and adds nothing (a shaky double-click); a deliberate
//! second add after that still adds. Otherwise each intended add carries a key
//! of its own, reused only when the same add is retried after an outage.
//!
//! A successful add also opens the toast ([`crate::toast`]); a failed one
//! closes it, the problem being said beside the button.
//!
//! A sold-out product's button stays in place but refuses presses, described by
//! the visible "Out of stock" notice (see [`crate::stock`]); a product with few
//! left takes at most what is left.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};
use shared::Product;

use crate::api::ApiError;
use crate::components::QuantityInput;
use crate::links::login_href;
use crate::press::Press;
use crate::quantity::{parse_quantity, ADD_RANGE};
use crate::state::use_shop;
use crate::stock::Availability;

/// What an add did: how many were added and how many of the product the cart holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct Added {
    pub qty: i64,
    pub in_cart: i64,
}

/// How much more of a product this cart can take at add time: stock counts
/// what is left to sell, and the units already in this cart are part of it
/// (they are only reserved at checkout, which would refuse the excess).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room {
    /// What was left when the page was drawn (`None`: not counted).
    pub left: Option<i64>,
    /// How many this cart holds now.
    pub held: i64,
}

impl Room {
    /// How many more may be added (`None`: no limit from stock). Only when
    /// few are left (see [`crate::stock::FEW_LEFT`]), as the notices say:
    /// past that, checkout (and the 999 a line holds) has the final word.
    pub fn more(self) -> Option<i64> {
        self.left
            .filter(|&m| m <= crate::stock::FEW_LEFT)
            .map(|m| (m - self.held).max(0))
    }

    /// Everything left is in this cart already (and there was some).
    pub fn full(self) -> bool {
        self.held > 0 && self.more() == Some(0)
    }

    /// Why `qty` more cannot be added, if so.
    pub fn refuses(self, qty: i64) -> Option<String> {
        let (left, more) = (self.left?, self.more()?);
        if self.full() {
            Some(format!(
                "You have all {left} left in your cart: no more can be added."
            ))
        } else if qty > more && self.held > 0 {
            Some(format!(
                "Only {left} left and you have {} in your cart: add at most {more}.",
                self.held
            ))
        } else {
            None
        }
    }

    /// "3 of the 5 left", said when few are left (see [`crate::stock::FEW_LEFT`]).
    pub fn share(self, in_cart: i64) -> Option<String> {
        self.left
            .filter(|&m| m <= crate::stock::FEW_LEFT && in_cart > 0)
            .map(|m| format!("{in_cart} of the {m} left"))
    }
}

/// One product's add action, shared by a form or a single button: a
/// [`Press`] (one add per press, the same key for a shaky double-click).
#[derive(Clone, Copy)]
pub struct Adder {
    press: Press,
    pub outcome: RwSignal<Option<Result<Added, ApiError>>>,
    product_id: i64,
    /// Its name and picture, for the toast.
    look: StoredValue<(String, String)>,
}

impl Adder {
    pub fn new(product: &Product) -> Self {
        Self {
            press: Press::new(),
            outcome: RwSignal::new(None),
            product_id: product.id,
            look: StoredValue::new((product.name.clone(), product.image.clone())),
        }
    }

    /// Whether an add is on its way (tracked).
    pub fn is_busy(&self) -> bool {
        self.press.is_busy()
    }

    /// Adds `qty`, unless an add is already on its way; a press within
    /// [`crate::press::SAME_PRESS_MS`] of the same add's press repeats its key.
    pub fn add(&self, qty: i64) {
        let this = *self;
        let shop = use_shop();
        let what = format!("{}x{qty}", self.product_id);
        self.press.run(what, move |key| async move {
            let result = shop.api.add_item(this.product_id, qty, &key).await;
            let settled = !result.as_ref().is_err_and(ApiError::is_outage);
            let result = result.map(|order| {
                let in_cart = order
                    .items
                    .iter()
                    .find(|i| i.product == this.product_id)
                    .map_or(0, |i| i.quantity);
                // Not once the page is gone: the toast would tell of another page.
                if let Some((name, image)) = this.look.try_get_value() {
                    let subtotal = order.total;
                    let toast = crate::toast::Toast {
                        name,
                        image,
                        qty,
                        subtotal,
                    };
                    shop.toast.set(Some(toast));
                }
                shop.set_cart(Some(order));
                Added { qty, in_cart }
            });
            if result.is_err() {
                shop.toast.set(None);
            }
            this.outcome.try_set(Some(result));
            settled
        });
    }
}

/// Why an add was refused, in words; the API's own field message when it has one
/// (the 999-per-line limit).
pub fn add_problem(e: &ApiError) -> String {
    match e.fields().get("qty") {
        Some(problem) => format!("Not added: it {problem}."),
        None => e.to_string(),
    }
}

/// The product page's form: quantity, button, and what happened. `stock_note`
/// is the id of the visible stock notice that explains a refused button;
/// `product.stock` is what was left when the page was drawn.
#[component]
pub fn AddToCartForm(product: Product, stock_note: String) -> impl IntoView {
    let shop = use_shop();
    let adder = Adder::new(&product);
    let availability = Availability::of(&product);
    let (product_id, left, name) = (product.id, product.stock, product.name);
    let qty = RwSignal::new("1".to_string());
    let invalid = RwSignal::new(None::<String>);
    let sold_out = !availability.can_add();
    let range = (ADD_RANGE.0, availability.add_limit(ADD_RANGE.1));
    let room = move || Room {
        left,
        held: shop.in_cart(product_id),
    };
    let hint = move || {
        let r = room();
        match (availability, r.more()) {
            _ if r.full() => format!(
                "You have all {} left in your cart.",
                r.left.unwrap_or(r.held)
            ),
            (Availability::FewLeft(n), Some(more)) if r.held > 0 => {
                format!(
                    "You have {} of the {n} left in your cart: add up to {more}.",
                    r.held
                )
            }
            (Availability::FewLeft(n), _) => format!("1 to {n}: only {n} left."),
            _ => "1 to 99 at a time; up to 999 in the cart.".to_string(),
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sold_out {
            return;
        }
        let checked = parse_quantity(&qty.get_untracked(), range)
            .and_then(|n| room().refuses(n).map_or(Ok(n), Err));
        match checked {
            Ok(n) => {
                invalid.set(None);
                adder.add(n);
            }
            Err(problem) => {
                invalid.set(Some(problem));
                crate::a11y::refocus_by_id("qty".into());
            }
        }
    };
    let location = use_location();
    let login = move || {
        login_href(&format!(
            "{}{}",
            location.pathname.get(),
            query(&location.search.get())
        ))
    };
    view! {
        <Show
            when=move || shop.session.is_logged_in()
            fallback=move || view! {
                <p class="login-hint">
                    <A href=login>"Log in"</A>
                    " to add this to your cart."
                </p>
            }
        >
            <form class="add-to-cart" on:submit=on_submit novalidate>
                <div class="field field-inline" class:invalid=move || invalid.with(Option::is_some)>
                    <label for="qty">"Quantity"</label>
                    <QuantityInput
                        id="qty".into()
                        value=qty
                        error=invalid.into()
                        error_id="qty-error qty-hint".into()
                        disabled=Signal::stored(sold_out)
                    />
                    <AddButton adder label=None sold_out described_by=stock_note.clone() />
                </div>
                <p class="hint" id="qty-hint" hidden=sold_out data-testid="qty-hint">{hint}</p>
                <p class="field-error" id="qty-error">{move || invalid.get()}</p>
            </form>
            <AddOutcome adder name=name.clone() left />
        </Show>
    }
}

/// The button: busy while the add is in flight, but still focusable (a disabled
/// button would drop keyboard focus to the page). Sold out, it is refused the
/// same way, so keyboard and screen reader users still reach it and hear why
/// (`described_by`: the visible stock notice).
#[component]
fn AddButton(
    adder: Adder,
    label: Option<String>,
    #[prop(optional)] on_press: Option<Callback<()>>,
    #[prop(optional)] sold_out: bool,
    #[prop(optional, into)] described_by: Option<String>,
) -> impl IntoView {
    let busy = move || adder.is_busy();
    view! {
        <button
            type="submit"
            class="button"
            class:busy=busy
            class:sold-out=sold_out
            aria-disabled=move || if sold_out || busy() { "true" } else { "false" }
            aria-describedby=described_by.filter(|_| sold_out)
            on:click=move |ev| {
                if sold_out || adder.press.is_busy_untracked() {
                    ev.prevent_default();
                } else if let Some(press) = on_press {
                    ev.prevent_default();
                    press.run(());
                }
            }
        >
            // A sold-out button says so itself, not only the notice beside it.
            {move || if busy() { "Adding…" } else if sold_out { "Sold out" } else { "Add to cart" }}
            {label.clone().map(|l| view! { <span class="visually-hidden">{format!(": {l}")}</span> })}
        </button>
    }
}

/// The sentence after an add, in a live region that is always there.
#[component]
fn AddOutcome(adder: Adder, name: String, left: Option<i64>) -> impl IntoView {
    let text = move || {
        adder.outcome.get().map(|r| match r {
            Ok(a) => view! {
                <div class="notice notice-success" data-testid="added">
                    {format!("Added {} to your cart. You now have {} of {} in your cart", a.qty, a.in_cart, name)}
                    {Room { left, held: a.in_cart }.share(a.in_cart).map(|s| format!(", {s}"))}
                    ". "
                    <A href="/cart">"View cart"</A>
                </div>
            }
            .into_any(),
            Err(e) => view! { <div class="notice notice-warning">{add_problem(&e)}</div> }.into_any(),
        })
    };
    view! { <div role="status" class="add-outcome">{text}</div> }
}

/// The catalogue card's one-press add (one piece); logged-out shoppers go to log in
/// and come back to this page. `stock_note`: as for [`AddToCartForm`].
#[component]
pub fn AddToCartButton(product: Product, stock_note: String) -> impl IntoView {
    let sold_out = !Availability::of(&product).can_add();
    let shop = use_shop();
    let adder = Adder::new(&product);
    let (product_id, left, name) = (product.id, product.stock, product.name);
    let refused = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let location = use_location();
    let add_one = move || {
        let room = Room {
            left,
            held: untrack(|| shop.in_cart(product_id)),
        };
        refused.set(room.refuses(1));
        if refused.get_untracked().is_none() {
            adder.add(1);
        }
    };
    // Pressed while logged out: the add is done on coming back from login.
    Effect::new(move |_| {
        if shop.session.is_logged_in() && !sold_out && pending::take(product_id) {
            add_one();
        }
    });
    let press = Callback::new(move |_| {
        if shop.session.is_logged_in_untracked() {
            add_one();
        } else {
            pending::remember(product_id);
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                query(&location.search.get_untracked())
            );
            navigate(&login_href(&here), Default::default());
        }
    });
    let status = move || {
        if let Some(why) = refused.get() {
            return Some(why);
        }
        adder.outcome.get().map(|r| match r {
            Ok(a) => match (Room {
                left,
                held: a.in_cart,
            })
            .share(a.in_cart)
            {
                Some(share) => format!("{share} in your cart"),
                None => format!("{} in your cart", a.in_cart),
            },
            Err(e) => add_problem(&e),
        })
    };
    view! {
        <div class="card-add">
            <AddButton adder label=Some(name) on_press=press sold_out described_by=stock_note />
            <p role="status" class="card-add-status">{status}</p>
        </div>
    }
}

/// An add pressed while logged out, kept in the tab's session storage across
/// the login (and a registration) and done by the card once back, for a while.
mod pending {
    /// The storage key: `"<product id>:<when, ms>"`.
    const KEY: &str = "cartwheel.pending-add";
    /// After this long the shopper has moved on: the add is dropped.
    const KEEP_MS: i64 = 10 * 60_000;

    /// Now in whole milliseconds: an integer, so that neither writing nor
    /// reading the key needs float formatting and parsing in the WASM.
    fn now() -> i64 {
        js_sys::Date::now() as i64
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok().flatten()
    }

    pub fn remember(product_id: i64) {
        if let Some(s) = storage() {
            let _ = s.set_item(KEY, &format!("{product_id}:{}", now()));
        }
    }

    /// Whether an add of this product is waiting; it is taken (done once).
    pub fn take(product_id: i64) -> bool {
        let Some(s) = storage() else { return false };
        let Some(kept) = s.get_item(KEY).ok().flatten() else {
            return false;
        };
        let Some((id, at)) = kept.split_once(':') else {
            let _ = s.remove_item(KEY);
            return false;
        };
        let fresh = at.parse::<i64>().is_ok_and(|at| now() - at < KEEP_MS);
        if !fresh {
            let _ = s.remove_item(KEY);
            return false;
        }
        if id != product_id.to_string() {
            return false;
        }
        let _ = s.remove_item(KEY);
        true
    }
}

fn query(search: &str) -> String {
    if search.is_empty() {
        String::new()
    } else {
        format!("?{}", search.trim_start_matches('?'))
    }
}

#[cfg(test)]
mod tests {
    use super::Room;

    #[test]
    fn what_is_in_the_cart_counts_against_what_is_left() {
        let room = |left, held| Room { left, held };
        assert_eq!(room(None, 40).refuses(99), None, "not counted: no limit");
        assert_eq!(room(Some(3), 0).refuses(3), None);
        assert_eq!(room(Some(3), 2).more(), Some(1));
        assert_eq!(room(Some(3), 2).refuses(1), None);
        assert!(room(Some(3), 2)
            .refuses(2)
            .unwrap()
            .contains("add at most 1"));
        assert!(room(Some(3), 3).full());
        assert!(room(Some(3), 3).refuses(1).unwrap().contains("all 3 left"));
        assert!(!room(Some(0), 0).full(), "sold out is said elsewhere");
        assert_eq!(
            room(Some(3), 2).share(2).as_deref(),
            Some("2 of the 3 left")
        );
        assert_eq!(room(Some(40), 2).share(2), None, "plenty: nothing said");
        assert_eq!(
            room(Some(40), 950).refuses(99),
            None,
            "plenty: the service says"
        );
    }
}
