//! The cart: change quantities, remove lines, say where it goes, check out;
//! when checkout is refused for stock, say what is left and adjust the cart to
//! it ([`shortage`]).
//!
//! The page draws its contents once per kind of state (loading, unavailable,
//! empty, filled), not once per change of the cart: the lines are keyed by
//! product (`<For>`), so a change redraws only what changed and the control
//! that was used keeps focus by itself.

mod address;
mod shortage;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::order::OrderStatus;
use shared::{Item, Order};

use crate::a11y::{focus_heading_if_lost, use_title};
use crate::api::idempotency::Intent;
use crate::api::ApiError;
use crate::components::{Loading, Notice, OutageNotice, QuantityInput, Thumb, Tone};
use crate::format::money;
use crate::links::order_href;
use crate::order_view::status_of;
use crate::quantity::{parse_quantity, LINE_RANGE};
use crate::state::{lines_of, use_shop};
use address::{Address, AddressForm};
use shortage::{shortages, StockCheck, CHECKOUT_ID};

/// What the cart section shows; its contents are drawn anew only when this
/// changes.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Loading,
    Down(String),
    Empty,
    Filled,
}

#[component]
pub fn CartPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Your cart".into());
    shop.want_products(lines_of(shop.cart));
    let retry = Callback::new(move |_| shop.cart.refetch());
    let check = StockCheck::new();
    let address = Address::restore();
    let shown = Memo::new(move |_| match shop.cart_now() {
        None => Shown::Loading,
        Some(Ok(Some(order))) if !order.items.is_empty() => Shown::Filled,
        Some(Ok(_)) => Shown::Empty,
        Some(Err(e)) => Shown::Down(e.to_string()),
    });
    view! {
        <section class="cart-page">
            <h1>"Your cart"</h1>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=|| {
                    view! {
                        <Notice tone=Tone::Info>
                            <A href="/login?next=%2Fcart">"Log in"</A>
                            " to see your cart."
                        </Notice>
                    }
                }
            >
                <shortage::StockNotices check />
                {move || match shown.get() {
                    Shown::Loading => view! { <Loading label="Loading your cart…" /> }.into_any(),
                    Shown::Filled => view! { <CartContents check address /> }.into_any(),
                    Shown::Empty => view! { <EmptyCart /> }.into_any(),
                    Shown::Down(text) => view! {
                        <div data-testid="cart-unavailable-notice">
                            <OutageNotice text retry />
                        </div>
                    }
                    .into_any(),
                }}
            </Show>
        </section>
    }
}

#[component]
fn EmptyCart() -> impl IntoView {
    view! {
        <p class="empty" data-testid="cart-empty">
            "Your cart is empty. " <A href="/">"Browse the catalogue"</A>
        </p>
    }
}

/// A quantity change on its way: which line, to what.
type Change = (i64, i64);

/// What a failed checkout says above the lines. A 503 is an answer: the service
/// did nothing. No answer at all leaves the outcome unknown, and says how to
/// find out safely (the retry carries the same `Idempotency-Key`).
fn checkout_problem(e: &ApiError) -> String {
    match e {
        ApiError::Unavailable(_) => "Checkout is unavailable right now: nothing was charged and \
            no order was placed. Your cart is kept as it is; please try again in a moment."
            .to_string(),
        ApiError::NoAnswer(_) => "The shop did not answer, so we cannot tell whether your order \
            was placed. Press “Check out” again to find out: it will not be placed twice."
            .to_string(),
        e => e.to_string(),
    }
}

/// The lines, the total, the address and the checkout button, following the
/// cart as it changes.
#[component]
fn CartContents(check: StockCheck, address: Address) -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    // The cart as it is now (empty for a moment when it empties: the page
    // then shows the empty cart instead of this).
    let order = Memo::new(move |_| {
        shop.cart
            .get()
            .and_then(Result::ok)
            .flatten()
            .unwrap_or_default()
    });
    let items = Memo::new(move |_| order.with(|o| o.items.clone()));
    // The last failure of a change or the checkout, shown above the table.
    let problem = RwSignal::new(None::<String>);
    let checkout_intent = StoredValue::new(Intent::default());
    // The last checkout was refused for prices that went up: the button
    // confirms the new total.
    let repriced = RwSignal::new(false);
    // A change that failed, by line (and a count, so the same line failing
    // twice is seen): its field goes back to what the cart holds.
    let reverted = RwSignal::new((0_i64, 0_u32));
    let pays_by_card = shop.api.stripe().is_some();
    let update = Action::new_local(move |&(product_id, qty): &Change| async move {
        match shop.api.update_item(product_id, qty).await {
            Ok(order) => {
                problem.try_set(None);
                shop.set_cart(Some(order));
                // A removed line took its focused button with it.
                if qty == 0 {
                    focus_heading_if_lost();
                }
            }
            Err(e) => {
                problem.try_set(Some(line_problem(&e)));
                reverted.try_update(|(line, n)| {
                    *line = product_id;
                    *n = n.wrapping_add(1);
                });
            }
        }
    });
    let checkout = Action::new_local(move |sent: &Option<shared::order::ShippingAddress>| {
        let navigate = navigate.clone();
        let sent = sent.clone();
        // Another address is another checkout request: another key.
        let what = format!(
            "checkout {}",
            serde_json::to_string(&sent).unwrap_or_default()
        );
        let key = checkout_intent
            .try_update_value(|i| i.key_for(&what))
            .unwrap_or_default();
        check.clear();
        // The lines as shown, to name short products as the shopper knows them.
        let shown = order.get_untracked();
        async move {
            let result = shop.api.checkout(&key, sent.as_ref()).await;
            if !result.as_ref().is_err_and(ApiError::is_outage) {
                checkout_intent.try_update_value(Intent::settle);
            }
            match result {
                Ok(order) => {
                    if let Some(a) = &sent {
                        address.remember(a);
                    }
                    let id = order.id;
                    // Payments on: the next step is paying, on the order's page.
                    let next = if status_of(&order) == OrderStatus::AwaitingPayment {
                        order_href(id)
                    } else {
                        format!("/thank-you/{id}")
                    };
                    shop.last_order.set(Some(order));
                    shop.set_cart(None);
                    navigate(&next, Default::default());
                }
                Err(e) => match shortages(&e, &shown) {
                    // The notice above the cart says it all, with the way out;
                    // the lines' own stock hints catch up with it.
                    Some(short) => {
                        check.refused(short);
                        shop.products.refetch();
                    }
                    None if address.refused(&e) => {
                        problem.try_set(Some(ADDRESS_PROBLEM.to_string()));
                    }
                    // The cart holds the new prices now: show them, and the
                    // next press confirms the new total.
                    None if e.code() == Some("prices_changed") => {
                        match shop.api.cart().await {
                            Ok(cart) => {
                                let total = cart.as_ref().map_or(0, |c| c.total);
                                shop.set_cart(cart);
                                problem.try_set(Some(prices_changed(total)));
                            }
                            Err(_) => {
                                problem.try_set(Some(e.to_string()));
                            }
                        }
                        repriced.try_set(true);
                    }
                    None => {
                        problem.try_set(Some(checkout_problem(&e)));
                    }
                },
            }
        }
    });
    let checking_out = Signal::derive(move || checkout.pending().get());
    let updating = Signal::derive(move || update.pending().get());
    // The line whose quantity is being changed, to show its total as pending.
    let changing = Signal::derive(move || {
        if update.pending().get() {
            update.input().get().map(|(id, _)| id)
        } else {
            None
        }
    });
    let on_change = move |product_id, qty| {
        if !update.pending().get_untracked() {
            update.dispatch((product_id, qty));
        }
    };
    let press_checkout = move || {
        if checkout.pending().get_untracked() || update.pending().get_untracked() {
            return;
        }
        match address.for_checkout() {
            Ok(sent) => {
                problem.set(None);
                checkout.dispatch(sent);
            }
            Err(()) => problem.set(Some(ADDRESS_PROBLEM.to_string())),
        }
    };
    // What checkout will charge: each line at the catalogue's price now.
    let total = move || order.with(|o| total_to_pay(&o.items, |id| shop.price_now(id)));
    let count = move || order.with(Order::item_count);
    view! {
        <div role="alert" class="cart-problem">
            {move || problem.get().map(|text| view! { <div class="notice notice-warning">{text}</div> })}
        </div>
        // Nothing in the cart can change while it is being checked out.
        <fieldset class="cart-lines" disabled=move || checking_out.get() aria-busy=move || (checking_out.get() || updating.get()).to_string()>
            <legend class="visually-hidden">"Items in your cart"</legend>
            <div class="table-wrap">
                <table class="cart-table" data-testid="cart-table">
                    <caption class="visually-hidden">"Items in your cart"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Product"</th>
                            <th scope="col" class="num">"Price"</th>
                            <th scope="col">"Quantity"</th>
                            <th scope="col" class="num">"Total"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || items.get()
                            key=|item| item.product
                            children=move |item| {
                                let id = item.product;
                                let line = Memo::new(move |_| {
                                    items.with(|all| all.iter().find(|i| i.product == id).cloned())
                                });
                                view! {
                                    <CartLine
                                        first=item
                                        line
                                        pending=Signal::derive(move || changing.get() == Some(id))
                                        busy=updating
                                        reverted
                                        on_change
                                    />
                                }
                            }
                        />
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row" colspan="3">{move || format!("Total ({} items)", count())}</th>
                            <td class="num total" data-testid="cart-total">
                                {move || if updating.get() { "Updating…".to_string() } else { money(total()) }}
                            </td>
                            <td></td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </fieldset>
        <fieldset class="cart-address" disabled=move || checking_out.get()>
            <legend class="visually-hidden">"Delivery"</legend>
            <AddressForm address />
        </fieldset>
        <div class="cart-actions">
            <A href="/" attr:class="button button-ghost">"Keep shopping"</A>
            <button
                type="button"
                id=CHECKOUT_ID
                class="button button-primary"
                aria-disabled=move || (checking_out.get() || updating.get()).to_string()
                on:click=move |_| press_checkout()
            >
                {move || match (checking_out.get(), repriced.get()) {
                    (true, _) => "Checking out…",
                    (false, true) => "Confirm the new total and check out",
                    (false, false) => "Check out",
                }}
            </button>
        </div>
        {pays_by_card.then(|| view! {
            <p class="checkout-review" data-testid="checkout-review">
                {move || format!("You pay {} by card on the next step, after checking out.", money(total()))}
            </p>
        })}
    }
}

/// What checkout charges a unit of a line (contract v1.3 re-prices every line
/// first): the catalogue's price now when the page knows it (a drop is charged
/// at once, a rise is confirmed first), else the price it was added at.
fn unit_to_pay(added_at: i64, now: Option<i64>) -> i64 {
    now.unwrap_or(added_at)
}

/// The total checkout will charge for `items`, `now` giving each product's
/// price in the catalogue when known.
fn total_to_pay(items: &[Item], now: impl Fn(i64) -> Option<i64>) -> i64 {
    items
        .iter()
        .map(|i| unit_to_pay(i.unit_price, now(i.product)) * i.quantity)
        .sum()
}

/// What a checkout refused for prices that went up says: the cart below
/// shows the new prices.
fn prices_changed(total: i64) -> String {
    format!(
        "Some prices went up since you added them: the new total is {}. Check the lines below, \
         then confirm the new total to check out.",
        money(total)
    )
}

/// What the alert says when the address holds the checkout back.
const ADDRESS_PROBLEM: &str =
    "The shipping address needs a fix before checkout: see the fields marked below.";

/// What a refused change says: the service's own sentence about the quantity.
fn line_problem(e: &ApiError) -> String {
    match e.fields().get("qty") {
        Some(problem) => format!("Not changed: the quantity {problem}."),
        None => e.to_string(),
    }
}

/// One line, following its item as the cart changes; a quantity change is
/// sent on change (blur, Enter) or with the Update button. `first` is the
/// line as it was drawn (its product and name do not change).
#[component]
fn CartLine(
    first: Item,
    line: Memo<Option<Item>>,
    pending: Signal<bool>,
    busy: Signal<bool>,
    reverted: RwSignal<(i64, u32)>,
    on_change: impl Fn(i64, i64) + Copy + 'static,
) -> impl IntoView {
    let shop = use_shop();
    let product_id = first.product;
    let current = move || line.with(|l| l.as_ref().map_or(0, |i| i.quantity));
    // The price the line was added at, and what checkout will charge for it.
    let added_at = move || line.with(|l| l.as_ref().map_or(first.unit_price, |i| i.unit_price));
    let unit_price = move || unit_to_pay(added_at(), shop.price_now(product_id));
    let line_total = move || unit_price() * current();
    let qty = RwSignal::new(first.quantity.to_string());
    let invalid = RwSignal::new(None::<String>);
    // The cart changed the quantity (an update answered, the cart adjusted to
    // stock, another tab): the field shows it, unless it already says so.
    Effect::new(move |prev: Option<i64>| {
        let now = current();
        if prev.is_some_and(|p| p != now)
            && parse_quantity(&qty.get_untracked(), LINE_RANGE) != Ok(now)
        {
            qty.set(now.to_string());
        }
        now
    });
    // A change of this line failed: the field says what the cart still holds.
    Effect::new(move |prev: Option<u32>| {
        let (line, n) = reverted.get();
        if line == product_id && prev.is_some_and(|p| p != n) {
            qty.set(untrack(current).to_string());
        }
        n
    });
    let input_id = format!("qty-{product_id}");
    let error_id = format!("qty-{product_id}-error");
    let submit = move || match parse_quantity(&qty.get_untracked(), LINE_RANGE) {
        Ok(n) => {
            invalid.set(None);
            if n != current() {
                on_change(product_id, n);
            }
        }
        Err(problem) => invalid.set(Some(problem)),
    };
    // − and +: one less or one more than the field says (what the cart holds
    // when the field holds no number), sent at once like a typed change. While
    // any change is on its way they do nothing (the cart takes one at a
    // time), but keep focus. − stops at 1: "Remove" is the way to 0.
    let step = move |by: i64| {
        if busy.get_untracked() {
            return;
        }
        let from = parse_quantity(&qty.get_untracked(), LINE_RANGE).unwrap_or_else(|_| current());
        let to = (from + by).clamp(1, LINE_RANGE.1);
        if to != from {
            qty.set(to.to_string());
            submit();
        }
    };
    // Shown as unavailable (still focusable) while busy or at the end of the range.
    let cannot_go_below = move |n: i64| {
        busy.get() || parse_quantity(&qty.get(), LINE_RANGE).unwrap_or_else(|_| current()) <= n
    };
    let cannot_go_above = move |n: i64| {
        busy.get() || parse_quantity(&qty.get(), LINE_RANGE).unwrap_or_else(|_| current()) >= n
    };
    let fewer_label = format!("One fewer {}", first.name);
    let more_label = format!("One more {}", first.name);
    let href = format!("/product/{product_id}");
    let name = first.name.clone();
    let qty_label = format!("Quantity of {}", first.name);
    let update_label = format!(" {}", first.name);
    let product = move || shop.product(product_id);
    // What changed in the catalogue since the line was added: the price now,
    // and fewer left than the line holds (as the catalogue said when the page
    // loaded: a hint before checkout, which has the final word).
    let notes = move || {
        let p = product()?;
        let was = added_at();
        let price = (p.price != was).then(|| {
            let (what, then) = if p.price < was {
                ("Price dropped", "You pay the new price.")
            } else {
                ("Price went up", "Checkout asks you to confirm the new total.")
            };
            view! {
                <p class="price-note" data-testid="price-changed">
                    {format!("{what}: now {}, was {} when added. {then}", money(p.price), money(was))}
                </p>
            }
        });
        let stock = p.stock.filter(|&n| n < current()).map(|left| {
            let text = if left == 0 {
                "Out of stock right now.".to_string()
            } else {
                format!("Only {left} left.")
            };
            view! { <p class="price-note" data-testid="line-stock">{text}</p> }
        });
        Some((price, stock))
    };
    view! {
        <tr data-testid="cart-line" data-product=product_id.to_string()>
            <td class="line-name">
                <div class="line-product">
                    {move || view! { <Thumb image=product().map(|p| p.image) /> }}
                    <div>
                        <A href=href>{name}</A>
                        {notes}
                    </div>
                </div>
            </td>
            <td class="num line-unit">{move || money(unit_price())}</td>
            <td class="line-qty">
                <form
                    class="qty-form"
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                >
                    <label for=input_id.clone() class="visually-hidden">
                        {qty_label}
                    </label>
                    <span class="stepper">
                        <button
                            type="button"
                            class="step"
                            aria-label=fewer_label
                            aria-disabled=move || cannot_go_below(1).to_string()
                            on:click=move |_| step(-1)
                        >
                            "−"
                        </button>
                        <QuantityInput id=input_id value=qty error=invalid.into() error_id=error_id.clone() />
                        <button
                            type="button"
                            class="step"
                            aria-label=more_label
                            aria-disabled=move || cannot_go_above(LINE_RANGE.1).to_string()
                            on:click=move |_| step(1)
                        >
                            "+"
                        </button>
                    </span>
                    <button type="submit" class="button button-small button-ghost">
                        "Update"
                        <span class="visually-hidden">{update_label}</span>
                    </button>
                    <p class="field-error" id=error_id>
                        {move || invalid.get()}
                    </p>
                </form>
            </td>
            <td class="num line-total" aria-live="polite">
                {move || if pending.get() { "Updating…".to_string() } else { money(line_total()) }}
            </td>
            <td class="line-remove">
                <button
                    type="button"
                    class="button button-small button-danger"
                    aria-label=format!("Remove {}", first.name)
                    on:click=move |_| on_change(product_id, 0)
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product: i64, unit_price: i64, quantity: i64) -> Item {
        Item {
            product,
            name: format!("P{product}"),
            unit_price,
            quantity,
            line_total: unit_price * quantity,
        }
    }

    #[test]
    fn the_total_is_what_checkout_charges_at_todays_prices() {
        let items = [line(1, 1000, 2), line(2, 500, 1), line(3, 300, 3)];
        // 1 dropped to 700, 2 went up to 600, 3 is not in the index (hidden).
        let now = |id| match id {
            1 => Some(700),
            2 => Some(600),
            _ => None,
        };
        assert_eq!(total_to_pay(&items, now), 2 * 700 + 600 + 3 * 300);
        assert_eq!(total_to_pay(&items, |_| None), 2000 + 500 + 900);
    }
}
