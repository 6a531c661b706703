//! Every section of the page comes back by itself after an outage of its
//! service (the cart, the catalogue, a product, the orders): while its last
//! answer was an outage it is asked again with backoff (1, 2, 4 ... up to
//! 30 s), and at once when the window gets focus back or the shopper goes to
//! another page. Nothing here moves focus: the section just fills in; only
//! when the notice that held focus ("Try again") is
//! replaced does focus go to the page's heading instead of nowhere.

use std::time::Duration;

use leptos::ev;
use leptos::leptos_dom::helpers::TimeoutHandle;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::a11y::focus_heading_if_lost;
use crate::api::ApiError;
use crate::state::use_shop;

/// The first wait after an outage; it doubles after each failed retry.
const FIRST_RETRY_MS: u64 = 1_000;
/// The longest wait between retries.
const MAX_RETRY_MS: u64 = 30_000;

/// How long to wait before the `attempt`-th retry (0 first).
fn backoff(attempt: u32) -> Duration {
    let ms = FIRST_RETRY_MS.saturating_mul(1 << attempt.min(16));
    Duration::from_millis(ms.min(MAX_RETRY_MS))
}

/// Whether a resource's last answer was an outage (tracked).
fn is_down<T: 'static>(r: &LocalResource<Result<T, ApiError>>) -> bool {
    r.with(|v| matches!(v, Some(Err(e)) if e.is_outage()))
}

/// Mounted once, inside the router: the cart, and the catalogue's index of
/// products that cart and order lines show (thumbnails, prices now, stock).
#[component]
pub fn CartRecovery() -> impl IntoView {
    let shop = use_shop();
    heal(shop.cart);
    heal(shop.products);
}

/// Heals one section of a page (its resource) by itself after an outage,
/// for as long as the calling component lives: asked again with backoff
/// while its last answer was an outage, and at once when the window gets
/// focus back or the shopper goes to another page.
pub fn heal<T: 'static>(resource: LocalResource<Result<T, ApiError>>) {
    // The generic part is this shim: one body for every kind of section
    // keeps the WASM smaller than one copy per resource type.
    heal_with(
        Signal::derive(move || is_down(&resource)),
        Callback::new(move |_| resource.refetch()),
    );
}

/// [`heal`] for a section whose last answer was an outage while `down`.
fn heal_with(down: Signal<bool>, refetch: Callback<()>) {
    let attempts = StoredValue::new(0u32);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let cancel_timer = move || {
        if let Some(t) = timer.try_update_value(Option::take).flatten() {
            t.clear();
        }
    };
    let down_now = move || down.get_untracked();
    let retry_now = move || {
        if down_now() {
            cancel_timer();
            refetch.run(());
        }
    };

    // Each answer: an outage schedules the next try, anything else ends the
    // retries.
    Effect::new(move |was_down: Option<bool>| {
        let down = down.get();
        cancel_timer();
        if down {
            let n = attempts.get_value();
            attempts.set_value(n.saturating_add(1));
            let handle = set_timeout_with_handle(
                move || {
                    timer.set_value(None);
                    if down_now() {
                        refetch.run(());
                    }
                },
                backoff(n),
            );
            timer.set_value(handle.ok());
        } else {
            attempts.set_value(0);
            if was_down == Some(true) {
                focus_heading_if_lost();
            }
        }
        down
    });

    let on_focus = window_event_listener(ev::focus, move |_| retry_now());
    on_cleanup(move || {
        on_focus.remove();
        cancel_timer();
    });

    let location = use_location();
    Effect::new(move |first: Option<()>| {
        location.pathname.track();
        if first.is_some() {
            retry_now();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_half_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(5), Duration::from_secs(30));
        assert_eq!(backoff(40), Duration::from_secs(30));
    }
}
