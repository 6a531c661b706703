//! The order desk (contract v1.3): every shopper's orders, filtered by status
//! (several at once), a page at a time; and one order with what can be done
//! to it next: ship with a tracking number, mark delivered, cancel (refund
//! when paid). The URL holds the filter and the page, so Back and reload keep
//! them, and the filter's boxes keep focus while the list follows.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use shared::order::OrderStatus;
use shared::{ListBody, Order};

use super::{AdminGate, AdminNav, DESK_TITLE};
use crate::a11y::use_title;
use crate::api::ApiError;
use crate::components::{Loading, OutageNotice, Pager};
use crate::format::{local_time, money};
use crate::links::desk_order_href;
use crate::order_view::{status_of, AdminSteps, OrderFacts, OutcomeRegions, StatusBadge, Steps};
use crate::state::use_shop;

/// Orders per page of the desk.
const DESK_PAGE: i64 = 20;

/// The statuses an admin filters by: every one but the cart.
const FILTERS: [OrderStatus; 6] = [
    OrderStatus::AwaitingPayment,
    OrderStatus::Placed,
    OrderStatus::Paid,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Cancelled,
];

/// `?status=placed,paid` as statuses, in the filter's order; unknown names
/// are left out.
fn parse_statuses(raw: &str) -> Vec<OrderStatus> {
    let named: Vec<OrderStatus> = raw
        .split(',')
        .filter_map(|s| s.trim().parse::<OrderStatus>().ok())
        .collect();
    OrderStatus::ALL
        .into_iter()
        .filter(|s| named.contains(s))
        .collect()
}

/// The desk's URL for a filter and an offset.
fn desk_url(statuses: &[OrderStatus], offset: i64) -> String {
    let mut params = Vec::new();
    if !statuses.is_empty() {
        let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        params.push(format!("status={}", names.join(",")));
    }
    if offset > 0 {
        params.push(format!("offset={offset}"));
    }
    if params.is_empty() {
        "/admin/orders".to_string()
    } else {
        format!("/admin/orders?{}", params.join("&"))
    }
}

#[component]
pub fn OrderDeskPage() -> impl IntoView {
    use_title(|| DESK_TITLE.into());
    view! {
        <section class="admin-page desk-page">
            <h1>{DESK_TITLE}</h1>
            <AdminGate here="/admin/orders">
                <AdminNav />
                <Desk />
            </AdminGate>
        </section>
    }
}

#[component]
fn Desk() -> impl IntoView {
    let shop = use_shop();
    let query = use_query_map();
    let statuses =
        Memo::new(move |_| parse_statuses(&query.read().get("status").unwrap_or_default()));
    let offset = crate::pages::use_offset();
    let list = LocalResource::new(move || {
        let statuses = statuses.get();
        let offset = offset.get();
        async move { shop.api.orders_in(&statuses, DESK_PAGE, offset).await }
    });
    let retry = Callback::new(move |_| list.refetch());
    view! {
        <StatusFilter statuses />
        <Transition fallback=|| view! { <Loading label="Loading orders…" /> }>
            {move || list.get().map(|r| match r {
                Ok(body) => view! { <DeskList body statuses=statuses.get_untracked() offset=offset.get_untracked() /> }.into_any(),
                Err(e) => view! { <OutageNotice text=e.about_orders() retry /> }.into_any(),
            })}
        </Transition>
    }
}

/// One box per status; ticking or unticking one shows the first page of the
/// new filter. None ticked: every order.
#[component]
fn StatusFilter(statuses: Memo<Vec<OrderStatus>>) -> impl IntoView {
    let navigate = use_navigate();
    let toggle = move |status: OrderStatus, on: bool| {
        let mut chosen = statuses.get_untracked();
        chosen.retain(|s| *s != status);
        if on {
            chosen.push(status);
        }
        let chosen: Vec<OrderStatus> = OrderStatus::ALL
            .into_iter()
            .filter(|s| chosen.contains(s))
            .collect();
        navigate(&desk_url(&chosen, 0), Default::default());
    };
    view! {
        <fieldset class="desk-filter" data-testid="desk-filter">
            <legend>"Show orders that are"</legend>
            {FILTERS
                .into_iter()
                .map(|s| {
                    let toggle = toggle.clone();
                    let id = format!("filter-{}", s.as_str());
                    let for_id = id.clone();
                    view! {
                        <label class="check" for=for_id>
                            <input
                                type="checkbox"
                                id=id
                                value=s.as_str()
                                prop:checked=move || statuses.with(|c| c.contains(&s))
                                on:change=move |ev| toggle(s, event_target_checked(&ev))
                            />
                            {s.label()}
                        </label>
                    }
                })
                .collect_view()}
            <p class="hint">"None ticked: every order."</p>
        </fieldset>
    }
}

#[component]
fn DeskList(body: ListBody<Order>, statuses: Vec<OrderStatus>, offset: i64) -> impl IntoView {
    if body.results.is_empty() {
        return view! { <p class="empty" data-testid="desk-empty">"No orders match."</p> }
            .into_any();
    }
    let shown = body.results.len() as i64;
    let rows = body
        .results
        .into_iter()
        .map(|o| view! { <DeskRow o /> })
        .collect_view();
    view! {
        <Pager
            offset
            page_size=DESK_PAGE
            shown
            total=body.total
            link=move |o| desk_url(&statuses, o)
        />
        <div class="table-wrap">
            <table class="desk-table" data-testid="desk-table">
                <caption class="visually-hidden">"Orders"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Order"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Shopper"</th>
                        <th scope="col">"Checked out"</th>
                        <th scope="col" class="num">"Items"</th>
                        <th scope="col" class="num">"Total"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn DeskRow(o: Order) -> impl IntoView {
    let status = status_of(&o);
    let who = o
        .email
        .clone()
        .unwrap_or_else(|| format!("User {}", o.user_id));
    let when = o.checked_out_at.map(|at| {
        view! { <time datetime=at.to_rfc3339()>{local_time(&at)}</time> }
    });
    view! {
        <tr data-testid="desk-order" data-order-id=o.id.to_string() data-status=status.as_str()>
            <th scope="row"><A href=desk_order_href(o.id)>{format!("Order #{}", o.id)}</A></th>
            <td><StatusBadge status /></td>
            <td>{who}</td>
            <td>{when}</td>
            <td class="num">{o.item_count()}</td>
            <td class="num">{money(o.total)}</td>
        </tr>
    }
}

/// One order at the desk.
#[component]
pub fn DeskOrderPage() -> impl IntoView {
    let shop = use_shop();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").and_then(|s| s.parse::<i64>().ok()));
    let order = LocalResource::new(move || {
        let id = id.get();
        async move {
            match id {
                Some(id) => shop.api.order(id).await.map(Some),
                None => Ok(None),
            }
        }
    });
    use_title(move || match order.get() {
        Some(Ok(Some(o))) => format!("Order #{} · {DESK_TITLE}", o.id),
        Some(Ok(None)) | Some(Err(ApiError::Rejected { status: 404, .. })) => {
            "Order not found".into()
        }
        _ => DESK_TITLE.into(),
    });
    let retry = Callback::new(move |_| order.refetch());
    view! {
        <section class="admin-page desk-order-page">
            <p class="back"><A href="/admin/orders">"← The order desk"</A></p>
            // The gate's path is fixed; a login from here comes back to the desk.
            <AdminGate here="/admin/orders">
                <Suspense fallback=|| view! { <Loading label="Loading the order…" /> }>
                    {move || order.get().map(|r| match r {
                        Ok(Some(o)) => view! { <DeskOrder order=o /> }.into_any(),
                        Ok(None) | Err(ApiError::Rejected { status: 404, .. }) => view! {
                            <h1>"Order not found"</h1>
                            <p class="empty">"There is no such order. " <A href="/admin/orders">"Back to the desk"</A></p>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <h1>"Order"</h1>
                            <OutageNotice text=e.about_orders() retry />
                        }
                        .into_any(),
                    })}
                </Suspense>
            </AdminGate>
        </section>
    }
}

#[component]
fn DeskOrder(order: Order) -> impl IntoView {
    let shop = use_shop();
    let heading = format!("Order #{}", order.id);
    let steps = Steps::new(order);
    let on_cancelled = Callback::new(move |_: Order| shop.products.refetch());
    view! {
        <h1>{heading}</h1>
        <OutcomeRegions outcome=steps.outcome />
        <OrderFacts order=steps.order admin_view=true />
        <AdminSteps steps on_cancelled />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_lives_in_the_url() {
        let chosen = parse_statuses("shipped,placed,lost");
        assert_eq!(chosen, vec![OrderStatus::Placed, OrderStatus::Shipped]);
        assert_eq!(desk_url(&chosen, 0), "/admin/orders?status=placed,shipped");
        assert_eq!(desk_url(&[], 40), "/admin/orders?offset=40");
        assert_eq!(desk_url(&[], 0), "/admin/orders");
        assert!(parse_statuses("").is_empty());
    }
}
