//! Payments through Stripe's PaymentIntents API (contract v1.3, "Payments").
//!
//! Each payment attempt of an order is a PaymentIntent of its own, recorded
//! in `payment_attempts` *before* the provider is called, with a random
//! `attempt_key` that goes into the PaymentIntent's metadata and into every
//! `Idempotency-Key` sent for it. After a timeout or a crash the attempt is
//! found again by its PaymentIntent's id, or, when the id never came back, by
//! listing the provider's PaymentIntents and matching `metadata.order_id` and
//! `metadata.attempt_key` (the emulator has no search and ignores
//! `Idempotency-Key`), so a retry never makes a second PaymentIntent.
//!
//! - **Checkout** reserves, then [`intent_for_checkout`], then closes as
//!   `awaiting_payment` (see `crate::checkout`).
//! - **`pay`** confirms the current attempt with the shopper's payment
//!   method; an attempt confirmed once (declined, or its bank step abandoned)
//!   is cancelled at the provider and a new one made, so at most one
//!   PaymentIntent of an order can ever succeed.
//! - **Sync** (the `payment/sync` route, the reconcile sweep, webhooks, the
//!   expiry sweep) asks the provider and applies what it says through the
//!   order's state machine (`Action::Pay`): `paid` once, whoever sees it
//!   first; a success for an order already cancelled is refunded.
//! - **Refunds** are the outbox's `refund` effect ([`refund`]): it reads the
//!   refunds already made first and refunds only what is left.

pub mod expiry;
pub mod webhook;

use chrono::{NaiveDateTime, Utc};
use rand::Rng;
use server::{ApiError, ApiResult};
use shared::OrderStatus;

use crate::db::models::{AttemptRow, OrderWithItems};
use crate::db::payments as rows;
use crate::db::queries;
use crate::lifecycle::machine::Action;
use crate::lifecycle::{act, no_such_order, Who};
use crate::metrics::Payment;
use crate::state::AppState;
use crate::stripe::{Intent, Problem, Stripe, StripeError};

/// At most this many orders of one shopper await payment at once.
pub const MAX_UNPAID: i64 = 3;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// 503: the provider did not answer (nothing about it in the body).
pub fn provider_down() -> ApiError {
    ApiError::Unavailable("The payment provider")
}

/// The answer to a shopper for a provider failure that is not a decline:
/// logged with the provider's code, answered with nothing of it.
fn unavailable(order_id: i64, e: &StripeError) -> ApiError {
    tracing::warn!(order_id, error = %e, "payment provider call failed");
    provider_down()
}

/// Records that `attempt_id` was declined: back to needing a card, with the
/// sentence for the shopper (from `pay` and from the webhook alike).
async fn record_decline(state: &AppState, attempt_id: i64, problem: &Problem) -> ApiResult<()> {
    rows::seen(
        &state.db,
        attempt_id,
        "requires_payment_method",
        Some(Some(sentence(problem))),
    )
    .await
}

/// A sentence for people for what the provider said of a failed attempt
/// (never the provider's own words or codes).
pub fn sentence(problem: &Problem) -> String {
    let code = problem.decline_code.as_deref().or(problem.code.as_deref());
    match code {
        Some("insufficient_funds") => "Your card has insufficient funds.",
        Some("expired_card") => "Your card has expired.",
        Some("incorrect_cvc") => "Your card's security code is incorrect.",
        Some("incorrect_number") => "Your card number is incorrect.",
        Some("payment_intent_authentication_failure") => {
            "Your bank did not confirm the payment. Try again, or use another card."
        }
        Some("processing_error") => "Your card could not be charged just now. Try again.",
        Some(_) | None => "Your card was declined.",
    }
    .to_owned()
}

/// Payment statuses from which a PaymentIntent can still be cancelled.
fn cancellable(status: &str) -> bool {
    matches!(
        status,
        "requires_payment_method" | "requires_confirmation" | "requires_action" | "creating"
    )
}

fn stripe(state: &AppState) -> ApiResult<&Stripe> {
    state
        .stripe
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Payments are off in this shop"))
}

fn idempotency_key(attempt: &AttemptRow, step: &str) -> String {
    format!(
        "order{}-attempt{}-{}-{step}",
        attempt.order_id, attempt.attempt, attempt.attempt_key
    )
}

/// The attempt's PaymentIntent: by id when known, else found by its
/// metadata, else made now (recording its id).
async fn ensure_created(
    state: &AppState,
    stripe: &Stripe,
    attempt: &mut AttemptRow,
) -> Result<Intent, StripeError> {
    if let Some(id) = &attempt.intent_id {
        return stripe.intent(id).await;
    }
    let found = stripe
        .find_intents(attempt.order_id, Some(&attempt.attempt_key))
        .await?
        .into_iter()
        .next();
    let intent = match found {
        Some(intent) => intent,
        None => {
            stripe
                .create_intent(
                    attempt.amount,
                    attempt.order_id,
                    &attempt.attempt_key,
                    &idempotency_key(attempt, "create"),
                )
                .await?
        }
    };
    record_created(state, attempt, &intent).await;
    Ok(intent)
}

async fn record_created(state: &AppState, attempt: &mut AttemptRow, intent: &Intent) {
    // A failure to record is repaired by the next lookup (by metadata).
    if let Err(e) = rows::created(
        &state.db,
        attempt.id,
        &intent.id,
        intent.client_secret.clone(),
        &intent.status,
    )
    .await
    {
        tracing::warn!(order_id = attempt.order_id, error = %e, "payment attempt not recorded");
    }
    attempt.intent_id = Some(intent.id.clone());
    attempt.client_secret = intent.client_secret.clone();
    attempt.status = intent.status.clone();
}

/// A new attempt after `latest` (or the first), recorded, then made at the provider.
async fn new_attempt(
    state: &AppState,
    stripe: &Stripe,
    order_id: i64,
    amount: i64,
    latest: Option<&AttemptRow>,
    pay_started_at: Option<NaiveDateTime>,
) -> ApiResult<(AttemptRow, Intent)> {
    let number = latest.map_or(1, |a| a.attempt + 1);
    let key = format!("{:016x}", rand::thread_rng().gen::<u64>());
    let Some(mut attempt) = rows::begin(
        &state.db,
        order_id,
        number,
        &key,
        amount,
        pay_started_at,
        now(),
    )
    .await?
    else {
        return Err(ApiError::conflict(
            "payment_in_progress",
            "A payment of this order is being made; try again in a moment",
        ));
    };
    let intent = ensure_created(state, stripe, &mut attempt)
        .await
        .map_err(|e| unavailable(order_id, &e))?;
    Ok((attempt, intent))
}

/// Checkout's step between reserving and closing: the order's PaymentIntent
/// for `amount`. A retry of the checkout (a crash, a timeout) finds the
/// attempt it recorded and its PaymentIntent instead of making another.
pub async fn intent_for_checkout(state: &AppState, order_id: i64, amount: i64) -> ApiResult<()> {
    let stripe = stripe(state)?;
    let attempts = rows::attempts(&state.db, order_id).await?;
    if let Some(latest) = attempts.last() {
        if latest.amount == amount && !latest.confirmed && cancellable(&latest.status) {
            let mut latest = latest.clone();
            return ensure_created(state, stripe, &mut latest)
                .await
                .map(|_| ())
                .map_err(|e| unavailable(order_id, &e));
        }
    }
    new_attempt(state, stripe, order_id, amount, attempts.last(), None)
        .await
        .map(|_| ())
}

/// What the provider says of the attempt now, recorded; `None` for an
/// attempt whose PaymentIntent was never made.
async fn refresh(
    state: &AppState,
    stripe: &Stripe,
    attempt: &mut AttemptRow,
) -> Result<Option<Intent>, StripeError> {
    let intent = match &attempt.intent_id {
        Some(id) => stripe.intent(id).await?,
        None => {
            let found = stripe
                .find_intents(attempt.order_id, Some(&attempt.attempt_key))
                .await?;
            let Some(intent) = found.into_iter().next() else {
                return Ok(None);
            };
            record_created(state, attempt, &intent).await;
            intent
        }
    };
    if intent.status != attempt.status {
        let error = intent
            .last_payment_error
            .as_ref()
            .filter(|_| intent.status == "requires_payment_method")
            .map(|p| Some(sentence(p)));
        if let Err(e) = rows::seen(&state.db, attempt.id, &intent.status, error.clone()).await {
            tracing::warn!(order_id = attempt.order_id, error = %e, "payment status not recorded");
        }
        attempt.status = intent.status.clone();
        if let Some(error) = error {
            attempt.error = error;
        }
    }
    Ok(Some(intent))
}

/// What the provider says of an order's attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// One succeeded: the order was moved on (paid, or refunded if cancelled).
    Succeeded,
    /// One is `processing`: the bank has not answered yet.
    Processing,
    /// None succeeded.
    Open,
}

/// Asks the provider about each attempt of the order and applies a success
/// (contract: the `payment/sync` route, the reconcile sweep, expiry).
pub async fn sync(state: &AppState, order_id: i64) -> ApiResult<Settled> {
    let stripe = stripe(state)?;
    let mut settled = Settled::Open;
    for mut attempt in rows::attempts(&state.db, order_id).await? {
        if attempt.refunded || attempt.status == "canceled" {
            continue;
        }
        let intent = refresh(state, stripe, &mut attempt)
            .await
            .map_err(|e| unavailable(order_id, &e))?;
        match intent.as_ref().map(|i| i.status.as_str()) {
            Some("succeeded") => {
                settled = Settled::Succeeded;
                act(state, order_id, Who::System, Action::Pay).await?;
            }
            Some("processing") if settled == Settled::Open => settled = Settled::Processing,
            _ => {}
        }
    }
    Ok(settled)
}

/// `POST /api/order/{id}/pay`: confirms an attempt of the owner's order with
/// `payment_method` (`pm_...`, or a Stripe.js token `tok_...`).
pub async fn pay(
    state: &AppState,
    user_id: i64,
    order_id: i64,
    payment_method: &str,
) -> ApiResult<OrderWithItems> {
    let stripe = stripe(state)?;
    let order = queries::order(&state.db, order_id)
        .await?
        .filter(|o| o.order.user_id == user_id)
        .ok_or_else(no_such_order)?;
    if order.order.status() != OrderStatus::AwaitingPayment {
        return Err(not_awaiting(order.order.status()));
    }
    let now = now();
    // Expiry waits a while after a pay begins, whatever happens next.
    rows::pay_begun(&state.db, order_id, now).await?;
    // A token from Stripe.js stands for its card.
    let method = if payment_method.starts_with("tok_") {
        match stripe.token_card(payment_method).await {
            Ok(card) => card,
            Err(StripeError::Refused { .. }) => {
                return Err(unknown_method());
            }
            Err(e) => return Err(unavailable(order_id, &e)),
        }
    } else {
        payment_method.to_owned()
    };
    match sync(state, order_id).await? {
        Settled::Succeeded | Settled::Processing => return reread(state, order_id).await,
        Settled::Open => {}
    }
    let attempts = rows::attempts(&state.db, order_id).await?;
    let latest = attempts.last().cloned();
    let fresh = latest.as_ref().filter(|a| {
        !a.confirmed
            && matches!(
                a.status.as_str(),
                "requires_payment_method" | "requires_confirmation"
            )
            && a.error.is_none()
            && a.intent_id.is_some()
    });
    let attempt = match fresh {
        Some(attempt) => attempt.clone(),
        None => {
            // Every earlier PaymentIntent is cancelled before a new one is
            // made, so that no two of an order can succeed.
            for mut old in attempts.iter().filter(|a| cancellable(&a.status)).cloned() {
                if let Some(status) = cancel_attempt(state, stripe, &mut old).await? {
                    if status == "succeeded" || status == "processing" {
                        sync(state, order_id).await?;
                        return reread(state, order_id).await;
                    }
                }
            }
            new_attempt(
                state,
                stripe,
                order_id,
                order.order.total,
                latest.as_ref(),
                Some(now),
            )
            .await?
            .0
        }
    };
    confirm(state, stripe, attempt, &method).await?;
    reread(state, order_id).await
}

/// Cancels the attempt's PaymentIntent; the status it ended in (`None`:
/// there was none). A PaymentIntent that can no longer be cancelled (it
/// succeeded meanwhile) is read again instead.
async fn cancel_attempt(
    state: &AppState,
    stripe: &Stripe,
    attempt: &mut AttemptRow,
) -> ApiResult<Option<String>> {
    let order_id = attempt.order_id;
    let Some(intent) = refresh(state, stripe, attempt)
        .await
        .map_err(|e| unavailable(order_id, &e))?
    else {
        rows::seen(&state.db, attempt.id, "canceled", None).await?;
        return Ok(None);
    };
    if !cancellable(&intent.status) {
        return Ok(Some(intent.status));
    }
    match stripe
        .cancel(&intent.id, &idempotency_key(attempt, "cancel"))
        .await
    {
        Ok(intent) => {
            rows::seen(&state.db, attempt.id, &intent.status, None).await?;
            Ok(Some(intent.status))
        }
        Err(StripeError::Refused { .. }) => {
            let intent = refresh(state, stripe, attempt)
                .await
                .map_err(|e| unavailable(order_id, &e))?;
            Ok(intent.map(|i| i.status))
        }
        Err(e) => Err(unavailable(order_id, &e)),
    }
}

/// Sets the payment method and confirms; a decline is recorded on the
/// attempt as a sentence, a success applied to the order.
async fn confirm(
    state: &AppState,
    stripe: &Stripe,
    mut attempt: AttemptRow,
    method: &str,
) -> ApiResult<()> {
    let order_id = attempt.order_id;
    let Some(intent_id) = attempt.intent_id.clone() else {
        return Err(provider_down());
    };
    rows::confirming(&state.db, attempt.id, now()).await?;
    let attached = stripe
        .set_payment_method(
            &intent_id,
            method,
            &idempotency_key(&attempt, &format!("method-{method}")),
        )
        .await;
    let confirmed = match attached {
        Ok(_) => {
            stripe
                .confirm(&intent_id, &idempotency_key(&attempt, "confirm"))
                .await
        }
        Err(e) => Err(e),
    };
    state.metrics.payment(match &confirmed {
        Ok(intent) if intent.status == "succeeded" => Payment::Succeeded,
        Ok(_) => Payment::Pending,
        Err(StripeError::Declined(_)) => Payment::Declined,
        Err(StripeError::Refused { .. }) => Payment::Refused,
        Err(_) => Payment::Unavailable,
    });
    match confirmed {
        Ok(intent) => {
            rows::seen(&state.db, attempt.id, &intent.status, Some(None)).await?;
            if intent.status == "succeeded" {
                act(state, order_id, Who::System, Action::Pay).await?;
            }
            tracing::info!(order_id, status = intent.status, "payment confirmed");
            Ok(())
        }
        Err(StripeError::Declined(problem)) => {
            // The PaymentIntent is left as the provider has it (its status read again).
            let _ = refresh(state, stripe, &mut attempt).await;
            record_decline(state, attempt.id, &problem).await?;
            tracing::info!(order_id, code = ?problem.code, "payment declined");
            Ok(())
        }
        Err(StripeError::Refused { status, problem }) => {
            // An unknown payment method, or the PaymentIntent changed under us.
            tracing::info!(order_id, status, code = ?problem.code, "payment refused by the provider");
            let _ = refresh(state, stripe, &mut attempt).await;
            if attempt.status == "succeeded" {
                act(state, order_id, Who::System, Action::Pay).await?;
                return Ok(());
            }
            if status == 404 || problem.code.as_deref() == Some("resource_missing") {
                return Err(unknown_method());
            }
            rows::seen(
                &state.db,
                attempt.id,
                &attempt.status,
                Some(Some(
                    "The payment did not go through. Try another card.".into(),
                )),
            )
            .await?;
            Ok(())
        }
        Err(e) => Err(unavailable(order_id, &e)),
    }
}

fn unknown_method() -> ApiError {
    ApiError::field(
        "payment_method",
        "is not a card the payment provider knows; enter the card again",
    )
}

fn not_awaiting(status: OrderStatus) -> ApiError {
    ApiError::conflict(
        "invalid_transition",
        format!(
            "This order cannot be paid now: it is {}",
            status.label().to_lowercase()
        ),
    )
}

async fn reread(state: &AppState, order_id: i64) -> ApiResult<OrderWithItems> {
    queries::order(&state.db, order_id)
        .await?
        .ok_or_else(no_such_order)
}

/// What expiry may do with an order awaiting payment past its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeforeExpiry {
    /// A PaymentIntent succeeded: the order is paid instead.
    Paid,
    /// The bank is processing, or a `pay` began under a minute ago: next sweep.
    Wait,
    /// Every PaymentIntent of the order is cancelled: expire it.
    Expire,
}

/// The contract's expiry rule: the provider is asked first.
pub async fn before_expiry(state: &AppState, order_id: i64) -> ApiResult<BeforeExpiry> {
    let stripe = stripe(state)?;
    let wait = state
        .config
        .payments
        .as_ref()
        .map(|p| p.reconcile_after)
        .unwrap_or_default();
    match sync(state, order_id).await? {
        Settled::Succeeded => return Ok(BeforeExpiry::Paid),
        Settled::Processing => return Ok(BeforeExpiry::Wait),
        Settled::Open => {}
    }
    let attempts = rows::attempts(&state.db, order_id).await?;
    let recent = now() - chrono::Duration::from_std(wait).unwrap_or_default();
    if attempts
        .iter()
        .any(|a| a.pay_started_at.is_some_and(|at| at > recent))
    {
        return Ok(BeforeExpiry::Wait);
    }
    for mut attempt in attempts.into_iter().filter(|a| cancellable(&a.status)) {
        match cancel_attempt(state, stripe, &mut attempt)
            .await?
            .as_deref()
        {
            Some("succeeded") => {
                sync(state, order_id).await?;
                return Ok(BeforeExpiry::Paid);
            }
            Some("processing") => return Ok(BeforeExpiry::Wait),
            _ => {}
        }
    }
    Ok(BeforeExpiry::Expire)
}

/// The reconcile sweep: every order awaiting payment for longer than
/// `PAYMENT_RECONCILE_AFTER_SECS` is checked with the provider, so a lost
/// webhook never loses a payment. How many became paid.
pub async fn reconcile(state: &AppState) -> ApiResult<usize> {
    let Some(config) = &state.config.payments else {
        return Ok(0);
    };
    let before = now() - chrono::Duration::from_std(config.reconcile_after).unwrap_or_default();
    let mut paid = 0;
    for order_id in crate::lifecycle::change::awaiting_payment_since(&state.db, before, 100).await?
    {
        match sync(state, order_id).await {
            Ok(Settled::Succeeded) => paid += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(order_id, error = %e, "payment reconcile: not this time");
                break; // the provider is likely down: the next sweep
            }
        }
    }
    Ok(paid)
}

/// Why a refund is not done yet (the outbox retries) or never will be.
pub enum RefundError {
    Later(String),
}

/// The outbox's `refund` effect: every succeeded PaymentIntent of the order
/// is refunded in full, minus the refunds the provider has already made of
/// it (read first: the emulator refunds without limit).
pub async fn refund(state: &AppState, order_id: i64) -> Result<(), RefundError> {
    let later = |e: &dyn std::fmt::Display| RefundError::Later(e.to_string());
    let Some(stripe) = state.stripe.as_ref() else {
        return Err(RefundError::Later(
            "refunds need payments (STRIPE_SECRET_KEY)".into(),
        ));
    };
    let attempts = rows::attempts(&state.db, order_id)
        .await
        .map_err(|e| later(&e))?;
    for mut attempt in attempts {
        if attempt.refunded {
            continue;
        }
        let Some(intent) = refresh(state, stripe, &mut attempt)
            .await
            .map_err(|e| later(&e))?
        else {
            continue;
        };
        if intent.status != "succeeded" {
            continue;
        }
        let refunds = stripe.refunds(&intent.id).await.map_err(|e| later(&e))?;
        let back: i64 = refunds
            .iter()
            .filter(|r| !matches!(r.status.as_deref(), Some("failed" | "canceled")))
            .map(|r| r.amount)
            .sum();
        let left = intent.amount - back;
        if left > 0 {
            stripe
                .refund(
                    &intent.id,
                    left,
                    &idempotency_key(&attempt, &format!("refund-{back}")),
                )
                .await
                .map_err(|e| later(&e))?;
            tracing::info!(order_id, amount = left, "payment refunded");
        }
        rows::refunded(&state.db, attempt.id)
            .await
            .map_err(|e| later(&e))?;
    }
    Ok(())
}

/// Cancels every PaymentIntent of a cancelled order that could still be
/// confirmed (best effort: a success that slips through is refunded).
pub async fn cancel_intents(state: &AppState, order_id: i64) {
    let Some(stripe) = state.stripe.as_ref() else {
        return;
    };
    let Ok(attempts) = rows::attempts(&state.db, order_id).await else {
        return;
    };
    for mut attempt in attempts.into_iter().filter(|a| cancellable(&a.status)) {
        match cancel_attempt(state, stripe, &mut attempt).await {
            Ok(Some(status)) if status == "succeeded" => {
                let _ = sync(state, order_id).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(order_id, error = %e, "payment not cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(code: &str, decline: Option<&str>) -> Problem {
        Problem {
            code: Some(code.into()),
            decline_code: decline.map(str::to_owned),
        }
    }

    #[test]
    fn a_decline_is_told_in_our_words_never_the_providers() {
        assert_eq!(
            sentence(&problem("card_declined", None)),
            "Your card was declined."
        );
        assert_eq!(
            sentence(&problem("card_declined", Some("insufficient_funds"))),
            "Your card has insufficient funds."
        );
        assert!(sentence(&problem("payment_intent_authentication_failure", None)).contains("bank"));
        let odd = sentence(&problem("some_new_code_with_pi_123", None));
        assert!(!odd.contains("pi_") && !odd.contains("code"));
        assert!(cancellable("requires_action") && !cancellable("succeeded"));
        assert!(!cancellable("processing") && !cancellable("canceled"));
    }
}
