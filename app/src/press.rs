//! One press of a button that changes something, one change: the rules
//! "Add to cart" follows ([`crate::add_to_cart`]), for any such button.
//!
//! A press while the call is in flight is dropped (the flag is set before the
//! call starts, so two events in one frame act once) and the button says it is
//! busy, staying focusable (`aria-disabled`, never `disabled`, which would drop
//! keyboard focus to the page). A press within [`SAME_PRESS_MS`] of the one
//! before for the same action is the same intent, sent with the same
//! `Idempotency-Key`, so the service replays its first answer. Otherwise each
//! action has its own key, reused only on a retry after an outage.

use std::future::Future;

use leptos::prelude::*;

use crate::api::idempotency::Intent;

/// A second press this soon after the first is a shaky double-click, not a
/// second action.
pub const SAME_PRESS_MS: f64 = 500.0;

/// The state of one button (or of a few buttons acting on one thing: only one
/// of them runs at a time).
#[derive(Clone, Copy)]
pub struct Press {
    in_flight: RwSignal<bool>,
    intent: StoredValue<Intent>,
    /// The last press: when (`Date.now()`, ms), what, and its key.
    last: StoredValue<Option<(f64, String, String)>>,
}

impl Default for Press {
    fn default() -> Self {
        Self::new()
    }
}

impl Press {
    pub fn new() -> Self {
        Self {
            in_flight: RwSignal::new(false),
            intent: StoredValue::new(Intent::default()),
            last: StoredValue::new(None),
        }
    }

    /// Whether a call is on its way (tracked).
    pub fn is_busy(&self) -> bool {
        self.in_flight.get()
    }

    pub fn is_busy_untracked(&self) -> bool {
        self.in_flight.get_untracked()
    }

    /// Runs `work` with the `Idempotency-Key` of the action `what`, unless a
    /// call is already on its way. `work` answers whether the service gave its
    /// final word (`true`: success or a refusal) or the outcome is unknown
    /// (`false`: an outage, so a retry must carry the same key).
    pub fn run<F, Fut>(&self, what: String, work: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = bool> + 'static,
    {
        if self.in_flight.get_untracked() {
            return;
        }
        self.in_flight.set(true);
        let now = js_sys::Date::now();
        let repeated = self
            .last
            .get_value()
            .and_then(|(at, last, key)| (now - at < SAME_PRESS_MS && last == what).then_some(key));
        let key = repeated.unwrap_or_else(|| {
            self.intent
                .try_update_value(|i| i.key_for(&what))
                .unwrap_or_default()
        });
        self.last.set_value(Some((now, what, key.clone())));
        let fut = work(key);
        let this = *self;
        leptos::task::spawn_local(async move {
            let settled = fut.await;
            if settled {
                this.intent.try_update_value(Intent::settle);
            }
            // The page may be gone by now.
            this.in_flight.try_set(false);
        });
    }
}
