//! The cart: change quantities, remove lines, check out; when checkout is
//! refused for stock, say what is left and adjust the cart to it ([`shortage`]).

mod shortage;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{Item, Order};

use crate::a11y::{refocus_by_id, use_title};
use crate::api::idempotency::Intent;
use crate::api::ApiError;
use crate::components::{Loading, Notice, OutageNotice, QuantityInput, Thumb, Tone};
use crate::format::money;
use crate::quantity::{parse_quantity, LINE_RANGE};
use crate::state::use_shop;
use shortage::{shortages, StockCheck, StockNotices, CHECKOUT_ID};

#[component]
pub fn CartPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Your cart".into());
    shop.want_products();
    let retry = Callback::new(move |_| shop.cart.refetch());
    let check = StockCheck::new();
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
                <StockNotices check />
                <Transition fallback=|| view! { <Loading label="Loading your cart…" /> }>
                    {move || {
                        shop.cart
                            .get()
                            .map(|r| match r {
                                Ok(Some(order)) if !order.items.is_empty() => {
                                    view! { <CartContents order check /> }.into_any()
                                }
                                Ok(_) => view! { <EmptyCart /> }.into_any(),
                                Err(e) => {
                                    view! {
                                        <div data-testid="cart-unavailable-notice">
                                            <OutageNotice text=e.to_string() retry />
                                        </div>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
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

/// The lines, the total and the checkout button.
#[component]
fn CartContents(order: Order, check: StockCheck) -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    // The last failure of a change or the checkout, shown above the table.
    let problem = RwSignal::new(None::<String>);
    let checkout_intent = StoredValue::new(Intent::default());
    // The lines as shown, to name short products as the shopper knows them.
    let shown = StoredValue::new(order.clone());
    let update = Action::new_local(move |&(product_id, qty): &Change| async move {
        let focused = document()
            .active_element()
            .map(|e| e.id())
            .filter(|id| !id.is_empty());
        match shop.api.update_item(product_id, qty).await {
            Ok(order) => {
                problem.try_set(None);
                shop.set_cart(Some(order));
                // The table is drawn anew: keep the keyboard where it was, or on
                // the heading when that line is gone.
                if let Some(id) = focused {
                    refocus_by_id(id);
                }
            }
            Err(e) => {
                problem.try_set(Some(line_problem(&e)));
            }
        }
    });
    let checkout = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        let key = checkout_intent
            .try_update_value(|i| i.key_for("checkout"))
            .unwrap_or_default();
        check.clear();
        async move {
            let result = shop.api.checkout(&key).await;
            if !result.as_ref().is_err_and(ApiError::is_outage) {
                checkout_intent.try_update_value(Intent::settle);
            }
            match result {
                Ok(order) => {
                    let id = order.id;
                    shop.last_order.set(Some(order));
                    shop.set_cart(None);
                    navigate(&format!("/thank-you/{id}"), Default::default());
                }
                Err(e) => match shown.with_value(|order| shortages(&e, order)) {
                    // The notice above the cart says it all, with the way out;
                    // the lines' own stock hints catch up with it.
                    Some(short) => {
                        check.refused(short);
                        shop.products.refetch();
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
    let total = order.total;
    let count = order.item_count();
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
                        {order
                            .items
                            .into_iter()
                            .map(|item| {
                                let id = item.product;
                                view! {
                                    <CartLine
                                        item
                                        pending=Signal::derive(move || changing.get() == Some(id))
                                        on_change=move |product_id, qty| {
                                            if !update.pending().get_untracked() {
                                                update.dispatch((product_id, qty));
                                            }
                                        }
                                    />
                                }
                            })
                            .collect_view()}
                    </tbody>
                    <tfoot>
                        <tr>
                            <th scope="row" colspan="3">{format!("Total ({count} items)")}</th>
                            <td class="num total" data-testid="cart-total">
                                {move || if updating.get() { "Updating…".to_string() } else { money(total) }}
                            </td>
                            <td></td>
                        </tr>
                    </tfoot>
                </table>
            </div>
        </fieldset>
        <div class="cart-actions">
            <A href="/" attr:class="button button-ghost">"Keep shopping"</A>
            <button
                type="button"
                id=CHECKOUT_ID
                class="button button-primary"
                aria-disabled=move || (checking_out.get() || updating.get()).to_string()
                on:click=move |_| {
                    if !checkout.pending().get_untracked() && !update.pending().get_untracked() {
                        checkout.dispatch(());
                    }
                }
            >
                {move || if checking_out.get() { "Checking out…" } else { "Check out" }}
            </button>
        </div>
    }
}

/// What a refused change says: the service's own sentence about the quantity.
fn line_problem(e: &ApiError) -> String {
    match e.fields().get("qty") {
        Some(problem) => format!("Not changed: the quantity {problem}."),
        None => e.to_string(),
    }
}

/// One line; a quantity change is sent on change (blur, Enter) or with the Update button.
#[component]
fn CartLine(
    item: Item,
    pending: Signal<bool>,
    on_change: impl Fn(i64, i64) + Copy + 'static,
) -> impl IntoView {
    let shop = use_shop();
    let product_id = item.product;
    let current = item.quantity;
    let qty = RwSignal::new(current.to_string());
    let invalid = RwSignal::new(None::<String>);
    let input_id = format!("qty-{product_id}");
    let error_id = format!("qty-{product_id}-error");
    let submit = move || match parse_quantity(&qty.get_untracked(), LINE_RANGE) {
        Ok(n) => {
            invalid.set(None);
            if n != current {
                on_change(product_id, n);
            }
        }
        Err(problem) => invalid.set(Some(problem)),
    };
    let href = format!("/product/{product_id}");
    let name = item.name.clone();
    let qty_label = format!("Quantity of {}", item.name);
    let update_label = format!(" {}", item.name);
    let unit_price = item.unit_price;
    let product = move || shop.product(product_id);
    // The catalogue's price now, when it differs from the price in the cart.
    // What changed in the catalogue since the line was added: the price now,
    // and fewer left than the line holds (as the catalogue said when the page
    // loaded: a hint before checkout, which has the final word).
    let notes = move || {
        let p = product()?;
        let price = (p.price != unit_price).then(|| {
            view! {
                <p class="price-note" data-testid="price-changed">
                    {format!("Price changed: now {}, was {} when added.", money(p.price), money(unit_price))}
                </p>
            }
        });
        let stock = p.stock.filter(|&n| n < current).map(|left| {
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
            <td class="num line-unit">{money(item.unit_price)}</td>
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
                    <QuantityInput id=input_id value=qty error=invalid.into() error_id=error_id.clone() />
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
                {move || if pending.get() { "Updating…".to_string() } else { money(item.line_total) }}
            </td>
            <td class="line-remove">
                <button
                    type="button"
                    class="button button-small button-danger"
                    aria-label=format!("Remove {}", item.name)
                    on:click=move |_| on_change(product_id, 0)
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}
