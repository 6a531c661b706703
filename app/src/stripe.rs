//! Stripe.js, the provider's script that takes the card in the browser: the
//! only place the app talks to it (contract v1.3: card numbers go from the
//! browser to the provider, never to the shop).
//!
//! The script is loaded only when a payment step is shown (one `<script>`,
//! injected once; a failed load may be tried again). Its three calls the app
//! uses are the ones Stripe documents and the emulator implements: a card
//! element, `createToken(card)`, and `confirmCardPayment(client_secret)` for
//! the bank's step (3-D Secure). Calls to the provider are bounded in time:
//! a provider that does not answer is said as such instead of a hang.

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// How long loading the script or making a token may take.
const PROVIDER_WAIT_MS: i32 = 15_000;
/// What a bounded wait rejects with when time ran out.
const TIMED_OUT: &str = "cartwheel:timed-out";

/// Why a call to the provider gave nothing usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeError {
    /// No answer in time, or the script did not load: try again later.
    Unreachable,
    /// The provider's own sentence for people (an incomplete card number).
    Refused(String),
}

thread_local! {
    /// The script's load, shared by every payment step of the page.
    static SCRIPT: RefCell<Option<Promise>> = const { RefCell::new(None) };
    /// `Stripe(publishable_key)`, made once per page.
    static CLIENT: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

/// Calls the method `name` of `target` with `args`.
fn call(target: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let method: Function = get(target, name)?.dyn_into()?;
    let args: js_sys::Array = args.iter().copied().collect();
    method.apply(target, &args)
}

/// `promise`, or a rejection with [`TIMED_OUT`] after `ms`.
async fn within(promise: Promise, ms: i32) -> Result<JsValue, StripeError> {
    let timer = Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_1(
                &reject,
                ms,
                &JsValue::from_str(TIMED_OUT),
            );
        }
    });
    let race = Promise::race(&[promise, timer].into_iter().collect::<js_sys::Array>());
    JsFuture::from(race)
        .await
        .map_err(|_| StripeError::Unreachable)
}

/// Starts loading the script, once; `None` when the page has no document.
fn script_load(url: &str) -> Option<Promise> {
    if let Some(loading) = SCRIPT.with_borrow(Clone::clone) {
        return Some(loading);
    }
    let document = web_sys::window()?.document()?;
    let script = document.create_element("script").ok()?;
    script.set_attribute("src", url).ok()?;
    script.set_attribute("async", "").ok()?;
    let loading = Promise::new(&mut |resolve, reject| {
        let _ = script.add_event_listener_with_callback("load", &resolve);
        let _ = script.add_event_listener_with_callback("error", &reject);
    });
    document.head()?.append_child(&script).ok()?;
    SCRIPT.set(Some(loading.clone()));
    // A script that failed to load is removed, so the next try injects it anew.
    let failed = Closure::once(move |_: JsValue| {
        script.remove();
        SCRIPT.set(None);
    });
    let _ = loading.catch(&failed);
    // Called at most once, by the browser: it lives as long as the page.
    failed.forget();
    Some(loading)
}

/// The provider's client for `publishable_key`, loading Stripe.js from `url`
/// first when it is not in the page yet.
pub async fn client(url: &str, publishable_key: &str) -> Result<JsValue, StripeError> {
    if let Some(client) = CLIENT.with_borrow(Clone::clone) {
        return Ok(client);
    }
    let loading = script_load(url).ok_or(StripeError::Unreachable)?;
    within(loading, PROVIDER_WAIT_MS).await?;
    // A second step that awaited the same load may have made it meanwhile.
    if let Some(client) = CLIENT.with_borrow(Clone::clone) {
        return Ok(client);
    }
    let stripe: Function = get(&js_sys::global(), "Stripe")
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or(StripeError::Unreachable)?;
    let client = stripe
        .call1(&JsValue::UNDEFINED, &JsValue::from_str(publishable_key))
        .map_err(|_| StripeError::Unreachable)?;
    CLIENT.set(Some(client.clone()));
    Ok(client)
}

/// The provider's card field, mounted in an element of the page.
#[derive(Clone)]
pub struct CardElement {
    element: JsValue,
}

impl CardElement {
    /// Creates the card field and mounts it in `host`; `on_change` runs each
    /// time the shopper edits it.
    pub fn mount(
        client: &JsValue,
        host: &web_sys::Element,
        on_change: impl Fn() + 'static,
    ) -> Result<Self, StripeError> {
        let fail = |_| StripeError::Unreachable;
        let elements = call(client, "elements", &[]).map_err(fail)?;
        let options = Object::new();
        // The shop asks for the postal code with the address, not here.
        let _ = Reflect::set(&options, &"hidePostalCode".into(), &JsValue::TRUE);
        let element = call(&elements, "create", &[&"card".into(), &options]).map_err(fail)?;
        keep_dom_element_checks(&element);
        call(&element, "mount", &[host.as_ref()]).map_err(fail)?;
        let listener = Closure::<dyn Fn()>::new(on_change).into_js_value();
        call(&element, "on", &[&"change".into(), &listener]).map_err(fail)?;
        Ok(Self { element })
    }

    /// A single-use token of the card typed (`tok_...`), made at the provider.
    pub async fn create_token(&self, client: &JsValue) -> Result<String, StripeError> {
        let promise: Promise = call(client, "createToken", &[&self.element])
            .and_then(|p| p.dyn_into())
            .map_err(|_| StripeError::Unreachable)?;
        let answer = within(promise, PROVIDER_WAIT_MS).await?;
        refusal(&answer)?;
        get(&answer, "token")
            .and_then(|t| get(&t, "id"))
            .ok()
            .and_then(|id| id.as_string())
            .ok_or(StripeError::Unreachable)
    }

    /// Takes the card field out of the page (the step is over).
    pub fn destroy(&self) {
        let _ = call(&self.element, "destroy", &[]);
    }
}

/// The Stripe emulator's Stripe.js (localstripe's) declares its card field
/// as a global `class Element`, which shadows the DOM's `Element` for every
/// script of the page: wasm-bindgen's `instanceof Element` then fails for
/// real elements, and Leptos silently stops inserting new nodes. That class
/// is taught to answer `instanceof` for DOM elements too (its own instances
/// still count). Stripe's own script declares no such global: nothing to do.
fn keep_dom_element_checks(element: &JsValue) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let (Ok(class), Ok(dom_element)) = (get(element, "constructor"), get(&window, "Element"))
    else {
        return;
    };
    let named = get(&class, "name").ok().and_then(|n| n.as_string());
    if named.as_deref() != Some("Element") || class == dom_element {
        return;
    }
    // `Function.prototype[Symbol.hasInstance]`: the ordinary `instanceof`.
    let ordinary = Reflect::get_prototype_of(&class)
        .and_then(|p| Reflect::get(&p, &js_sys::Symbol::has_instance()))
        .map(|f| f.unchecked_into::<Function>());
    let Ok(ordinary) = ordinary else {
        return;
    };
    let own = class.clone();
    let check = Closure::<dyn Fn(JsValue) -> bool>::new(move |value: JsValue| {
        let is = |of: &JsValue| ordinary.call1(of, &value).is_ok_and(|r| r.is_truthy());
        is(&dom_element) || is(&own)
    });
    let descriptor = Object::new();
    let _ = Reflect::set(&descriptor, &"value".into(), check.as_ref());
    let _ = Reflect::define_property(
        class.unchecked_ref::<Object>(),
        &js_sys::Symbol::has_instance(),
        &descriptor,
    );
    // Part of the class from now on, as long as the page lives.
    check.forget();
}

/// The `error` of a provider's answer, as [`StripeError::Refused`].
fn refusal(answer: &JsValue) -> Result<(), StripeError> {
    let error = get(answer, "error").unwrap_or(JsValue::UNDEFINED);
    if error.is_undefined() || error.is_null() {
        return Ok(());
    }
    let text = |name| get(&error, name).ok().and_then(|v| v.as_string());
    // The provider's errors carry a `type` and a sentence for people; anything
    // else is an exception inside the script (a network failure).
    match (text("type"), text("message")) {
        (Some(_), Some(message)) if !message.trim().is_empty() => {
            Err(StripeError::Refused(message))
        }
        _ => Err(StripeError::Unreachable),
    }
}

/// The bank's step (3-D Secure) of the PaymentIntent whose secret this is:
/// Stripe.js shows the bank's page and answers when the shopper is done.
/// Not bounded in time: the shopper may take a while at their bank.
pub async fn confirm_card_payment(
    client: &JsValue,
    client_secret: &str,
) -> Result<(), StripeError> {
    let promise: Promise = call(client, "confirmCardPayment", &[&client_secret.into()])
        .and_then(|p| p.dyn_into())
        .map_err(|_| StripeError::Unreachable)?;
    let answer = JsFuture::from(promise)
        .await
        .map_err(|_| StripeError::Unreachable)?;
    refusal(&answer)
}
