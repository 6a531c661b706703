//! What happens to an order after checkout (contract v1.3, "Orders after
//! checkout"): one state machine ([`machine`], the contract's transitions
//! table and nothing else) applied by one transaction per change
//! ([`change`]), whose effects go to the outbox
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

pub mod change;
pub mod machine;

use server::{ApiError, ApiResult};
use shared::OrderStatus;

use crate::db::models::OrderWithItems;
use crate::state::AppState;
use change::Outcome;
pub use change::Who;
use machine::{Action, Refusal};

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
