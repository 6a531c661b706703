//! What "Pay" sets going, step by step: a token of the card at the provider,
//! the shop's `pay` with its id, then the bank's step or the bank's answer
//! (`payment/sync`), until the order is paid or a problem is said beside the
//! card field. The view ([`super::CardPayment`]) only draws [`Flow`]'s state.

use leptos::prelude::*;
use shared::order::OrderStatus;
use shared::Order;
use wasm_bindgen::JsValue;

use super::words;
use crate::api::idempotency::Intent;
use crate::api::{Api, ApiError};
use crate::config::StripeKeys;
use crate::order_view::{status_of, Outcome};
use crate::stripe::{self, CardElement};
use crate::timer::sleep;

/// While the bank is processing, how often to ask again, and how many times.
const PROCESSING_LOOK_MS: i32 = 2_000;
const PROCESSING_LOOKS: u32 = 30;

/// What the step is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Stripe.js on its way.
    Loading,
    /// Stripe.js did not come: a notice and "Try again".
    ScriptDown,
    /// The card field is there.
    Ready,
    /// A token being made, the shop confirming it.
    Paying,
    /// The bank's step, in the provider's window.
    Bank,
    /// The bank has not answered yet.
    Processing,
}

impl Stage {
    /// The stage's name in the page (`data-stage`), for tests and styles:
    /// a fixed string, not `Debug` lowercased (which takes Unicode's case
    /// tables into the WASM).
    pub fn key(self) -> &'static str {
        match self {
            Stage::Loading => "loading",
            Stage::ScriptDown => "scriptdown",
            Stage::Ready => "ready",
            Stage::Paying => "paying",
            Stage::Bank => "bank",
            Stage::Processing => "processing",
        }
    }
}

/// The step's state, shared by its handlers.
#[derive(Clone, Copy)]
pub struct Flow {
    pub api: Api,
    pub order: RwSignal<Order>,
    pub outcome: Outcome,
    pub stage: RwSignal<Stage>,
    pub problem: RwSignal<Option<String>>,
    pub client: StoredValue<Option<JsValue>, LocalStorage>,
    pub card: StoredValue<Option<CardElement>, LocalStorage>,
    /// Whether the shopper typed in the card field (the emulator's field
    /// cannot make a token of nothing).
    pub touched: RwSignal<bool>,
    /// A token whose pay got no final answer: sent again on the next press
    /// unless the card was edited meanwhile.
    pub pending_token: StoredValue<Option<String>>,
    pub intent: StoredValue<Intent>,
}

impl Flow {
    pub fn new(api: Api, order: RwSignal<Order>, outcome: Outcome) -> Self {
        Self {
            api,
            order,
            outcome,
            stage: RwSignal::new(Stage::Loading),
            problem: RwSignal::new(None),
            client: StoredValue::new_local(None),
            card: StoredValue::new_local(None),
            touched: RwSignal::new(false),
            pending_token: StoredValue::new(None),
            intent: StoredValue::new(Intent::default()),
        }
    }

    fn id(&self) -> i64 {
        self.order.with_untracked(|o| o.id)
    }

    /// Loads Stripe.js (once per page) and mounts the card field in `host`.
    pub fn load(self, keys: StripeKeys, host: NodeRef<leptos::html::Div>) {
        self.stage.set(Stage::Loading);
        leptos::task::spawn_local(async move {
            let mounted = match stripe::client(&keys.js_url, &keys.publishable_key).await {
                Ok(client) => host
                    .get_untracked()
                    .map(|host| {
                        // Nothing is kept for a card that is no longer what was typed.
                        let on_change = move || {
                            self.touched.try_set(true);
                            self.pending_token.try_set_value(None);
                        };
                        CardElement::mount(&client, &host, on_change).map(|card| (client, card))
                    })
                    .transpose(),
                Err(e) => Err(e),
            };
            match mounted {
                Ok(Some((client, card))) => {
                    self.client.try_set_value(Some(client));
                    self.card.try_set_value(Some(card));
                    self.stage.try_set(Stage::Ready);
                }
                // The step was left before the script came.
                Ok(None) => {}
                Err(_) => {
                    self.stage.try_set(Stage::ScriptDown);
                }
            }
        });
    }

    fn busy(&self) -> bool {
        !matches!(self.stage.get_untracked(), Stage::Ready)
    }

    /// "Pay": a token of the card (or the one kept from an unanswered try),
    /// then the shop confirms it.
    pub fn pay(self) {
        if self.busy() {
            return;
        }
        if !self.touched.get_untracked() {
            self.problem.set(Some(
                "Enter your card's number, expiry date and security code first.".into(),
            ));
            return;
        }
        let (Some(client), Some(card)) = (self.client.get_value(), self.card.get_value()) else {
            return;
        };
        self.problem.set(None);
        self.stage.set(Stage::Paying);
        let id = self.id();
        let api = self.api;
        leptos::task::spawn_local(async move {
            let token = match self.pending_token.get_value() {
                Some(token) => token,
                None => match card.create_token(&client).await {
                    Ok(token) => token,
                    Err(e) => return self.stop(words::card_problem(&e)),
                },
            };
            let key = self
                .intent
                .try_update_value(|i| i.key_for(&format!("{id}:pay:{token}")))
                .unwrap_or_default();
            match api.pay(id, &token, &key).await {
                Ok(order) => {
                    self.intent.try_update_value(Intent::settle);
                    self.pending_token.try_set_value(None);
                    self.after(order, client).await;
                }
                Err(e) if e.is_outage() => {
                    self.pending_token.try_set_value(Some(token));
                    self.stop(words::pay_problem(&e));
                }
                Err(e) => {
                    self.intent.try_update_value(Intent::settle);
                    self.pending_token.try_set_value(None);
                    self.refused(e).await;
                }
            }
        });
    }

    /// Back to the card field, saying why.
    fn stop(&self, problem: String) {
        self.problem.try_set(Some(problem));
        self.stage.try_set(Stage::Ready);
    }

    /// A refusal: the order may have moved on (paid elsewhere, expired).
    async fn refused(self, e: ApiError) {
        let text = words::pay_problem(&e);
        if matches!(e, ApiError::Rejected { status: 409, .. }) {
            if let Ok(now) = self.api.order(self.id()).await {
                return self.show(now, Some(text));
            }
        }
        self.stop(text);
    }

    /// What the shop answered after a pay or a sync, followed through: the
    /// bank's step, the bank processing, or the order as it now is.
    async fn after(self, order: Order, client: JsValue) {
        let payment = order.payment.clone();
        let awaiting = status_of(&order) == OrderStatus::AwaitingPayment;
        let status = payment.as_ref().map(|p| p.status.as_str()).unwrap_or("");
        match (
            awaiting,
            status,
            payment.as_ref().and_then(|p| p.client_secret.clone()),
        ) {
            (true, "requires_action", Some(secret)) => {
                self.order.try_set(order);
                self.stage.try_set(Stage::Bank);
                let bank = stripe::confirm_card_payment(&client, &secret).await;
                self.stage.try_set(Stage::Processing);
                self.sync_until_settled(bank.err()).await;
            }
            (true, "processing", _) => {
                self.order.try_set(order);
                self.stage.try_set(Stage::Processing);
                self.sync_until_settled(None).await;
            }
            _ => self.show(order, None),
        }
    }

    /// Asks the shop to ask the provider, until the bank has answered.
    /// `bank`: what Stripe.js said of the bank's step, when it failed.
    async fn sync_until_settled(self, bank: Option<stripe::StripeError>) {
        let api = self.api;
        let id = self.id();
        for look in 0..PROCESSING_LOOKS {
            if look > 0 {
                sleep(PROCESSING_LOOK_MS).await;
            }
            match api.sync_payment(id).await {
                Ok(order) if is_processing(&order) => {
                    self.order.try_set(order);
                }
                Ok(order) => {
                    // The shop's sentence about a failed step, else Stripe.js's.
                    let said = bank
                        .as_ref()
                        .filter(|_| order.payment.as_ref().is_some_and(|p| p.error.is_none()))
                        .map(words::card_problem);
                    return self.show(order, said);
                }
                Err(e) => return self.stop(words::pay_problem(&e)),
            }
        }
        self.stop(words::PROCESSING_SLOW.to_string());
    }

    /// The order as the shop says it is now: paid is said and focused; a
    /// decline is said beside the card field, kept for another try.
    fn show(&self, order: Order, problem: Option<String>) {
        let id = order.id;
        let status = status_of(&order);
        let error = order.payment.as_ref().and_then(|p| p.error.clone());
        self.order.try_set(order);
        match status {
            OrderStatus::Paid => self.outcome.succeeded(format!(
                "Order #{id} is paid. Thank you! An email confirming it is on its way."
            )),
            OrderStatus::AwaitingPayment => {
                self.problem
                    .try_set(problem.or(error.as_deref().map(words::declined)));
                self.stage.try_set(Stage::Ready);
            }
            // Cancelled meanwhile (expired): the page shows it as it is.
            _ => {}
        }
    }
}

fn is_processing(order: &Order) -> bool {
    status_of(order) == OrderStatus::AwaitingPayment
        && order
            .payment
            .as_ref()
            .is_some_and(|p| p.status == "processing")
}
