//! The toast after an add to cart: the product's picture and name, how many
//! were added, the cart's subtotal now, "Check out" and a close button.
//!
//! One at a time: an add sets [`crate::state::Shop::toast`] and replaces what
//! was there. It is seen, not spoken: the add's own status beside its button
//! (a live region) already says what was added and what the cart now holds,
//! and a second live region would have it read twice. It never takes focus,
//! so a keyboard user stays on the add button. It hides by itself [`HIDE_MS`]
//! after it was last pointed at or focused; Escape, its close button and going
//! to another page close it.

use leptos::ev;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use crate::format::money;
use crate::state::use_shop;

/// How long the toast stays while the pointer is not over it and focus not in it.
const HIDE_MS: f64 = 6_000.0;
/// How often the toast checks whether that time is up.
const TICK_MS: i32 = 250;

/// What the toast tells of an add.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub name: String,
    pub image: String,
    pub qty: i64,
    /// The cart's total after the add, in cents.
    pub subtotal: i64,
}

/// The toast's place in the page, once at the root.
#[component]
pub fn CartToast() -> impl IntoView {
    let shown = use_shop().toast;
    let hovered = RwSignal::new(false);
    let focused = RwSignal::new(false);
    // The toast the running timer is for: a new one (or none) ends that timer.
    let generation = StoredValue::new(0u64);
    // Where focus was when it opened (the add button): where a close from
    // inside the toast puts it back, rather than on the page's body.
    let opener = StoredValue::new_local(None::<web_sys::Element>);

    Effect::new(move |_| {
        let open = shown.with(Option::is_some);
        generation.update_value(|g| *g += 1);
        let this = generation.get_value();
        hovered.set(false);
        focused.set(false);
        if !open {
            return;
        }
        opener.set_value(document().active_element());
        leptos::task::spawn_local(async move {
            let mut deadline = js_sys::Date::now() + HIDE_MS;
            loop {
                crate::timer::sleep(TICK_MS).await;
                if generation.try_get_value() != Some(this) {
                    return;
                }
                if hovered.get_untracked() || focused.get_untracked() {
                    deadline = js_sys::Date::now() + HIDE_MS;
                } else if js_sys::Date::now() >= deadline {
                    shown.set(None);
                    return;
                }
            }
        });
    });

    let close = move || {
        if focused.get_untracked() {
            match opener.with_value(|el| {
                el.as_ref()
                    .filter(|el| el.is_connected())
                    .and_then(|el| el.dyn_ref::<web_sys::HtmlElement>().cloned())
            }) {
                Some(el) => {
                    let _ = el.focus();
                }
                None => crate::a11y::focus_heading_if_lost(),
            }
        }
        shown.set(None);
    };
    let on_key = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" && shown.with_untracked(Option::is_some) {
            close();
        }
    });
    on_cleanup(move || on_key.remove());
    // It tells of an add on the page that was left (and "Check out" goes to
    // the cart, where it would only repeat the link).
    let location = use_location();
    Effect::new(move |before: Option<String>| {
        let path = location.pathname.get();
        if before.is_some_and(|b| b != path) {
            shown.set(None);
        }
        path
    });

    view! {
        <div class="toast-region" data-testid="toast-region">
            {move || shown.get().map(|a| view! {
                // A landmark of its own (a named section), as everything in
                // the page is in one.
                <section
                    class="toast"
                    aria-label="Added to your cart"
                    data-testid="toast"
                    on:pointerenter=move |_| hovered.set(true)
                    on:pointerleave=move |_| hovered.set(false)
                    on:focusin=move |_| focused.set(true)
                    on:focusout=move |_| focused.set(false)
                >
                    <img class="toast-image" src=a.image alt="" width="64" height="48" />
                    <div class="toast-body">
                        <p class="toast-title">"Added to your cart"</p>
                        <p class="toast-name" data-testid="toast-name">{a.name}</p>
                        <p class="toast-detail">
                            <span data-testid="toast-qty">{format!("Quantity: {}", a.qty)}</span>
                            " · "
                            <span data-testid="toast-subtotal">{format!("Cart subtotal: {}", money(a.subtotal))}</span>
                        </p>
                        <A href="/cart" attr:class="button button-small">"Check out"</A>
                    </div>
                    <button type="button" class="toast-close" aria-label="Close" on:click=move |_| close()>
                        <span aria-hidden="true">"×"</span>
                    </button>
                </section>
            })}
        </div>
    }
}
