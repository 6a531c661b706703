//! What the payment step says, in plain words: never the provider's codes.

use crate::api::ApiError;
use crate::stripe::StripeError;

/// The provider (or the shop's way to it) did not answer: nothing happened.
pub const PROVIDER_DOWN: &str = "The payment provider is not answering right now. Nothing was \
    charged, and your order is still waiting for payment: please try again in a moment.";

/// The shop's answer to a pay was lost: it may or may not have been charged,
/// and pressing again finds out without charging twice.
pub const NO_ANSWER: &str = "The shop did not answer, so we cannot tell yet whether your \
    payment went through. Press “Pay” again to find out: you will not be charged twice.";

/// The bank's step (3-D Secure) is open in the provider's window.
pub const BANK_STEP: &str =
    "Your bank asks you to confirm this payment: follow its steps in the window that opened.";

/// The provider is waiting for the bank.
pub const PROCESSING: &str =
    "Confirming with your bank… This can take a moment; you can stay on this page.";

/// Stripe.js on its way.
pub const LOADING: &str = "Loading the secure card form…";

/// Stripe.js did not load (the provider, or the way to it, is down).
pub const SCRIPT_DOWN: &str = "The card form could not be loaded from our payment provider. \
    Nothing was charged, and your order is still waiting for payment: please try again in a moment.";

/// The bank took longer than the page waits.
pub const PROCESSING_SLOW: &str = "Your bank has not answered yet. Nothing more is needed from \
    you: this order shows as paid once it does (look again in a few minutes).";

/// A decline, with the service's own sentence about it.
pub fn declined(sentence: &str) -> String {
    if sentence.contains("another card") {
        format!("{sentence} Nothing was charged.")
    } else {
        format!("{sentence} Nothing was charged: check the card's details, or use another card.")
    }
}

/// What Stripe.js said when it could not take the card.
pub fn card_problem(e: &StripeError) -> String {
    match e {
        StripeError::Unreachable => PROVIDER_DOWN.to_string(),
        StripeError::Refused(message) => message.clone(),
    }
}

/// What a refused or failed `pay` or `payment/sync` says.
pub fn pay_problem(e: &ApiError) -> String {
    match e {
        ApiError::Unavailable(_) => PROVIDER_DOWN.to_string(),
        ApiError::NoAnswer(_) => NO_ANSWER.to_string(),
        ApiError::Rejected { status: 422, .. } => {
            "These card details could not be used. Please check them and try again.".to_string()
        }
        e if e.code() == Some("payment_in_progress") || e.code() == Some("request_in_progress") => {
            "A payment of this order is already on its way. Wait a moment: this page shows \
             what happened."
                .to_string()
        }
        e => e.to_string(),
    }
}

/// The provider's test cards, listed on the page with a test key.
pub const TEST_CARDS: [(&str, &str); 3] = [
    ("4242 4242 4242 4242", "pays"),
    ("4000 0000 0000 0341", "is declined"),
    ("4000 0025 0000 3155", "asks for your bank's confirmation"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Service;

    #[test]
    fn outages_say_nothing_was_charged_and_how_to_go_on() {
        assert!(
            pay_problem(&ApiError::Unavailable(Service::Orders)).contains("Nothing was charged")
        );
        assert!(pay_problem(&ApiError::NoAnswer(Service::Orders)).contains("not be charged twice"));
        assert_eq!(card_problem(&StripeError::Unreachable), PROVIDER_DOWN);
    }

    #[test]
    fn a_decline_keeps_the_services_sentence() {
        assert_eq!(
            declined("Your card was declined."),
            "Your card was declined. Nothing was charged: check the card's details, or use another card."
        );
        // The service's sentence already says what to do: not said twice.
        let bank = "Your bank did not confirm the payment. Try again, or use another card.";
        assert_eq!(declined(bank), format!("{bank} Nothing was charged."));
    }
}
