//! One order, for its shopper (or an admin): what it holds, where it is, its
//! timeline, and "Cancel order" while it can still be cancelled.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::Order;

use crate::a11y::use_title;
use crate::api::ApiError;
use crate::components::{Loading, Notice, OutageNotice, Tone};
use crate::order_view::{status_of, CancelControl, OrderFacts, OutcomeRegions, Steps};
use crate::state::use_shop;

#[component]
pub fn OrderPage() -> impl IntoView {
    let shop = use_shop();
    shop.want_products();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    let order = LocalResource::new(move || {
        let id = id.get();
        let logged_in = shop.session.token().is_some();
        async move {
            match id {
                Some(id) if logged_in => shop.api.order(id).await.map(Some),
                _ => Ok(None),
            }
        }
    });
    use_title(move || match order.get() {
        Some(Ok(Some(o))) => format!("Order #{}", o.id),
        Some(Err(ApiError::Rejected { status: 404, .. })) | Some(Ok(None)) => {
            "Order not found".into()
        }
        _ => "Your order".into(),
    });
    let retry = Callback::new(move |_| order.refetch());
    view! {
        <section class="order-page">
            <p class="back"><A href="/orders">"← All your orders"</A></p>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=move || view! {
                    <h1>"Your order"</h1>
                    <Notice tone=Tone::Info>
                        <A href=move || crate::links::login_href(&crate::links::order_href(id.get().unwrap_or_default()))>"Log in"</A>
                        " to see your order."
                    </Notice>
                }
            >
                <Suspense fallback=|| view! { <Loading label="Loading your order…" /> }>
                    {move || order.get().map(|r| match r {
                        Ok(Some(o)) => view! { <OrderScreen order=o /> }.into_any(),
                        Ok(None) | Err(ApiError::Rejected { status: 404, .. }) => view! {
                            <h1>"Order not found"</h1>
                            <p class="empty">
                                "We could not find that order. " <A href="/orders">"See your orders"</A>
                            </p>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <h1>"Your order"</h1>
                            <OutageNotice text=e.to_string() retry />
                        }
                        .into_any(),
                    })}
                </Suspense>
            </Show>
        </section>
    }
}

/// The order as it is now; a cancel here changes it in place.
#[component]
fn OrderScreen(order: Order) -> impl IntoView {
    let shop = use_shop();
    let heading = format!("Order #{}", order.id);
    let checked_out = order.checked_out_at.map(|at| {
        view! {
            <p class="lead">
                "Checked out "
                <time datetime=at.to_rfc3339()>{crate::format::local_time(&at)}</time>
            </p>
        }
    });
    let steps = Steps::new(order);
    // The units went back to stock: what the cart and product pages know of
    // stock is stale now.
    let on_cancelled = Callback::new(move |_: Order| shop.products.refetch());
    let cancellable = Memo::new(move |_| steps.order.with(|o| status_of(o).cancellable()));
    view! {
        <h1>{heading}</h1>
        {checked_out}
        <OutcomeRegions outcome=steps.outcome />
        <OrderFacts order=steps.order admin_view=false />
        <Show when=move || cancellable.get()>
            <section class="order-actions" aria-label="Change this order">
                <CancelControl steps on_cancelled />
            </section>
        </Show>
    }
}
