//! After checkout: the order as it was closed.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::a11y::use_title;
use crate::api::ApiError;
use crate::components::{ErrorNotices, Loading};
use crate::pages::orders::OrderSummary;
use crate::state::{lines_of, use_shop};

#[component]
pub fn ThanksPage() -> impl IntoView {
    let shop = use_shop();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    // The order the checkout returned; after a reload, found again in the history.
    let order = LocalResource::new(move || {
        let id = id.get();
        let known = shop.last_order.get_untracked().filter(|o| Some(o.id) == id);
        async move {
            if known.is_some() {
                return Ok::<_, ApiError>(known);
            }
            let Some(id) = id else { return Ok(None) };
            match shop.api.order(id).await {
                Ok(o) => Ok((!o.is_open).then_some(o)),
                // A service older than v1.3 has no such route: the history has it.
                Err(ApiError::Rejected {
                    status: 404 | 405, ..
                }) => {
                    let list = shop.api.orders(100, 0).await?;
                    Ok(list.results.into_iter().find(|o| o.id == id && !o.is_open))
                }
                Err(e) => Err(e),
            }
        }
    });
    use_title(move || match order.get() {
        Some(Ok(Some(o))) => format!("Order #{} confirmed", o.id),
        Some(Ok(None)) => "Order not found".into(),
        _ => "Your order".into(),
    });
    shop.want_products(lines_of(order));
    let retry = Callback::new(move |_| order.refetch());
    view! {
        <section class="thanks-page">
            <Suspense fallback=|| view! { <Loading label="Loading your order…" /> }>
                <ErrorBoundary fallback=move |errors| view! {
                    <h1>"Your order"</h1>
                    <ErrorNotices errors retry about_orders=true />
                }>
                    {move || {
                        order.get().map(|r| r.map(|o| match o {
                            Some(order) => {
                                let follow = crate::links::order_href(order.id);
                                view! {
                                <h1>"Thank you for your order!"</h1>
                                <p class="lead" data-testid="thanks">
                                    {format!("Order #{} is confirmed.", order.id)}
                                </p>
                                <OrderSummary order />
                                <p class="actions">
                                    <A href=follow>"Follow this order"</A>
                                    " · "
                                    <A href="/orders">"See all your orders"</A>
                                    " · "
                                    <A href="/">"Back to the catalogue"</A>
                                </p>
                            }
                            .into_any()
                            },
                            None => view! {
                                <h1>"Order not found"</h1>
                                <p class="empty">
                                    "We could not find that order. " <A href="/orders">"See your orders"</A>
                                </p>
                            }
                            .into_any(),
                        }))
                    }}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}
