//! The contract's transitions table (v1.3, "Orders after checkout") as one
//! function: from a status and an action, the status to move to and the
//! effects to carry out after the change commits. Nothing here touches the
//! database; [`crate::db::lifecycle`] applies a decision in one transaction.

use shared::{Actor, CancelReason, OrderStatus};

/// Something that may move an order on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Checkout closed the cart, its stock reserved: `placed` with payments
    /// off, `awaiting_payment` with them on.
    CheckOut { payments: bool },
    /// The provider says a PaymentIntent of the order succeeded (a webhook,
    /// `pay`, `payment/sync`, or a sweep; see `crate::payments`).
    Pay,
    /// The owner or an admin cancels.
    Cancel { by: Actor },
    /// The system gives up on an unpaid order (`ORDER_PAYMENT_TTL_SECS`).
    Expire,
    /// An admin ships, with a tracking number.
    Ship { tracking_number: String },
    /// An admin marks a shipped order delivered.
    Deliver,
}

impl Action {
    /// Who the timeline says made the change.
    pub fn actor(&self) -> Actor {
        match self {
            Self::CheckOut { .. } => Actor::Shopper,
            Self::Pay | Self::Expire => Actor::System,
            Self::Cancel { by } => *by,
            Self::Ship { .. } | Self::Deliver => Actor::Admin,
        }
    }
}

/// What has to happen after a change commits, carried out by the outbox relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// The order's reservation goes back to stock.
    pub release_stock: bool,
    /// The money taken goes back to the shopper (payments on).
    pub refund: bool,
    /// The shopper is told.
    pub email_shopper: bool,
    /// The merchant is told (`MERCHANT_EMAIL`).
    pub email_merchant: bool,
}

/// Why an action is refused (409, nothing changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `not_cancellable`: the cart, or an order shipped or delivered.
    NotCancellable,
    /// `invalid_transition`: the order is not in a status the action moves from.
    InvalidTransition,
}

/// The outcome of an action on an order in some status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Move to `to` (with `reason` when cancelled), then carry out `effects`.
    Move {
        to: OrderStatus,
        reason: Option<CancelReason>,
        effects: Effects,
    },
    /// Nothing to change, and no error: cancelling an order already
    /// cancelled, expiring one that is no longer awaiting payment.
    Unchanged,
    /// A payment succeeded for an order already cancelled: its money goes back.
    RefundLatePayment,
    Refuse(Refusal),
}

/// The transitions table.
pub fn decide(from: OrderStatus, action: &Action) -> Decision {
    use OrderStatus::*;
    let email = Effects {
        email_shopper: true,
        ..Effects::default()
    };
    match (action, from) {
        (Action::CheckOut { payments: false }, Open) => Decision::Move {
            to: Placed,
            reason: None,
            effects: Effects {
                email_merchant: true,
                ..email
            },
        },
        (Action::CheckOut { payments: true }, Open) => Decision::Move {
            to: AwaitingPayment,
            reason: None,
            effects: Effects::default(),
        },
        (Action::CheckOut { .. }, _) => Decision::Refuse(Refusal::InvalidTransition),

        (Action::Pay, AwaitingPayment) => Decision::Move {
            to: Paid,
            reason: None,
            effects: Effects {
                email_merchant: true,
                ..email
            },
        },
        (Action::Pay, Cancelled) => Decision::RefundLatePayment,
        (Action::Pay, _) => Decision::Unchanged,

        (Action::Cancel { by }, AwaitingPayment | Placed | Paid) => Decision::Move {
            to: Cancelled,
            reason: Some(match by {
                Actor::Admin => CancelReason::Admin,
                Actor::Shopper | Actor::System => CancelReason::Shopper,
            }),
            effects: Effects {
                release_stock: true,
                refund: from == Paid,
                ..email
            },
        },
        (Action::Cancel { .. }, Cancelled) => Decision::Unchanged,
        (Action::Cancel { .. }, Open | Shipped | Delivered) => {
            Decision::Refuse(Refusal::NotCancellable)
        }

        (Action::Expire, AwaitingPayment) => Decision::Move {
            to: Cancelled,
            reason: Some(CancelReason::PaymentTimeout),
            effects: Effects {
                release_stock: true,
                ..email
            },
        },
        (Action::Expire, _) => Decision::Unchanged,

        (Action::Ship { .. }, Placed | Paid) => Decision::Move {
            to: Shipped,
            reason: None,
            effects: email,
        },
        (Action::Deliver, Shipped) => Decision::Move {
            to: Delivered,
            reason: None,
            effects: email,
        },
        (Action::Ship { .. } | Action::Deliver, _) => Decision::Refuse(Refusal::InvalidTransition),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    fn to(from: OrderStatus, action: &Action) -> Option<OrderStatus> {
        match decide(from, action) {
            Decision::Move { to, .. } => Some(to),
            _ => None,
        }
    }

    #[test]
    fn every_status_has_an_answer_for_every_action_as_the_table_says() {
        let ship = Action::Ship {
            tracking_number: "1Z".into(),
        };
        let cancel = Action::Cancel { by: Actor::Shopper };
        for from in OrderStatus::ALL {
            assert_eq!(to(from, &cancel).is_some(), from.cancellable(), "{from}");
            assert_eq!(to(from, &ship).is_some(), from.shippable(), "{from}");
            assert_eq!(to(from, &Action::Deliver).is_some(), from.deliverable());
            assert_eq!(
                to(from, &Action::Pay),
                (from == AwaitingPayment).then_some(Paid)
            );
            assert_eq!(
                to(from, &Action::Expire),
                (from == AwaitingPayment).then_some(Cancelled)
            );
        }
        assert_eq!(
            to(Open, &Action::CheckOut { payments: false }),
            Some(Placed)
        );
        assert_eq!(
            to(Open, &Action::CheckOut { payments: true }),
            Some(AwaitingPayment)
        );
    }

    #[test]
    fn refusals_name_what_went_wrong() {
        let cancel = Action::Cancel { by: Actor::Admin };
        for from in [Open, Shipped, Delivered] {
            assert_eq!(
                decide(from, &cancel),
                Decision::Refuse(Refusal::NotCancellable)
            );
        }
        assert_eq!(decide(Cancelled, &cancel), Decision::Unchanged);
        assert_eq!(
            decide(Delivered, &Action::Deliver),
            Decision::Refuse(Refusal::InvalidTransition)
        );
        assert_eq!(decide(Cancelled, &Action::Pay), Decision::RefundLatePayment);
    }

    #[test]
    fn stock_goes_back_on_every_cancel_and_money_only_when_paid() {
        for from in [AwaitingPayment, Placed, Paid] {
            let Decision::Move {
                effects, reason, ..
            } = decide(from, &Action::Cancel { by: Actor::Admin })
            else {
                panic!("{from} not cancellable")
            };
            assert!(effects.release_stock && effects.email_shopper);
            assert_eq!(effects.refund, from == Paid);
            assert_eq!(reason, Some(CancelReason::Admin));
        }
        let Decision::Move {
            effects, reason, ..
        } = decide(AwaitingPayment, &Action::Expire)
        else {
            panic!()
        };
        assert!(effects.release_stock && !effects.refund);
        assert_eq!(reason, Some(CancelReason::PaymentTimeout));
    }

    #[test]
    fn emails_follow_the_table() {
        let emails = |from, action: &Action| match decide(from, action) {
            Decision::Move { effects, .. } => (effects.email_shopper, effects.email_merchant),
            _ => (false, false),
        };
        assert_eq!(
            emails(Open, &Action::CheckOut { payments: false }),
            (true, true)
        );
        assert_eq!(
            emails(Open, &Action::CheckOut { payments: true }),
            (false, false)
        );
        assert_eq!(emails(AwaitingPayment, &Action::Pay), (true, true));
        assert_eq!(emails(Shipped, &Action::Deliver), (true, false));
    }
}
