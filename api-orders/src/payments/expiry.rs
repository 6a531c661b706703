//! An order not paid in time is cancelled (`payment_timeout`) and its stock
//! released (contract v1.3); the sweep that does it also reconciles payments
//! with the provider. Any replica may take any order: the change is
//! conditional, so each expires once.

use std::time::Duration;

use chrono::Utc;
use server::ApiResult;
use shared::OrderStatus;

use crate::config::LifecycleConfig;
use crate::lifecycle::change::awaiting_payment_since;
use crate::lifecycle::machine::Action;
use crate::lifecycle::{act, Who};
use crate::state::AppState;

/// Starts this replica's sweeps: the payments reconcile (orders awaiting
/// payment over a minute are checked with the provider), then expiry: orders
/// awaiting payment longer than `ORDER_PAYMENT_TTL_SECS` are cancelled
/// (`payment_timeout`) and their stock released. Any replica may take any
/// order: the change is conditional, so each expires once.
pub fn spawn(state: AppState, config: LifecycleConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.expiry_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = super::reconcile(&state).await {
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
    let before = Utc::now().naive_utc() - chrono::Duration::from_std(ttl).unwrap_or_default();
    let mut expired = 0;
    for order_id in awaiting_payment_since(&state.db, before, 100).await? {
        if state.stripe.is_some() {
            use super::{before_expiry, BeforeExpiry};
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
