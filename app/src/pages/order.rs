//! One order, for its shopper (or an admin): what it holds, where it is, its
//! timeline, and "Cancel order" while it can still be cancelled. An order
//! awaiting payment shows the payment step first; a cancelled one "Order
//! again", and its refund when it had been paid.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::order::{CancelReason, OrderStatus};
use shared::Order;

use crate::a11y::use_title;
use crate::api::ApiError;
use crate::components::{Loading, Notice, OutageNotice, Tone};
use crate::format::money;
use crate::order_view::{status_of, CancelControl, OrderFacts, OutcomeRegions, Steps};
use crate::pages::orders::OrderAgain;
use crate::payment::PaymentStep;
use crate::state::{lines_of, use_shop};

#[component]
pub fn OrderPage() -> impl IntoView {
    let shop = use_shop();
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
    shop.want_products(lines_of(order));
    let retry = Callback::new(move |_| order.refetch());
    crate::recovery::heal(order);
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
                            <OutageNotice text=e.about_orders() retry />
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
    let status = Memo::new(move |_| steps.order.with(status_of));
    view! {
        <h1>{heading}</h1>
        {checked_out}
        <OutcomeRegions outcome=steps.outcome />
        <Show when=move || status.get() == OrderStatus::AwaitingPayment>
            <PaymentStep order=steps.order outcome=steps.outcome />
        </Show>
        <Show when=move || status.get() == OrderStatus::Cancelled>
            <Cancelled order=steps.order />
        </Show>
        <OrderFacts order=steps.order admin_view=false />
        <Show when=move || cancellable.get()>
            <section class="order-actions" aria-label="Change this order">
                <CancelControl steps on_cancelled />
            </section>
        </Show>
    }
}

/// A cancelled order: why, its money (refunded in full when it had been
/// paid: the refund is made just after the cancel, so the page looks again
/// until it shows), and "Order again".
#[component]
fn Cancelled(order: RwSignal<Order>) -> impl IntoView {
    let shop = use_shop();
    let expired = order.with_untracked(|o| o.cancel_reason == Some(CancelReason::PaymentTimeout));
    let payment = move || order.with(|o| o.payment.clone());
    let refund_pending = move || payment().is_some_and(|p| p.status == "succeeded");
    let id = order.with_untracked(|o| o.id);
    if refund_pending() {
        leptos::task::spawn_local(async move {
            for _ in 0..REFUND_LOOKS {
                crate::timer::sleep(REFUND_LOOK_MS).await;
                match shop.api.order(id).await {
                    Ok(now)
                        if now
                            .payment
                            .as_ref()
                            .is_some_and(|p| p.status != "succeeded") =>
                    {
                        order.try_set(now);
                        return;
                    }
                    _ if order.try_with_untracked(|_| ()).is_none() => return,
                    _ => {}
                }
            }
        });
    }
    let money_words = move || match payment() {
        Some(p) if p.status == "refunded" => {
            format!("Your payment of {} was refunded in full.", money(p.amount))
        }
        Some(p) if p.status == "succeeded" => {
            format!(
                "Your payment of {} is being refunded in full.",
                money(p.amount)
            )
        }
        Some(_) => "Nothing was charged.".to_string(),
        None => String::new(),
    };
    let why = if expired {
        "This order was cancelled because it was not paid in time."
    } else {
        "This order is cancelled."
    };
    view! {
        <section class="order-cancelled" aria-label="Cancelled order" data-testid="order-cancelled">
            <p>{why} " " <span data-testid="order-money">{money_words}</span></p>
            <OrderAgain order=order.get_untracked() />
        </section>
    }
}

/// After a paid order's cancel, how often and how many times to look for its refund.
const REFUND_LOOK_MS: i32 = 2_000;
const REFUND_LOOKS: u32 = 10;
