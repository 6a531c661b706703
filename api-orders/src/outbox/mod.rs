//! The outbox: what has to happen after an order changes (its stock given
//! back, its money refunded, its emails sent) is written in the transaction
//! of the change ([`crate::db::lifecycle::record`]), then carried out by a
//! relay on every replica, at least once, so that a crash between the change
//! and its effect is finished by whichever replica looks next, and a mail
//! server that is down delays mail without slowing or failing any order.
//!
//! Each effect is one row (`dedupe` keeps a retried change from writing it
//! twice). A relay leases a row before carrying it out; a lease that runs
//! out (its relay died) lets another take it. Effects are idempotent where
//! they land: a release is by the reservation's name (the products service
//! gives its units back once), an email carries a `Message-ID` fixed by the
//! order and the status, so the only duplicate there can be is a resend after
//! a crash between sending and recording, and it is recognisably the same
//! message.

pub mod message;

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::models::{NewEffect, OrderWithItems};
use crate::db::outbox::{self as rows, DueEffect};
use crate::mailer::{Email, SendError};
use crate::state::AppState;

/// How long a relay holds a row it works on; well above any one effect's time
/// limits (SMTP 10 s, the products service 3 s).
const LEASE: Duration = Duration::from_secs(20);
/// Rows looked at per round.
const BATCH: i64 = 50;
/// The longest wait before trying an effect again.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// One effect of a change.
#[derive(Debug, Clone)]
pub enum Effect {
    /// The order's reservation goes back to stock.
    Release,
    /// The order's payment goes back to the shopper.
    Refund,
    Email(Email),
}

#[derive(Serialize, Deserialize)]
struct ReleasePayload {
    reservation: String,
}

#[derive(Serialize, Deserialize)]
struct RefundPayload {
    order_id: i64,
}

/// The outbox row of `effect` for `order`.
pub fn effect(order: &OrderWithItems, effect: Effect, now: NaiveDateTime) -> NewEffect {
    let order_id = order.order.id;
    let (kind, dedupe, payload) = match effect {
        Effect::Release => {
            let reservation = order.order.reservation();
            (
                "release",
                format!("release:{reservation}"),
                serde_json::to_string(&ReleasePayload { reservation }),
            )
        }
        Effect::Refund => (
            "refund",
            format!(
                "refund:{order_id}:{}",
                order.order.created_at.and_utc().timestamp_millis()
            ),
            serde_json::to_string(&RefundPayload { order_id }),
        ),
        Effect::Email(email) => (
            "email",
            email.message_id.clone(),
            serde_json::to_string(&email),
        ),
    };
    NewEffect {
        order_id,
        effect: kind.to_owned(),
        dedupe,
        payload: payload.expect("effects serialize"),
        created_at: now,
        next_at: now,
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Starts this replica's relay: woken by a change in this process, and every
/// `every` for the others'.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match relay(&state).await {
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox: will try again"),
            }
            tokio::select! {
                _ = state.relay.woken() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Carries out what is due; how many effects were done.
pub async fn relay(state: &AppState) -> server::ApiResult<usize> {
    let mut done = 0;
    loop {
        let due = rows::due(&state.db, now(), BATCH).await?;
        let seen = due.len();
        let mut mail_down = false;
        for row in due {
            if mail_down && row.effect == "email" {
                continue; // the server is down: not one connection per message
            }
            let lease_until = now() + chrono::Duration::from_std(LEASE).unwrap_or_default();
            if !rows::claim(&state.db, row.id, now(), lease_until).await? {
                continue; // another replica has it
            }
            match carry_out(state, &row).await {
                Ok(()) => {
                    rows::finish(&state.db, row.id, now(), None).await?;
                    done += 1;
                }
                Err(SendError::Never(error)) => {
                    tracing::error!(
                        order_id = row.order_id,
                        effect = row.effect,
                        error,
                        "outbox: given up"
                    );
                    rows::finish(&state.db, row.id, now(), Some(error)).await?;
                }
                Err(SendError::Later(error)) => {
                    mail_down |= row.effect == "email";
                    let wait = backoff(row.attempts + 1);
                    tracing::warn!(
                        order_id = row.order_id,
                        effect = row.effect,
                        error,
                        retry_in_ms = wait.as_millis() as u64,
                        "outbox: failed, will retry"
                    );
                    let next = now() + chrono::Duration::from_std(wait).unwrap_or_default();
                    rows::postpone(&state.db, row.id, next, error).await?;
                }
            }
        }
        if (seen as i64) < BATCH || mail_down {
            return Ok(done);
        }
    }
}

/// 0.5 s, 1 s, 2 s, ... up to [`MAX_BACKOFF`].
fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 16) as u32 - 1;
    Duration::from_millis(500u64.saturating_mul(1 << exp)).min(MAX_BACKOFF)
}

async fn carry_out(state: &AppState, row: &DueEffect) -> Result<(), SendError> {
    let bad = |e: serde_json::Error| SendError::Never(format!("unreadable payload: {e}"));
    match row.effect.as_str() {
        "release" => {
            let ReleasePayload { reservation } = serde_json::from_str(&row.payload).map_err(bad)?;
            if state.products.release(&reservation).await {
                tracing::info!(
                    order_id = row.order_id,
                    reservation,
                    "outbox: stock released"
                );
                Ok(())
            } else {
                Err(SendError::Later(
                    "the products service did not answer".into(),
                ))
            }
        }
        "email" => {
            let email: Email = serde_json::from_str(&row.payload).map_err(bad)?;
            state.mailer.send(&email).await?;
            tracing::info!(
                order_id = row.order_id,
                message_id = email.message_id,
                "outbox: email sent"
            );
            Ok(())
        }
        "refund" => {
            let RefundPayload { order_id } = serde_json::from_str(&row.payload).map_err(bad)?;
            crate::payments::refund(state, order_id)
                .await
                .map_err(|crate::payments::RefundError::Later(e)| SendError::Later(e))
        }
        other => Err(SendError::Never(format!("unknown effect {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }
}
