//! How long the shopper has to pay: an order awaiting payment is cancelled
//! `ORDER_PAYMENT_TTL_SECS` after checkout (contract v1.3; default 900). The
//! order says when (`payment.expires_at`); from a service that does not, it
//! is counted from the moment the order started awaiting payment, with the
//! contract's default.

use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use shared::order::OrderStatus;
use shared::Order;

use crate::format::local_time;
use crate::state::use_shop;

/// The orders service's default `ORDER_PAYMENT_TTL_SECS`.
pub const PAYMENT_TTL_SECS: i64 = 900;

/// When the order stops waiting for payment.
pub fn deadline(order: &Order) -> Option<DateTime<Utc>> {
    if let Some(at) = order.payment.as_ref().and_then(|p| p.expires_at) {
        return Some(at);
    }
    let since = order
        .events
        .iter()
        .rev()
        .find(|e| e.status == OrderStatus::AwaitingPayment)
        .map(|e| e.at)
        .or(order.checked_out_at)?;
    Some(since + Duration::seconds(PAYMENT_TTL_SECS))
}

/// `14:05` for 845 seconds.
pub fn clock(secs: i64) -> String {
    let secs = secs.max(0);
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Once time is up, how often to look whether the shop cancelled the order.
const EXPIRED_LOOK_EVERY_SECS: i64 = 5;

/// "Time left to pay: 14:05 (until 16:20)". Not a live region: a reader
/// would hear it every second. When time is up it says so and looks at the
/// order now and then, so the page shows it cancelled when the shop does.
#[component]
pub fn TimeLeft(order: RwSignal<Order>) -> impl IntoView {
    let shop = use_shop();
    let Some(until) = order.with_untracked(deadline) else {
        return ().into_any();
    };
    let id = order.with_untracked(|o| o.id);
    let left = RwSignal::new((until - now()).num_seconds());
    // When (in seconds left, negative) the page last looked. Counted, not
    // `secs % 5 == 0`: a busy browser delays the interval, and a tick that
    // skips that second would put the look off by another five.
    let looked = StoredValue::new(None::<i64>);
    let tick = move || {
        let secs = (until - now()).num_seconds();
        left.try_set(secs);
        let due = looked
            .try_get_value()
            .map(|at| at.is_none_or(|at| at - secs >= EXPIRED_LOOK_EVERY_SECS))
            .unwrap_or(false);
        if secs < 0 && due {
            looked.try_set_value(Some(secs));
            leptos::task::spawn_local(async move {
                if let Ok(now) = shop.api.order(id).await {
                    if now.status != OrderStatus::AwaitingPayment {
                        order.try_set(now);
                    }
                }
            });
        }
    };
    if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <p class="time-left" data-testid="time-left">
            {move || if left.get() > 0 {
                view! {
                    "Time left to pay: " <strong>{clock(left.get())}</strong>
                    " (until " <time datetime=until.to_rfc3339()>{local_time(&until)}</time> ")"
                }
                .into_any()
            } else {
                "The time to pay has run out: the shop is cancelling this order.".into_any()
            }}
        </p>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::order::{Actor, OrderEvent};

    /// An order that started awaiting payment at 08:00, and that moment.
    fn awaiting_since_eight() -> (Order, DateTime<Utc>) {
        let at = DateTime::parse_from_rfc3339("2026-12-06T08:00:00Z")
            .unwrap()
            .to_utc();
        let order = Order {
            events: vec![OrderEvent {
                status: OrderStatus::AwaitingPayment,
                at,
                by: Actor::Shopper,
            }],
            ..Default::default()
        };
        (order, at)
    }

    #[test]
    fn the_deadline_counts_from_awaiting_payment() {
        let (order, at) = awaiting_since_eight();
        assert_eq!(deadline(&order), Some(at + Duration::seconds(900)));
        assert_eq!(deadline(&Order::default()), None);
    }

    #[test]
    fn the_deadline_the_order_says_wins() {
        let (mut order, at) = awaiting_since_eight();
        order.payment = Some(shared::order::Payment {
            status: "requires_payment_method".into(),
            amount: 100,
            error: None,
            client_secret: None,
            expires_at: Some(at + Duration::seconds(30)),
        });
        assert_eq!(deadline(&order), Some(at + Duration::seconds(30)));
    }

    #[test]
    fn the_clock_reads_minutes_and_seconds() {
        assert_eq!(clock(845), "14:05");
        assert_eq!(clock(59), "0:59");
        assert_eq!(clock(-3), "0:00");
    }
}
