//! The order history, newest first.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::Order;

use crate::components::{ErrorNotices, Loading, Notice, Pager, Tone};
use crate::format::{money, time};
use crate::state::use_shop;

/// How many orders one page shows.
const HISTORY_SIZE: i64 = 20;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let shop = use_shop();
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
    view! {
        <section class="orders-page">
            <h1>"Your orders"</h1>
            <Suspense fallback=|| view! { <Loading label="Loading your orders…" /> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotices errors /> }>
                    {move || {
                        orders.get().map(|r| r.map(|list| match list {
                            None => view! {
                                <Notice tone=Tone::Info>
                                    <A href="/login">"Log in"</A>
                                    " to see your orders."
                                </Notice>
                            }
                            .into_any(),
                            Some(list) if list.results.is_empty() => view! {
                                <p class="empty">"No orders yet. " <A href="/">"Start shopping"</A></p>
                            }
                            .into_any(),
                            Some(list) => view! {
                                <Pager
                                    offset=offset.get()
                                    page_size=HISTORY_SIZE
                                    shown=list.results.len() as i64
                                    total=list.total
                                    link=|o| format!("/orders?offset={o}")
                                />
                                <ul class="order-list" data-testid="order-list">
                                    {list
                                        .results
                                        .into_iter()
                                        .map(|order| view! { <li><OrderSummary order /></li> })
                                        .collect_view()}
                                </ul>
                            }
                            .into_any(),
                        }))
                    }}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

/// One order: number, state, lines, total. Also used by the thank-you page.
#[component]
pub fn OrderSummary(order: Order) -> impl IntoView {
    let status = match order.checked_out_at {
        Some(at) => format!("Checked out {}", time(&at)),
        None => "Open: this is your cart".to_string(),
    };
    let heading = format!("Order #{}", order.id);
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
                        view! {
                            <li>
                                <span class="item-name">{i.name}</span>
                                <span class="item-qty">{format!("{} × {}", i.quantity, money(i.unit_price))}</span>
                                <span class="num">{money(i.line_total)}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p class="order-total">"Total " <strong>{money(order.total)}</strong></p>
        </article>
    }
}
