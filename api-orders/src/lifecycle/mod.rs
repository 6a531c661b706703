//! What happens to an order after checkout (contract v1.3, "Orders after
//! checkout"): one state machine ([`machine`], the contract's transitions
//! table and nothing else) applied by one transaction per change
//! ([`crate::db::lifecycle`]), whose effects go to the outbox
//! ([`crate::outbox`]) in the same commit.
//!
//! ```text
//!  open --checkout--> placed ------------ship--> shipped --deliver--> delivered
//!    \                  |                 ^
//!     \--checkout--> awaiting_payment --pay--> paid
//!                       |                 |     |
//!                       +--cancel/expire--+-----+--cancel--> cancelled
//! ```
//!
//! Each change is conditional on the status read under the order's row lock,
//! so of two racing changes the second sees the first and gets 409
//! (`not_cancellable`, `invalid_transition`) having changed nothing; a second
//! cancel of a cancelled order answers 200 with it unchanged. The stock of a
//! cancelled or expired order goes back by its checkout's reservation, once
//! (the products service releases a reservation's units only once).

pub mod machine;

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use server::{ApiError, ApiResult};
use shared::OrderStatus;

use crate::config::LifecycleConfig;
use crate::db::lifecycle::{self as change, Outcome, Who};
use crate::db::models::OrderWithItems;
use crate::state::AppState;
use machine::{Action, Refusal};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// 404 for an order that does not exist or is someone else's.
pub fn no_such_order() -> ApiError {
    ApiError::not_found("No such order")
}

/// Applies `action` to the order as `who`: the order after it, or the 404 or
/// 409 the contract names.
pub async fn act(
    state: &AppState,
    order_id: i64,
    who: Who,
    action: Action,
) -> ApiResult<OrderWithItems> {
    let outcome =
        change::transition(&state.db, order_id, who, action.clone(), &state.config.mail).await?;
    match outcome {
        Outcome::Changed(order) => {
            state.relay.wake();
            tracing::info!(
                order_id,
                status = %order.order.status(),
                by = action.actor().as_str(),
                "order changed"
            );
            Ok(order)
        }
        Outcome::Unchanged(order) => {
            state.relay.wake(); // a late payment's refund, if any
            Ok(order)
        }
        Outcome::Refused(refusal, order) => Err(refused(refusal, &action, order.order.status())),
        Outcome::NotFound => Err(no_such_order()),
    }
}

fn refused(refusal: Refusal, action: &Action, status: OrderStatus) -> ApiError {
    let status = status.label().to_lowercase();
    match refusal {
        Refusal::NotCancellable => ApiError::conflict(
            "not_cancellable",
            format!("This order can no longer be cancelled: it is {status}"),
        ),
        Refusal::InvalidTransition => {
            let verb = match action {
                Action::Ship { .. } => "shipped",
                Action::Deliver => "marked delivered",
                Action::Pay => "paid",
                Action::CheckOut { .. } => "checked out",
                Action::Cancel { .. } | Action::Expire => "cancelled",
            };
            ApiError::conflict(
                "invalid_transition",
                format!("This order cannot be {verb} now: it is {status}"),
            )
        }
    }
}

/// Starts this replica's sweeps: the payments reconcile (orders awaiting
/// payment over a minute are checked with the provider), then expiry: orders
/// awaiting payment longer than `ORDER_PAYMENT_TTL_SECS` are cancelled
/// (`payment_timeout`) and their stock released. Any replica may take any
/// order: the change is conditional, so each expires once.
pub fn spawn_expiry(state: AppState, config: LifecycleConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.expiry_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = crate::payments::reconcile(&state).await {
                tracing::warn!(error = %e, "payment reconcile: will try again");
            }
            if let Err(e) = expire(&state, config.payment_ttl).await {
                tracing::warn!(error = %e, "order expiry: will try again");
            }
        }
    })
}

/// Cancels the orders awaiting payment since before `ttl` ago; how many.
/// With payments on, the provider is asked first (contract v1.3): a
/// succeeded PaymentIntent makes the order paid instead, one processing (or
/// a `pay` begun under a minute ago) waits for the next sweep, and otherwise
/// every PaymentIntent of the order is cancelled before it expires.
pub async fn expire(state: &AppState, ttl: Duration) -> ApiResult<usize> {
    let before = now() - chrono::Duration::from_std(ttl).unwrap_or_default();
    let mut expired = 0;
    for order_id in change::awaiting_payment_since(&state.db, before, 100).await? {
        if state.stripe.is_some() {
            use crate::payments::{before_expiry, BeforeExpiry};
            match before_expiry(state, order_id).await {
                Ok(BeforeExpiry::Expire) => {}
                Ok(BeforeExpiry::Paid | BeforeExpiry::Wait) => continue,
                Err(e) => {
                    tracing::warn!(order_id, error = %e, "order expiry: the provider first");
                    continue;
                }
            }
        }
        match act(state, order_id, Who::System, Action::Expire).await {
            Ok(order) if order.order.status() == OrderStatus::Cancelled => expired += 1,
            Ok(_) => {}
            Err(e) => tracing::warn!(order_id, error = %e, "order expiry: not this time"),
        }
    }
    Ok(expired)
}
