//! The payment step of an order awaiting payment (contract v1.3, "Payments"):
//! the provider's card field, "Pay", and what follows.
//!
//! The card goes from the field to the provider (Stripe.js makes a token of
//! it); the shop gets the token's id only and confirms the payment with it.
//! Then the order says what happened: paid; a decline (said plainly, the card
//! field kept for another try); or the bank's step (3-D Secure), which
//! Stripe.js shows, after which the shop asks the provider again
//! (`payment/sync`). One press pays once: "Pay" is busy while anything is on
//! its way, and a retry after an outage sends the same token with the same
//! `Idempotency-Key`, so a lost answer is found out without paying twice.

mod flow;
mod time_left;
mod words;

use leptos::prelude::*;
use shared::Order;

use crate::config::StripeKeys;
use crate::format::money;
use crate::order_view::Outcome;
use crate::state::use_shop;
use flow::{Flow, Stage};
use time_left::TimeLeft;

/// The id of "Pay", where focus stays while the shopper tries again.
pub const PAY_ID: &str = "pay-order";

/// The payment step, for an order awaiting payment; a notice when this page
/// has no keys of the provider (the shop's `config.json` lacks them).
#[component]
pub fn PaymentStep(order: RwSignal<Order>, outcome: Outcome) -> impl IntoView {
    match use_shop().api.stripe() {
        Some(keys) => view! { <CardPayment order outcome keys /> }.into_any(),
        None => view! {
            <p class="notice notice-warning" role="status" data-testid="payment-off">
                "This order is waiting for payment, but this page cannot take cards: the shop's \
                 payment settings are missing. Please contact the shop."
            </p>
        }
        .into_any(),
    }
}

#[component]
fn CardPayment(order: RwSignal<Order>, outcome: Outcome, keys: StripeKeys) -> impl IntoView {
    let flow = Flow::new(use_shop().api, order, outcome);
    let host = NodeRef::<leptos::html::Div>::new();
    let test_mode = keys.is_test_mode();
    let keys = StoredValue::new(keys);
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            flow.load(keys.get_value(), host);
        }
    });
    on_cleanup(move || {
        flow.card.try_with_value(|c| {
            if let Some(card) = c {
                card.destroy();
            }
        });
    });
    let stage = flow.stage;
    let amount = move || order.with(|o| o.payment.as_ref().map_or(o.total, |p| p.amount));
    let busy = move || !matches!(stage.get(), Stage::Ready);
    let note = move || match stage.get() {
        Stage::Loading => Some(words::LOADING),
        Stage::Bank => Some(words::BANK_STEP),
        Stage::Processing => Some(words::PROCESSING),
        _ => None,
    };
    view! {
        <section class="payment-step card" aria-labelledby="payment-heading" data-testid="payment-step">
            <h2 id="payment-heading">"Pay for your order"</h2>
            <TimeLeft order />
            <div role="status" class="payment-note" data-testid="payment-note" data-stage=move || stage.get().key()>
                {move || note().map(|t| view! { <p>{t}</p> })}
            </div>
            <div role="alert" class="payment-alert">
                {move || flow.problem.get().map(|t| view! {
                    <p class="notice notice-warning" data-testid="payment-problem">{t}</p>
                })}
                {move || (stage.get() == Stage::ScriptDown).then(|| view! {
                    <div class="notice notice-warning" data-testid="payment-script-down">
                        <p class="notice-text">{words::SCRIPT_DOWN}</p>
                        <button
                            type="button"
                            class="button button-small"
                            on:click=move |_| flow.load(keys.get_value(), host)
                        >
                            "Try again"
                        </button>
                    </div>
                })}
            </div>
            <form
                class="payment-form"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    flow.pay();
                }
            >
                <div class="field">
                    <span class="label" id="card-label">"Card"</span>
                    <div
                        id="card-element"
                        class="card-element"
                        role="group"
                        aria-labelledby="card-label"
                        aria-busy=move || (stage.get() == Stage::Loading).to_string()
                        node_ref=host
                    ></div>
                    <p class="hint">
                        "Your card details go straight to our payment provider, Stripe; the shop never sees them."
                    </p>
                </div>
                {test_mode.then(|| view! { <TestCards /> })}
                <button
                    type="submit"
                    id=PAY_ID
                    class="button button-primary"
                    aria-disabled=move || busy().to_string()
                >
                    {move || match stage.get() {
                        Stage::Paying => "Paying…".to_string(),
                        Stage::Bank | Stage::Processing => "Waiting for your bank…".to_string(),
                        _ => format!("Pay {}", money(amount())),
                    }}
                </button>
            </form>
        </section>
    }
}

/// The provider's test cards (a test key only: nothing real is charged).
#[component]
fn TestCards() -> impl IntoView {
    view! {
        <div class="test-cards" data-testid="test-cards">
            <p>"Test mode: no real money moves. Use any future expiry date and any security code with:"</p>
            <ul>
                {words::TEST_CARDS
                    .iter()
                    .map(|(number, what)| view! { <li><code>{*number}</code> " " {*what}</li> })
                    .collect_view()}
            </ul>
        </div>
    }
}
