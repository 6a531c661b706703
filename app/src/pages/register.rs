//! Creating an account, with a live check that the username is free.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::{LoginRequest, RegisterRequest};

use crate::a11y::{focus_first_invalid, use_title};
use crate::api::idempotency::Intent;
use crate::api::{Api, ApiError};
use crate::components::{refusal_fields, Field, FieldErrors, Notice, Tone};
use crate::links::safe_next;
use crate::pages::login::AlreadyLoggedIn;
use crate::state::use_shop;

/// The form's fields in the order they are shown (focus goes to the first bad one).
const FIELD_ORDER: [&str; 5] = ["username", "email", "password", "first_name", "last_name"];

/// How long typing must pause before the username is checked.
const CHECK_DELAY: Duration = Duration::from_millis(400);

/// What the live check knows about the username typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameCheck {
    Idle,
    Checking,
    Free,
    Taken,
    /// The users service did not answer; the submit will tell.
    Unknown,
}

/// The contract's rule: 3-32 of `A-Za-z0-9_.-`. Others are not worth a request.
fn plausible_username(name: &str) -> bool {
    (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Where a refusal belongs: a field (422 `fields`, 409 `*_taken`) or the whole form.
fn place_error(e: &ApiError) -> FieldErrors {
    refusal_fields(e, |code| match code {
        "username_taken" => Some(("username", e.to_string())),
        "email_taken" => Some(("email", e.to_string())),
        _ => None,
    })
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Create an account".into());
    view! {
        <section class="form-page">
            <h1>"Create an account"</h1>
            <Show when=move || !shop.session.is_logged_in() fallback=|| view! { <AlreadyLoggedIn /> }>
                <RegisterForm />
            </Show>
        </section>
    }
}

/// The sign-up form; a new account is logged in at once and sent on its way.
#[component]
fn RegisterForm() -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let next = use_query_map().with_untracked(|q| safe_next(q.get("next")));
    let intent = StoredValue::new(Intent::default());
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let check = username_check(shop.api, username);

    let register = Action::new_local(move |req: &RegisterRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        let next = next.clone();
        let what = serde_json::to_string(&req).unwrap_or_default();
        let key = intent
            .try_update_value(|i| i.key_for(&what))
            .unwrap_or_default();
        async move {
            let created = shop.api.register(&req, &key).await;
            if !created.as_ref().is_err_and(ApiError::is_outage) {
                intent.try_update_value(Intent::settle);
            }
            match created {
                Ok(user) => {
                    // The password was just typed: log in with it rather than ask again.
                    let login = LoginRequest {
                        username: user.username.clone(),
                        password: req.password.clone(),
                    };
                    match shop.api.login(&login).await {
                        Ok(token) => {
                            shop.session.start(token);
                            navigate(&next, Default::default());
                        }
                        Err(_) => {
                            let name = String::from(js_sys::encode_uri_component(&user.username));
                            navigate(&format!("/login?registered={name}"), Default::default());
                        }
                    }
                    Ok(())
                }
                Err(e) => {
                    let fields = place_error(&e);
                    let placed = !fields.is_empty();
                    focus_first_invalid(&FIELD_ORDER, &fields);
                    errors.set(fields);
                    // A refusal shown next to its field needs no second notice.
                    if placed {
                        Ok(())
                    } else {
                        Err(e)
                    }
                }
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = RegisterRequest {
            username: username.get_untracked().trim().to_string(),
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
            first_name: first_name.get_untracked().trim().to_string(),
            last_name: last_name.get_untracked().trim().to_string(),
        };
        if register.pending().get_untracked() {
            return;
        }
        // The service checks every field at once with the one password rule
        // (`shared::password_problem`, white space only included) and names
        // each problem; a check here would hide the others behind it.
        register.dispatch(req);
    };
    let problem = move || {
        register
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <Notice tone=Tone::Error>{e.to_string()}</Notice> })
    };

    view! {
            {problem}
            <form class="form card" on:submit=on_submit novalidate>
                <Field
                    label="Username"
                    name="username"
                    value=username
                    errors
                    autocomplete="username"
                    required=true
                    hint="3 to 32 letters, digits, dots, dashes or underscores."
                >
                    <UsernameStatus check />
                </Field>
                <Field label="Email" name="email" kind="email" value=email errors autocomplete="email" required=true />
                <Field
                    label="Password"
                    name="password"
                    kind="password"
                    value=password
                    errors
                    autocomplete="new-password"
                    required=true
                    hint="At least 8 characters, not only spaces."
                />
                <div class="field-row">
                    <Field label="First name" name="first_name" value=first_name errors autocomplete="given-name" />
                    <Field label="Last name" name="last_name" value=last_name errors autocomplete="family-name" />
                </div>
                // Busy, never `disabled`, which would drop focus to the page.
                <button type="submit" class="button button-primary" aria-disabled=move || register.pending().get().to_string()>
                    {move || if register.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </form>
            <p class="form-alt">"Already have an account? " <A href="/login">"Log in"</A></p>
    }
}

/// Checks the username a moment after typing stops; a stale answer is dropped.
fn username_check(api: Api, username: RwSignal<String>) -> RwSignal<NameCheck> {
    let status = RwSignal::new(NameCheck::Idle);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let name = username.get().trim().to_string();
        if let Some(t) = timer.get_value() {
            t.clear();
        }
        if !plausible_username(&name) {
            status.set(NameCheck::Idle);
            return;
        }
        status.set(NameCheck::Checking);
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    let answer = api.username_taken(&name).await;
                    // The page may be gone, or the name changed while we asked.
                    let current = username.try_get_untracked();
                    if current.as_deref().map(str::trim) != Some(name.as_str()) {
                        return;
                    }
                    status.set(match answer {
                        Ok(true) => NameCheck::Taken,
                        Ok(false) => NameCheck::Free,
                        Err(_) => NameCheck::Unknown,
                    });
                });
            },
            CHECK_DELAY,
        );
        timer.set_value(handle.ok());
    });
    status
}

#[component]
fn UsernameStatus(check: RwSignal<NameCheck>) -> impl IntoView {
    let text = move || match check.get() {
        NameCheck::Idle | NameCheck::Unknown => "",
        NameCheck::Checking => "Checking…",
        NameCheck::Free => "✓ This username is available.",
        NameCheck::Taken => "✗ This username is taken.",
    };
    let class = move || match check.get() {
        NameCheck::Free => "name-check ok",
        NameCheck::Taken => "name-check taken",
        _ => "name-check",
    };
    view! {
        <p class=class data-testid="username-status" aria-live="polite">
            {text}
        </p>
    }
}
