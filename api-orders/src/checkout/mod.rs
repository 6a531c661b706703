//! Checkout as a small saga across two services (contract v1.2, v1.3): an
//! order is closed only after its stock is reserved, and stock stays reserved
//! only for an order that ends closed.
//!
//! 1. **Intent**: the cart is marked `reserving` (its lines frozen) under a
//!    new reservation name, one per attempt, with the request's
//!    `Idempotency-Key`, in this service's database.
//! 2. **Reserve**: the products service takes every line's stock under that
//!    name, all or none; asking again with the same lines takes nothing more.
//! 3. **Pay** (payments on): the order's PaymentIntent is made, its attempt
//!    recorded first (see `crate::payments`); a retry finds it again.
//! 4. **Close**: the order is closed with its total, and the mark cleared:
//!    `placed`, or `awaiting_payment` with payments on.
//!
//! The mark is cleared without closing only once the attempt's reservation
//! certainly holds nothing and never will: the products service refused it
//! (short, off sale), or a release of it was answered. A release of a name the
//! products service has not seen yet leaves a tombstone there, so a reserve
//! still on its way (a slow network, a queued request) takes nothing when it
//! lands; and since each attempt has its own name, the next attempt of the
//! same cart never gets an older attempt's lines back. The one exception is
//! a reserve that never left (no connection): nothing can land.
//!
//! If the process dies or the request is cut between the steps, the mark
//! stays: a retry of the checkout goes on with the same reservation, and
//! otherwise the [`repair`] loop of any replica undoes it once it is older
//! than every request's time limit, releasing the reservation. Every change
//! of the mark is conditional on the state and reservation read, so a retry
//! and the repair loop never both win.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use server::{ApiError, ApiResult};
use shared::StockLine;

mod steps;

use crate::cart::ProductId;
use crate::db::models::OrderWithItems;
use crate::db::queries;
use crate::failpoint;
use crate::products::ReserveError;
use crate::state::AppState;
pub use steps::Placing;
use steps::{Closing, Intent};

/// 409 `checkout_in_progress`: the cart's stock is being reserved (or an
/// attempt that died is being undone), so its lines cannot change now.
pub fn checkout_in_progress() -> ApiError {
    ApiError::conflict(
        "checkout_in_progress",
        "This cart is being checked out; try again in a moment",
    )
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Checks `user_id`'s cart out; `key` is the request's `Idempotency-Key`,
/// `placing` what the closed order keeps (email, address).
pub async fn checkout(
    state: &AppState,
    user_id: i64,
    key: Option<&str>,
    placing: &Placing,
) -> ApiResult<OrderWithItems> {
    if placing.payments
        && crate::db::payments::unpaid_of(&state.db, user_id).await? >= crate::payments::MAX_UNPAID
    {
        // Each holds stock until paid or expired.
        return Err(ApiError::conflict(
            "too_many_unpaid",
            format!(
                "You have {} orders awaiting payment: pay or cancel one first",
                crate::payments::MAX_UNPAID
            ),
        ));
    }
    let prices = current_prices(state, user_id).await;
    let intent = steps::record_intent(&state.db, user_id, key, prices, now()).await?;
    let (order, reservation) = match intent {
        Intent::NoCart => return Err(ApiError::not_found("No order found")),
        Intent::PricesUnknown => return Err(ApiError::Unavailable("The products service")),
        Intent::PricesChanged(rose) => {
            tracing::info!(user_id, products = rose.len(), "checkout: prices went up");
            return Err(prices_changed(rose));
        }
        Intent::Empty => return Err(ApiError::conflict("empty_order", "The cart is empty")),
        Intent::BeingUndone => return Err(checkout_in_progress()),
        Intent::Done(order) => return Ok(order),
        Intent::Reserve(order, reservation) => (order, reservation),
    };
    let order_id = order.order.id;
    let lines: Vec<StockLine> = order
        .items
        .iter()
        .map(|item| StockLine {
            product_id: item.product_id,
            qty: item.quantity,
        })
        .collect();
    match state.products.reserve(&reservation, order_id, &lines).await {
        Ok(()) => {}
        Err(ReserveError::Short(short)) => {
            // Nothing taken by this request; a twin of it (a double click
            // that went on with the same attempt) may still be on its way.
            release_then_abandon(state, order_id, &reservation).await?;
            tracing::info!(
                user_id,
                order_id,
                short = short.len(),
                "checkout: out of stock"
            );
            return Err(ApiError::out_of_stock(short));
        }
        Err(ReserveError::Released) => {
            // The repair loop, or a twin that gave up, released this attempt.
            return Err(checkout_in_progress());
        }
        Err(ReserveError::Failed { maybe_reserved }) => {
            if maybe_reserved {
                release_then_abandon(state, order_id, &reservation).await?;
            } else {
                steps::abandon(&state.db, order_id, &reservation).await?;
            }
            return Err(ApiError::Unavailable("The products service"));
        }
    }
    failpoint::hit(failpoint::AFTER_RESERVE);
    if placing.payments {
        // Payments on: the order's PaymentIntent, found again if a crash or
        // a timeout cut an earlier try of this attempt short.
        let amount = order.items.iter().fold(0i64, |sum, item| {
            sum.saturating_add(item.unit_price.saturating_mul(item.quantity))
        });
        if let Err(e) = crate::payments::intent_for_checkout(state, order_id, amount).await {
            // Nothing closed, nothing charged: the stock goes back, the cart
            // is as it was.
            release_then_abandon(state, order_id, &reservation).await?;
            return Err(e);
        }
        failpoint::hit(failpoint::AFTER_INTENT);
    }
    let closing = steps::close(
        &state.db,
        user_id,
        order_id,
        &reservation,
        placing,
        &state.config.mail,
        now(),
    )
    .await?;
    match closing {
        Closing::Closed(order) => {
            state.relay.wake();
            failpoint::hit(failpoint::AFTER_CLOSE);
            if placing.payments {
                // With its payment (the attempt made before closing).
                return Ok(queries::order(&state.db, order_id).await?.unwrap_or(order));
            }
            Ok(order)
        }
        Closing::ClosedAlready(order) => Ok(order),
        Closing::BeingUndone => Err(checkout_in_progress()),
        Closing::Abandoned => {
            // A twin ended the attempt while this request reserved: the
            // reservation is nobody's, so its units go back now.
            if !state.products.release(&reservation).await {
                tracing::error!(
                    order_id,
                    reservation,
                    "checkout: a reservation of an abandoned attempt could not be released"
                );
            }
            Err(checkout_in_progress())
        }
    }
}

/// How many prices a checkout asks the products service for at once.
const PRICE_LOOKUPS_AT_ONCE: usize = 8;

/// The catalogue's prices now of the products in the user's cart (contract
/// v1.3: checkout charges the current price, never an older higher one);
/// `None` when the products service does not answer. A product off sale is
/// left out: the reservation refuses it by name.
async fn current_prices(state: &AppState, user_id: i64) -> steps::Prices {
    let Ok(Some(cart)) = queries::cart(&state.db, user_id).await else {
        // No cart (or no answer from the database): recording the intent
        // says which, without prices.
        return Some(HashMap::new());
    };
    // A few at a time: a cart of 100 lines must not open 100 connections to
    // the products service (which caps them per client address).
    let ids: Vec<ProductId> = cart
        .items
        .iter()
        .filter_map(|item| ProductId::parse(Some(item.product_id)).ok())
        .collect();
    let mut prices = HashMap::new();
    for batch in ids.chunks(PRICE_LOOKUPS_AT_ONCE) {
        let mut asked = tokio::task::JoinSet::new();
        for &id in batch {
            let products = state.products.clone();
            asked.spawn(async move { (id.get(), products.product(id).await) });
        }
        while let Some(answer) = asked.join_next().await {
            match answer {
                Ok((id, Ok(product))) => {
                    prices.insert(id, product.price);
                }
                Ok((_, Err(ApiError::NotFound { .. }))) => {}
                _ => return None,
            }
        }
    }
    Some(prices)
}

/// 409 `prices_changed`: `fields` names each product whose price went up,
/// with its new price; the cart holds the new prices now.
fn prices_changed(rose: BTreeMap<i64, i64>) -> ApiError {
    let fields = rose
        .into_iter()
        .map(|(id, price)| {
            (
                id.to_string(),
                format!("now {}", shared::money::money(price)),
            )
        })
        .collect();
    ApiError::conflict(
        "prices_changed",
        "Some prices went up since they were added: check the new total and check out again",
    )
    .with_fields(fields)
}

/// Releases the attempt's reservation, then clears the mark: the cart can
/// change again. When the products service does not answer the release, the
/// mark stays and the repair loop releases it later.
async fn release_then_abandon(state: &AppState, order_id: i64, reservation: &str) -> ApiResult<()> {
    if state.products.release(reservation).await {
        steps::abandon(&state.db, order_id, reservation).await?;
    }
    Ok(())
}

/// Starts this replica's repair loop: it runs until aborted (the app stops)
/// or the process ends.
pub fn spawn_repair(
    state: AppState,
    config: crate::config::RepairConfig,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = repair(&state, config.after).await {
                tracing::warn!(error = %e, "checkout repair: will try again");
            }
        }
    })
}

/// Undoes the checkouts that have been under way longer than `after`:
/// their stock is released and their carts can change again. Returns how
/// many were undone.
pub async fn repair(state: &AppState, after: Duration) -> ApiResult<usize> {
    let before = now() - chrono::Duration::from_std(after).unwrap_or_default();
    let mut undone = 0;
    for attempt in steps::stalled(&state.db, before, 100).await? {
        if !steps::claim_stalled(&state.db, &attempt, before, now()).await? {
            continue; // another replica, or a retry, has it
        }
        let (order_id, reservation) = (attempt.order_id, attempt.reservation.as_str());
        if state.products.release(reservation).await {
            steps::undone(&state.db, &attempt).await?;
            tracing::info!(
                order_id,
                reservation,
                "checkout repair: stock released, cart usable again"
            );
            undone += 1;
        } else {
            // Still `releasing`: claimed again once `after` has passed.
            tracing::warn!(
                order_id,
                reservation,
                "checkout repair: the products service did not answer"
            );
        }
    }
    Ok(undone)
}
