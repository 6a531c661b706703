//! One order after checkout as people read it (contract v1.3): its status, its
//! lines and total, the payment, where it goes, the timeline, and the changes
//! that may still be made to it. The shopper's order page and the admin's
//! order desk show the same order with these pieces; only the buttons differ.
//!
//! Each change is one press ([`Press`]): busy while on its way, the same
//! `Idempotency-Key` for a double click. What happened is said in a region
//! that is always in the page ([`Outcome`]) and that takes focus when the
//! button that was pressed is gone, so keyboard users stay where the news is.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::order::{printable_problem, Actor, OrderEvent, OrderStatus, TRACKING_NUMBER_MAX};
use shared::Order;

use crate::a11y::{focus_when_drawn, refocus_by_id};
use crate::api::orders::OrderStep;
use crate::api::ApiError;
use crate::format::{field_problem, local_time, money};
use crate::press::Press;
use crate::state::use_shop;

/// The order's status, for orders from a service older than v1.3 too (they
/// carry no `status`: closed there means placed).
pub fn status_of(order: &Order) -> OrderStatus {
    if !order.is_open && order.status == OrderStatus::Open {
        OrderStatus::Placed
    } else {
        order.status
    }
}

/// The status as a badge with its label ("Awaiting payment").
#[component]
pub fn StatusBadge(status: OrderStatus) -> impl IntoView {
    view! {
        <span class=format!("status-badge status-{}", status.as_str()) data-testid="order-status">
            {status.label()}
        </span>
    }
}

/// Who made a change, as the reader knows them.
fn by_whom(by: Actor, admin_view: bool) -> &'static str {
    match (by, admin_view) {
        (Actor::Shopper, false) => "by you",
        (Actor::Shopper, true) => "by the shopper",
        (Actor::Admin, false) => "by the shop",
        (Actor::Admin, true) => "by an admin",
        (Actor::System, _) => "automatically",
    }
}

/// What a step of the timeline says.
fn event_text(e: &OrderEvent) -> &'static str {
    match e.status {
        OrderStatus::Open => "Cart opened",
        OrderStatus::AwaitingPayment => "Checked out, awaiting payment",
        OrderStatus::Placed => "Placed",
        OrderStatus::Paid => "Paid",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Delivered => "Delivered",
        OrderStatus::Cancelled => "Cancelled",
    }
}

/// A payment's state in words (the provider's PaymentIntent statuses).
pub fn payment_text(status: &str) -> String {
    match status {
        "requires_payment_method" => "Waiting for a card".into(),
        "requires_confirmation" => "Waiting for confirmation".into(),
        "requires_action" => "Waiting for the bank's check".into(),
        "processing" => "Processing".into(),
        "succeeded" => "Paid".into(),
        "canceled" => "Payment cancelled".into(),
        "refunded" => "Refunded".into(),
        other => other.replace('_', " "),
    }
}

/// Whether money was taken for the order (so cancelling it refunds).
pub fn is_paid(order: &Order) -> bool {
    status_of(order) == OrderStatus::Paid
        || order
            .payment
            .as_ref()
            .is_some_and(|p| p.status == "succeeded")
}

/// Everything known about the order, drawn from it as it is now. It holds no
/// controls, so drawing it anew after a change takes no one's focus.
#[component]
pub fn OrderFacts(order: RwSignal<Order>, admin_view: bool) -> impl IntoView {
    move || facts(order.get(), admin_view)
}

fn facts(o: Order, admin_view: bool) -> impl IntoView {
    let status = status_of(&o);
    let lines = o
        .items
        .clone()
        .into_iter()
        .map(|i| {
            let href = format!("/product/{}", i.product);
            view! {
                <tr data-testid="order-line" data-product=i.product.to_string()>
                    <td><A href=href>{i.name}</A></td>
                    <td class="num">{i.quantity}</td>
                    <td class="num">{money(i.unit_price)}</td>
                    <td class="num">{money(i.line_total)}</td>
                </tr>
            }
        })
        .collect_view();
    let payment = o.payment.as_ref().map(|p| {
        let error = p
            .error
            .clone()
            .map(|e| view! { <p class="payment-error">{e}</p> });
        view! {
            <div>
                <dt>"Payment"</dt>
                <dd data-testid="order-payment">
                    {format!("{} ({})", payment_text(&p.status), money(p.amount))}
                    {error}
                </dd>
            </div>
        }
    });
    let tracking = o.tracking_number.clone().map(|t| {
        view! {
            <div>
                <dt>"Tracking number"</dt>
                <dd data-testid="order-tracking">{t}</dd>
            </div>
        }
    });
    let email = o.email.clone().map(|e| {
        let label = if admin_view {
            "Shopper's email"
        } else {
            "Email"
        };
        view! {
            <div>
                <dt>{label}</dt>
                <dd data-testid="order-email">{e}</dd>
            </div>
        }
    });
    let shopper = admin_view.then(|| {
        view! {
            <div>
                <dt>"Shopper"</dt>
                <dd>{format!("User {}", o.user_id)}</dd>
            </div>
        }
    });
    let address = o.shipping_address.clone().map(|a| {
        let lines = [
            Some(a.name),
            Some(a.line1),
            a.line2,
            Some(format!("{} {}", a.postal_code, a.city)),
            Some(a.country),
        ];
        view! {
            <div>
                <dt>"Ship to"</dt>
                <dd>
                    <address data-testid="order-address">
                        {lines.into_iter().flatten().map(|l| view! { <span class="address-line">{l}</span> }).collect_view()}
                    </address>
                </dd>
            </div>
        }
    });
    let reason = (status == OrderStatus::Cancelled)
        .then_some(o.cancel_reason)
        .flatten()
        .map(|r| {
            let text = match r {
                shared::order::CancelReason::Shopper if admin_view => "by the shopper",
                shared::order::CancelReason::Shopper => "by you",
                shared::order::CancelReason::Admin => "by the shop",
                shared::order::CancelReason::PaymentTimeout => "not paid in time",
            };
            view! {
                <div>
                    <dt>"Cancelled"</dt>
                    <dd data-testid="order-cancel-reason">{text}</dd>
                </div>
            }
        });
    let events = o
        .events
        .clone()
        .into_iter()
        .map(|e| {
            view! {
                <li data-testid="order-event" data-status=e.status.as_str()>
                    <span class="event-what">{event_text(&e)}</span>
                    " "
                    <span class="event-who">{by_whom(e.by, admin_view)}</span>
                    ", "
                    <time datetime=e.at.to_rfc3339()>{local_time(&e.at)}</time>
                </li>
            }
        })
        .collect_view();
    let timeline = (!o.events.is_empty()).then(|| {
        view! {
            <section class="order-timeline" aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">"Timeline"</h2>
                <ol class="timeline" data-testid="order-timeline">{events}</ol>
            </section>
        }
    });
    view! {
        <dl class="order-facts">
            <div>
                <dt>"Status"</dt>
                <dd><StatusBadge status /></dd>
            </div>
            {reason}
            {payment}
            {tracking}
            {shopper}
            {email}
            {address}
        </dl>
        <div class="table-wrap">
            <table class="order-lines" data-testid="order-lines">
                <caption class="visually-hidden">"Items in this order"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Product"</th>
                        <th scope="col" class="num">"Quantity"</th>
                        <th scope="col" class="num">"Price"</th>
                        <th scope="col" class="num">"Total"</th>
                    </tr>
                </thead>
                <tbody>{lines}</tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="3">"Total"</th>
                        <td class="num total" data-testid="order-total">{money(o.total)}</td>
                    </tr>
                </tfoot>
            </table>
        </div>
        {timeline}
    }
}

/// What the last change did, or why it was refused: two regions always in
/// the page (a status and an alert), one of them holding the sentence. The
/// sentence takes focus when the control that was used is gone.
#[derive(Clone, Copy)]
pub struct Outcome {
    done: RwSignal<Option<String>>,
    failed: RwSignal<Option<String>>,
}

/// The id of the outcome's sentence, where focus goes after a change.
pub const OUTCOME_ID: &str = "order-outcome";
/// The id of a refusal's sentence, where focus goes when the refused control
/// is gone (the order had moved on).
const PROBLEM_ID: &str = "order-problem";

impl Outcome {
    pub fn new() -> Self {
        Self {
            done: RwSignal::new(None),
            failed: RwSignal::new(None),
        }
    }

    fn clear(&self) {
        self.done.set(None);
        self.failed.set(None);
    }

    /// Says what a change did, and puts focus on it.
    pub fn succeeded(&self, text: String) {
        self.failed.try_set(None);
        self.done.try_set(Some(text));
        focus_when_drawn(OUTCOME_ID.to_string());
    }

    fn refused(&self, text: String) {
        self.done.try_set(None);
        self.failed.try_set(Some(text));
    }
}

impl Default for Outcome {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn OutcomeRegions(outcome: Outcome) -> impl IntoView {
    view! {
        <div role="status" class="order-outcome">
            {move || outcome.done.get().map(|t| view! {
                <p class="notice notice-success" id=OUTCOME_ID tabindex="-1" data-testid="order-done">{t}</p>
            })}
        </div>
        <div role="alert" class="order-outcome">
            {move || outcome.failed.get().map(|t| view! {
                <p class="notice notice-warning" id=PROBLEM_ID tabindex="-1" data-testid="order-problem">{t}</p>
            })}
        </div>
    }
}

/// What a step did, in a sentence.
fn step_done(step: &OrderStep, order: &Order, refunded: bool) -> String {
    match step {
        OrderStep::Cancel if refunded => format!(
            "Order #{} is cancelled and its payment refunded in full.",
            order.id
        ),
        OrderStep::Cancel => format!("Order #{} is cancelled.", order.id),
        OrderStep::Ship(t) => format!("Order #{} is shipped, tracking number {t}.", order.id),
        OrderStep::Deliver => format!("Order #{} is marked delivered.", order.id),
    }
}

/// A refused or failed step, plainly: the service's own message (a 409 says
/// the order moved on), or the outage and that nothing changed.
fn step_problem(e: &ApiError) -> String {
    match e {
        ApiError::Unavailable(_) => {
            "The order could not be changed: orders are unavailable right now. Nothing changed; \
             please try again in a moment."
                .to_string()
        }
        ApiError::NoAnswer(_) => "The shop did not answer, so we cannot tell whether the order \
             changed. Press the button again to find out: it will not act twice."
            .to_string(),
        e => format!("Not changed: {e}"),
    }
}

/// The changes to one order, for either page: it runs them and keeps the
/// order and the outcome up to date. A refusal (409: someone else changed the
/// order first) reloads the order, so the buttons match what it is now.
#[derive(Clone, Copy)]
pub struct Steps {
    pub order: RwSignal<Order>,
    pub outcome: Outcome,
    pub press: Press,
}

impl Steps {
    pub fn new(order: Order) -> Self {
        Self {
            order: RwSignal::new(order),
            outcome: Outcome::new(),
            press: Press::new(),
        }
    }

    /// Runs `step`; `on_ok` hears of the order it made (the cart page's stock
    /// and the catalogue refresh on cancel).
    pub fn run(&self, step: OrderStep, on_ok: impl FnOnce(&Order) + 'static) {
        let this = *self;
        let id = self.order.with_untracked(|o| o.id);
        let refunds = self.order.with_untracked(is_paid);
        let api = use_shop().api;
        if self.press.is_busy_untracked() {
            return;
        }
        self.outcome.clear();
        self.press.run(step.describe(id), move |key| async move {
            let result = api.order_step(id, step.clone(), &key).await;
            let settled = !result.as_ref().is_err_and(ApiError::is_outage);
            match result {
                Ok(order) => {
                    let text = step_done(&step, &order, refunds);
                    on_ok(&order);
                    this.order.try_set(order);
                    this.outcome.succeeded(text);
                }
                Err(e) => {
                    this.outcome.refused(step_problem(&e));
                    if matches!(e, ApiError::Rejected { status: 409, .. }) {
                        if let Ok(now) = api.order(id).await {
                            this.order.try_set(now);
                            refocus_by_id(PROBLEM_ID.to_string());
                        }
                    }
                }
            }
            settled
        });
    }
}

/// "Cancel order", then a question before anything happens: "Yes, cancel" or
/// "No, keep it" (Escape too), focus on the safe answer when asked and back
/// on the button when kept. `refund_words`: the admin's desk says "refund"
/// when the order is paid.
#[component]
pub fn CancelControl(
    steps: Steps,
    #[prop(optional)] refund_words: bool,
    on_cancelled: Callback<Order>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let id = steps.order.with_untracked(|o| o.id);
    let paid = move || steps.order.with(is_paid);
    let label = move || {
        if refund_words && paid() {
            "Cancel and refund"
        } else {
            "Cancel order"
        }
    };
    let busy = move || steps.press.is_busy();
    let keep = move || {
        asking.set(false);
        focus_when_drawn("cancel-order".into());
    };
    let question = move || {
        if paid() {
            format!(
                "Cancel order #{id}? Its payment is refunded in full, and this cannot be undone."
            )
        } else {
            format!("Cancel order #{id}? This cannot be undone.")
        }
    };
    view! {
        <div class="cancel-control">
            <button
                type="button"
                id="cancel-order"
                class="button button-danger"
                aria-expanded=move || asking.get().to_string()
                aria-controls="cancel-confirm"
                aria-disabled=move || busy().to_string()
                on:click=move |_| {
                    if !steps.press.is_busy_untracked() && !asking.get_untracked() {
                        asking.set(true);
                        focus_when_drawn("cancel-no".into());
                    }
                }
            >
                {label}
            </button>
            <Show when=move || asking.get()>
                <div
                    id="cancel-confirm"
                    class="confirm card"
                    role="group"
                    aria-labelledby="cancel-question"
                    data-testid="cancel-confirm"
                    on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            ev.prevent_default();
                            keep();
                        }
                    }
                >
                    <p id="cancel-question" class="confirm-question">{question}</p>
                    <div class="form-buttons">
                        <button
                            type="button"
                            id="cancel-yes"
                            class="button button-danger"
                            aria-disabled=move || busy().to_string()
                            on:click=move |_| {
                                steps.run(OrderStep::Cancel, move |o| on_cancelled.run(o.clone()));
                            }
                        >
                            {move || if busy() { "Cancelling…" } else { "Yes, cancel it" }}
                        </button>
                        <button
                            type="button"
                            id="cancel-no"
                            class="button button-ghost"
                            on:click=move |_| {
                                if !steps.press.is_busy_untracked() {
                                    keep();
                                }
                            }
                        >
                            "No, keep it"
                        </button>
                    </div>
                </div>
            </Show>
        </div>
    }
}

/// The admin's buttons: ship with a tracking number, mark delivered, cancel
/// (and refund). Each is shown only while the order's status allows it.
#[component]
pub fn AdminSteps(steps: Steps, on_cancelled: Callback<Order>) -> impl IntoView {
    let status = Memo::new(move |_| steps.order.with(status_of));
    view! {
        <section class="admin-steps" aria-labelledby="steps-heading">
            <h2 id="steps-heading">"Next steps"</h2>
            {move || (!status.get().shippable()
                && !status.get().deliverable()
                && !status.get().cancellable())
                .then(|| view! { <p class="hint" data-testid="no-steps">"Nothing more can be done with this order."</p> })}
            <Show when=move || status.get().shippable()>
                <ShipForm steps />
            </Show>
            <Show when=move || status.get().deliverable()>
                <button
                    type="button"
                    id="deliver-order"
                    class="button button-primary"
                    aria-disabled=move || steps.press.is_busy().to_string()
                    on:click=move |_| steps.run(OrderStep::Deliver, |_| {})
                >
                    {move || if steps.press.is_busy() { "Saving…" } else { "Mark delivered" }}
                </button>
            </Show>
            <Show when=move || status.get().cancellable()>
                <CancelControl steps refund_words=true on_cancelled />
            </Show>
        </section>
    }
}

/// The tracking number, checked as the service checks it (1-64 printable
/// characters), then "Ship order".
#[component]
fn ShipForm(steps: Steps) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if steps.press.is_busy_untracked() {
            return;
        }
        let value = typed.get_untracked();
        if let Some(problem) = printable_problem(&value, TRACKING_NUMBER_MAX) {
            invalid.set(Some(field_problem("Tracking number", &problem)));
            focus_when_drawn("tracking".into());
            return;
        }
        invalid.set(None);
        steps.run(OrderStep::Ship(value.trim().to_string()), |_| {});
    };
    view! {
        <form class="ship-form" novalidate on:submit=on_submit data-testid="ship-form">
            <div class="field" class:invalid=move || invalid.with(Option::is_some)>
                <label for="tracking">"Tracking number"</label>
                <input
                    id="tracking"
                    type="text"
                    autocomplete="off"
                    aria-invalid=move || invalid.with(Option::is_some).to_string()
                    aria-describedby="tracking-error tracking-hint"
                    bind:value=typed
                />
                <p class="hint" id="tracking-hint">"1 to 64 characters, as the carrier gave it."</p>
                <p class="field-error" id="tracking-error">{move || invalid.get()}</p>
            </div>
            <button
                type="submit"
                id="ship-order"
                class="button button-primary"
                aria-disabled=move || steps.press.is_busy().to_string()
            >
                {move || if steps.press.is_busy() { "Shipping…" } else { "Ship order" }}
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_closed_orders_read_as_placed() {
        let closed = Order {
            is_open: false,
            ..Default::default()
        };
        assert_eq!(status_of(&closed), OrderStatus::Placed);
        let cart = Order {
            is_open: true,
            ..Default::default()
        };
        assert_eq!(status_of(&cart), OrderStatus::Open);
        let shipped = Order {
            status: OrderStatus::Shipped,
            ..Default::default()
        };
        assert_eq!(status_of(&shipped), OrderStatus::Shipped);
    }

    #[test]
    fn payment_states_read_as_words() {
        assert_eq!(payment_text("succeeded"), "Paid");
        assert_eq!(payment_text("refunded"), "Refunded");
        assert_eq!(payment_text("something_new"), "something new");
    }
}
