//! Payment attempts and webhook events in the database (the story is in
//! `crate::payments`): an attempt is written before the provider is called,
//! then updated with what the provider said. Each write is one statement.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::{with_conn, ApiError, ApiResult, Db};

use super::models::AttemptRow;
use super::schema::{payment_attempts as pa, payment_events};
use shared::OrderStatus;

/// The attempts of an order, oldest first.
pub async fn attempts(db: &Db, order_id: i64) -> ApiResult<Vec<AttemptRow>> {
    with_conn!(db, |conn| {
        pa::table
            .filter(pa::order_id.eq(order_id))
            .order(pa::attempt)
            .select(AttemptRow::as_select())
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// The attempt of a PaymentIntent, if it is one of this shop's.
pub async fn by_intent(db: &Db, intent_id: &str) -> ApiResult<Option<AttemptRow>> {
    let intent_id = intent_id.to_owned();
    with_conn!(db, |conn| {
        pa::table
            .filter(pa::intent_id.eq(&intent_id))
            .select(AttemptRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Records attempt number `attempt` of the order before the provider is
/// called; `None` when a racing request recorded that number first.
pub async fn begin(
    db: &Db,
    order_id: i64,
    attempt: i32,
    attempt_key: &str,
    amount: i64,
    pay_started_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> ApiResult<Option<AttemptRow>> {
    let attempt_key = attempt_key.to_owned();
    with_conn!(db, |conn| {
        let inserted = diesel::insert_into(pa::table)
            .values((
                pa::order_id.eq(order_id),
                pa::attempt.eq(attempt),
                pa::attempt_key.eq(&attempt_key),
                pa::amount.eq(amount),
                pa::status.eq("creating"),
                pa::pay_started_at.eq(pay_started_at),
                pa::created_at.eq(now),
            ))
            .on_conflict((pa::order_id, pa::attempt))
            .do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            return Ok(None);
        }
        pa::table
            .filter(pa::order_id.eq(order_id))
            .filter(pa::attempt.eq(attempt))
            .select(AttemptRow::as_select())
            .first(conn)
            .await
            .map(Some)
            .map_err(ApiError::from)
    })
}

/// The provider made the attempt's PaymentIntent.
pub async fn created(
    db: &Db,
    id: i64,
    intent_id: &str,
    client_secret: Option<String>,
    status: &str,
) -> ApiResult<()> {
    let (intent_id, status) = (intent_id.to_owned(), status.to_owned());
    with_conn!(db, |conn| {
        diesel::update(pa::table.find(id))
            .set((
                pa::intent_id.eq(Some(&intent_id)),
                pa::client_secret.eq(client_secret),
                pa::status.eq(&status),
            ))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// What the provider says of the attempt now; `error` replaces the sentence
/// when given. An attempt seen succeeded never goes back to anything else.
pub async fn seen(db: &Db, id: i64, status: &str, error: Option<Option<String>>) -> ApiResult<()> {
    let status = status.to_owned();
    with_conn!(db, |conn| {
        let target = pa::table.find(id).filter(pa::status.ne("succeeded"));
        let done = match error {
            Some(error) => {
                diesel::update(target)
                    .set((pa::status.eq(&status), pa::error.eq(error)))
                    .execute(conn)
                    .await
            }
            None => {
                diesel::update(target)
                    .set(pa::status.eq(&status))
                    .execute(conn)
                    .await
            }
        };
        done.map(|_| ()).map_err(ApiError::from)
    })
}

/// A `pay` is about to confirm the attempt (recorded before the provider is
/// called): the next `pay` makes a new attempt, and expiry waits.
pub async fn confirming(db: &Db, id: i64, now: NaiveDateTime) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(pa::table.find(id))
            .set((
                pa::confirmed.eq(true),
                pa::pay_started_at.eq(Some(now)),
                pa::error.eq(None::<String>),
            ))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// A `pay` of the order began now (expiry waits a while after it).
pub async fn pay_begun(db: &Db, order_id: i64, now: NaiveDateTime) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(pa::table.filter(pa::order_id.eq(order_id)))
            .set(pa::pay_started_at.eq(Some(now)))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// The attempt's money went back.
pub async fn refunded(db: &Db, id: i64) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(pa::table.find(id))
            .set(pa::refunded.eq(true))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// Whether the webhook event was applied already.
pub async fn event_seen(db: &Db, event_id: &str) -> ApiResult<bool> {
    let event_id = event_id.to_owned();
    with_conn!(db.reader(), |conn| {
        payment_events::table
            .find(&event_id)
            .count()
            .get_result::<i64>(conn)
            .await
            .map(|n| n > 0)
            .map_err(ApiError::from)
    })
}

/// Remembers a webhook event as applied.
pub async fn event_applied(db: &Db, event_id: &str, now: NaiveDateTime) -> ApiResult<()> {
    let event_id = event_id.to_owned();
    with_conn!(db, |conn| {
        diesel::insert_into(payment_events::table)
            .values((
                payment_events::id.eq(&event_id),
                payment_events::received_at.eq(now),
            ))
            .on_conflict(payment_events::id)
            .do_nothing()
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// How many orders the user has awaiting payment.
pub async fn unpaid_of(db: &Db, user_id: i64) -> ApiResult<i64> {
    use super::schema::orders;
    with_conn!(db, |conn| {
        orders::table
            .filter(orders::user_id.eq(user_id))
            .filter(orders::status.eq(OrderStatus::AwaitingPayment.as_str()))
            .count()
            .get_result::<i64>(conn)
            .await
            .map_err(ApiError::from)
    })
}
