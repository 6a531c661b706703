//! The order history, newest first, with "Order again".

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::Order;

use crate::a11y::use_title;
use crate::api::idempotency::fresh_key;
use crate::api::ApiError;
use crate::components::{ErrorNotices, Loading, Notice, Pager, Thumb, Tone};
use crate::format::{local_time, money};
use crate::quantity::ADD_RANGE;
use crate::state::use_shop;

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
    shop.want_products();
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
    let retry = Callback::new(move |_| orders.refetch());
    view! {
        <section class="orders-page">
            <h1>"Your orders"</h1>
            <Suspense fallback=|| view! { <Loading label="Loading your orders…" /> }>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNotices errors retry /> }>
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

/// One order: number, state, lines, total. Also used by the thank-you page.
#[component]
pub fn OrderSummary(order: Order, #[prop(optional)] again: bool) -> impl IntoView {
    let shop = use_shop();
    let status = match order.checked_out_at {
        Some(at) => view! {
            "Checked out "
            <time datetime=at.to_rfc3339()>{local_time(&at)}</time>
        }
        .into_any(),
        None => view! { <A href="/cart">"Open: this is your cart"</A> }.into_any(),
    };
    let heading = format!("Order #{}", order.id);
    let reorder = (again && !order.is_open).then(|| view! { <OrderAgain order=order.clone() /> });
    view! {
        <article class="card order" data-testid="order" data-order-id=order.id.to_string()>
            <header class="order-head">
                <h2>{heading}</h2>
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
            {reorder}
        </article>
    }
}

/// Puts an old order's lines into the cart again (at today's prices) and opens it.
#[component]
fn OrderAgain(order: Order) -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let id = order.id;
    let again = Action::new_local(move |_: &()| {
        let lines: Vec<(i64, i64)> = order
            .items
            .iter()
            .map(|i| (i.product, i.quantity))
            .collect();
        let navigate = navigate.clone();
        async move {
            let mut failed: Option<ApiError> = None;
            for (product, quantity) in lines {
                // An add takes at most 99: larger lines go in several adds, each
                // its own action with its own key.
                let mut left = quantity;
                while left > 0 && failed.is_none() {
                    let step = left.min(ADD_RANGE.1);
                    match shop.api.add_item(product, step, &fresh_key()).await {
                        Ok(cart) => shop.set_cart(Some(cart)),
                        Err(e) => failed = Some(e),
                    }
                    left -= step;
                }
            }
            match failed {
                None => {
                    navigate("/cart", Default::default());
                    Ok(())
                }
                Some(e) => Err(e.to_string()),
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
            <p role="status">
                {move || again.value().get().and_then(Result::err).map(|e| format!("Not all items could be added: {e}"))}
            </p>
        </div>
    }
}
