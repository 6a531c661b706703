//! A change of an order's status in one transaction (the story is in
//! [the module](super)): the order's row locked, its status read, the
//! transitions table consulted, the change written conditionally on the
//! status read, and its timeline step and effects (stock release, refund,
//! emails) written to the outbox in the same commit.

use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::{with_conn, ApiError, ApiResult, Db};
use shared::{Actor, OrderStatus};

use super::machine::{decide, Action, Decision, Effects, Refusal};
use crate::config::MailConfig;
use crate::db::models::{EventRow, NewEffect, OrderWithItems};
use crate::db::queries::with_details;
use crate::db::schema::orders;
use crate::db::store::Store;
use crate::outbox::message::{compose, Recipient};
use crate::outbox::{effect, Effect};

/// Who asks for a change: the order's owner, an admin, or the service itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Owner(i64),
    Admin,
    System,
}

/// What a change came to.
#[derive(Debug)]
pub enum Outcome {
    /// Changed, committed, its effects in the outbox.
    Changed(OrderWithItems),
    /// Nothing to do (cancelled already); the order as it is.
    Unchanged(OrderWithItems),
    /// Refused: the order is not in a status the action moves from.
    Refused(Refusal, OrderWithItems),
    /// No such order, or not the caller's.
    NotFound,
}

/// Applies `action` to the order, as `who`.
pub async fn transition(
    db: &Db,
    order_id: i64,
    who: Who,
    action: Action,
    mail: &MailConfig,
) -> ApiResult<Outcome> {
    let mail = mail.clone();
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                // Two changes of one order queue here; the second reads what
                // the first committed.
                if !conn.lock_order(order_id).await? {
                    return Ok(Outcome::NotFound);
                }
                // Read under the lock: the timeline's times follow its order.
                let now = chrono::Utc::now().naive_utc();
                let Some(order) = conn.find_order(order_id).await? else {
                    return Ok(Outcome::NotFound);
                };
                if matches!(who, Who::Owner(user) if user != order.user_id) {
                    return Ok(Outcome::NotFound);
                }
                // Its lines and timeline, read once: every outcome answers with them.
                let mut order = with_details(conn, vec![order]).await?.remove(0);
                let from = order.order.status();
                let (to, reason, effects) = match decide(from, &action) {
                    Decision::Move {
                        to,
                        reason,
                        effects,
                    } => (to, reason, effects),
                    Decision::Unchanged => return Ok(Outcome::Unchanged(order)),
                    Decision::RefundLatePayment => {
                        conn.enqueue(vec![effect(&order, Effect::Refund, now)])
                            .await?;
                        return Ok(Outcome::Unchanged(order));
                    }
                    Decision::Refuse(refusal) => return Ok(Outcome::Refused(refusal, order)),
                };
                let tracking = match &action {
                    Action::Ship { tracking_number } => Some(tracking_number.clone()),
                    _ => order.order.tracking_number.clone(),
                };
                let reason = reason
                    .map(|r| r.as_str().to_owned())
                    .or(order.order.cancel_reason.clone());
                let moved = diesel::update(
                    orders::table
                        .find(order_id)
                        .filter(orders::status.eq(from.as_str())),
                )
                .set((
                    orders::status.eq(to.as_str()),
                    orders::tracking_number.eq(&tracking),
                    orders::cancel_reason.eq(&reason),
                ))
                .execute(conn)
                .await?;
                if moved == 0 {
                    // Cannot happen under the row lock; refused rather than
                    // written twice if it ever did.
                    return Ok(Outcome::Refused(Refusal::InvalidTransition, order));
                }
                // What the update wrote, without reading the row back.
                order.order.status = to.as_str().to_owned();
                order.order.tracking_number = tracking;
                order.order.cancel_reason = reason;
                let order = record(conn, order, to, action.actor(), effects, &mail, now).await?;
                Ok(Outcome::Changed(order))
            }
            .scope_boxed()
        })
        .await
    })
}

/// Writes the timeline step of a change to `to` and its effects, in the
/// transaction that made it; the order as it is then.
pub async fn record<C: Store + Send>(
    conn: &mut C,
    mut order: OrderWithItems,
    to: OrderStatus,
    actor: Actor,
    effects: Effects,
    mail: &MailConfig,
    now: NaiveDateTime,
) -> diesel::QueryResult<OrderWithItems> {
    let event = EventRow {
        order_id: order.order.id,
        status: to.as_str().to_owned(),
        // As both backends keep it (microseconds), so the answer is what a read gives.
        at: now.trunc_subsecs(6),
        actor: actor.as_str().to_owned(),
    };
    conn.add_event(event.clone()).await?;
    order.events.push(event);
    let mut outbox: Vec<NewEffect> = Vec::new();
    if effects.release_stock {
        outbox.push(effect(&order, Effect::Release, now));
    }
    if effects.refund {
        outbox.push(effect(&order, Effect::Refund, now));
    }
    if effects.email_shopper {
        if let Some(to_address) = order.order.email.clone() {
            let email = compose(mail, &order, to, Recipient::Shopper, &to_address);
            outbox.push(effect(&order, Effect::Email(email), now));
        }
    }
    if effects.email_merchant {
        if let Some(merchant) = &mail.merchant {
            let email = compose(mail, &order, to, Recipient::Merchant, merchant);
            outbox.push(effect(&order, Effect::Email(email), now));
        }
    }
    conn.enqueue(outbox).await?;
    Ok(order)
}

/// Orders awaiting payment since before `before`, oldest first.
pub async fn awaiting_payment_since(
    db: &Db,
    before: NaiveDateTime,
    limit: i64,
) -> ApiResult<Vec<i64>> {
    with_conn!(db, |conn| {
        orders::table
            .filter(orders::status.eq(OrderStatus::AwaitingPayment.as_str()))
            .filter(orders::checked_out_at.lt(before))
            .order(orders::checked_out_at)
            .limit(limit)
            .select(orders::id)
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}
