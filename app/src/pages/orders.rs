//! The order history, newest first, with "Order again".

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::order::OrderStatus;
use shared::Order;

use crate::a11y::use_title;
use crate::api::idempotency::fresh_key;
use crate::api::ApiError;
use crate::components::{ErrorNotices, Loading, Notice, Pager, Thumb, Tone};
use crate::format::{local_time, money};
use crate::links::order_href;
use crate::order_view::{status_of, StatusBadge};
use crate::quantity::ADD_RANGE;
use crate::state::{line_ids, use_shop};

/// How many orders one page shows.
const HISTORY_SIZE: i64 = 20;

/// The history without an emptied cart: an open order with no lines is not an
/// order (contract v1.1; older services still list it).
fn shown_orders(orders: Vec<Order>) -> Vec<Order> {
    orders
        .into_iter()
        .filter(|o| !(o.is_open && o.items.is_empty()))
        .collect()
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Your orders".into());
    let offset = super::use_offset();
    let orders = LocalResource::new(move || {
        let logged_in = shop.session.token().is_some();
        let offset = offset.get();
        async move {
            if logged_in {
                shop.api.orders(HISTORY_SIZE, offset).await.map(Some)
            } else {
                Ok(None)
            }
        }
    });
    shop.want_products(Signal::derive(move || {
        orders.with(|r| match r {
            Some(Ok(Some(list))) => line_ids(&list.results),
            _ => Vec::new(),
        })
    }));
    let retry = Callback::new(move |_| orders.refetch());
    crate::recovery::heal(orders);
    view! {
        <section class="orders-page">
            <h1>"Your orders"</h1>
            <Suspense fallback=|| view! { <Loading label="Loading your orders…" /> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNotices errors retry about_orders=true /> }>
                    {move || {
                        orders.get().map(|r| r.map(|list| match list {
                            None => view! {
                                <Notice tone=Tone::Info>
                                    <A href="/login?next=%2Forders">"Log in"</A>
                                    " to see your orders."
                                </Notice>
                            }
                            .into_any(),
                            Some(list) => {
                                let hidden = list.results.len();
                                let results = shown_orders(list.results);
                                let total = list.total - (hidden - results.len()) as i64;
                                if results.is_empty() {
                                    view! {
                                        <p class="empty">"No orders yet. " <A href="/">"Start shopping"</A></p>
                                    }
                                    .into_any()
                                } else {
                                    view! {
                                        <Pager
                                            offset=offset.get()
                                            page_size=HISTORY_SIZE
                                            shown=results.len() as i64
                                            total
                                            link=|o| format!("/orders?offset={o}")
                                        />
                                        <ul class="order-list" data-testid="order-list">
                                            {results
                                                .into_iter()
                                                .map(|order| view! { <li><OrderSummary order again=true /></li> })
                                                .collect_view()}
                                        </ul>
                                    }
                                    .into_any()
                                }
                            }
                        }))
                    }}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// One order: number (a link to its page), status, lines, total. Also used by
/// the thank-you page.
#[component]
pub fn OrderSummary(order: Order, #[prop(optional)] again: bool) -> impl IntoView {
    let shop = use_shop();
    let badge = status_of(&order);
    let status = match order.checked_out_at {
        Some(at) => view! {
            "Checked out "
            <time datetime=at.to_rfc3339()>{local_time(&at)}</time>
        }
        .into_any(),
        None => view! { <A href="/cart">"Open: this is your cart"</A> }.into_any(),
    };
    let heading = format!("Order #{}", order.id);
    let heading = if order.is_open {
        heading.into_any()
    } else {
        view! { <A href=order_href(order.id) attr:data-testid="order-link">{heading}</A> }
            .into_any()
    };
    let reorder = (again && !order.is_open).then(|| view! { <OrderAgain order=order.clone() /> });
    // An order awaiting payment is paid on its own page.
    let pay = (badge == OrderStatus::AwaitingPayment).then(|| {
        view! {
            <p class="order-pay">
                <A href=order_href(order.id) attr:class="button button-small button-primary">
                    "Pay for this order"
                    <span class="visually-hidden">{format!(" (#{})", order.id)}</span>
                </A>
            </p>
        }
    });
    view! {
        <article class="card order" data-testid="order" data-order-id=order.id.to_string()>
            <header class="order-head">
                <h2>{heading}</h2>
                <StatusBadge status=badge />
                <p class="order-status">{status}</p>
            </header>
            <ul class="order-items">
                {order
                    .items
                    .into_iter()
                    .map(|i| {
                        let id = i.product;
                        view! {
                            <li>
                                {move || view! { <Thumb image=shop.product(id).map(|p| p.image) /> }}
                                <A href=format!("/product/{id}") attr:class="item-name">{i.name}</A>
                                <span class="item-qty">{format!("{} × {}", i.quantity, money(i.unit_price))}</span>
                                <span class="num">{money(i.line_total)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="order-total">"Total " <strong>{money(order.total)}</strong></p>
            {pay}
            {reorder}
        </article>
    }
}

/// A line "Order again" could not add, and why.
#[derive(Debug, Clone, PartialEq)]
struct Skipped {
    name: String,
    why: String,
}

/// Why an add was refused, for the list of skipped lines: a product that is
/// gone (404: unknown or hidden) is "no longer on sale".
fn skip_reason(e: &ApiError) -> String {
    match e {
        ApiError::Rejected { status: 404, .. } => "no longer on sale".to_string(),
        e => match e.fields().get("qty") {
            Some(problem) => format!("the quantity {problem}"),
            None => e.to_string(),
        },
    }
}

/// What "Order again" says when not every line went in.
fn skipped_text(added: usize, skipped: &[Skipped]) -> String {
    let names: Vec<String> = skipped
        .iter()
        .map(|s| format!("{}: {}", s.name, s.why))
        .collect();
    let lead = match added {
        0 => "Nothing was added to your cart.".to_string(),
        1 => "1 item was added to your cart.".to_string(),
        n => format!("{n} items were added to your cart."),
    };
    format!("{lead} Not added: {}.", names.join("; "))
}

/// Puts an old order's lines into the cart again (at today's prices): every
/// line that can go in does, then the cart opens; when some could not, the
/// page stays and names each one with its reason. An outage stops it (every
/// next add would fail the same way) and says so.
#[component]
pub fn OrderAgain(order: Order) -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let id = order.id;
    let again = Action::new_local(move |_: &()| {
        let lines: Vec<(i64, String, i64)> = order
            .items
            .iter()
            .map(|i| (i.product, i.name.clone(), i.quantity))
            .collect();
        let navigate = navigate.clone();
        async move {
            let mut skipped: Vec<Skipped> = Vec::new();
            let mut added = 0;
            for (product, name, quantity) in lines {
                // An add takes at most 99: larger lines go in several adds, each
                // its own action with its own key.
                let mut left = quantity;
                let mut line_added = false;
                while left > 0 {
                    let step = left.min(ADD_RANGE.1);
                    match shop.api.add_item(product, step, &fresh_key()).await {
                        Ok(cart) => {
                            shop.set_cart(Some(cart));
                            line_added = true;
                        }
                        Err(e) if e.is_outage() => {
                            return Err(format!(
                                "{e} {}",
                                if added > 0 || line_added {
                                    "Some items were added already."
                                } else {
                                    "Nothing was added."
                                }
                            ))
                        }
                        Err(e) => {
                            skipped.push(Skipped {
                                name: name.clone(),
                                why: skip_reason(&e),
                            });
                            break;
                        }
                    }
                    left -= step;
                }
                if line_added {
                    added += 1;
                }
            }
            if skipped.is_empty() {
                navigate("/cart", Default::default());
                Ok(())
            } else {
                Err(skipped_text(added, &skipped))
            }
        }
    });
    view! {
        <div class="order-again">
            <button
                type="button"
                class="button button-small"
                aria-disabled=move || again.pending().get().to_string()
                on:click=move |_| {
                    if !again.pending().get_untracked() {
                        again.dispatch(());
                    }
                }
            >
                {move || if again.pending().get() { "Adding…".to_string() } else { "Order again".to_string() }}
                <span class="visually-hidden">{format!(": order #{id}")}</span>
            </button>
            <div role="status">
                {move || again.value().get().and_then(Result::err).map(|text| view! {
                    <p class="notice notice-warning" data-testid="order-again-skipped">
                        {text} " " <A href="/cart">"View cart"</A>
                    </p>
                })}
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_lines_are_each_named_with_their_reason() {
        let skipped = [
            Skipped {
                name: "Lamp".into(),
                why: "no longer on sale".into(),
            },
            Skipped {
                name: "Mug".into(),
                why: "the quantity must be at most 999".into(),
            },
        ];
        assert_eq!(
            skipped_text(1, &skipped),
            "1 item was added to your cart. Not added: Lamp: no longer on sale; Mug: the quantity must be at most 999."
        );
        assert!(skipped_text(0, &skipped[..1]).starts_with("Nothing was added"));
    }
}
