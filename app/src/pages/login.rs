//! Logging in: the token goes into the session, the shopper back where they were.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::LoginRequest;

use crate::a11y::{focus_first_invalid, use_title};
use crate::api::ApiError;
use crate::components::{Field, FieldErrors, Notice, Tone};
use crate::links::safe_next;
use crate::state::use_shop;

/// What a failed login says; a bad password reads better than the code's message.
fn login_problem(e: &ApiError) -> String {
    match e.code() {
        Some("bad_credentials") => "Wrong username or password.".to_string(),
        _ => e.to_string(),
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Log in".into());
    view! {
        <section class="form-page">
            <h1>"Log in"</h1>
            <Show when=move || !shop.session.is_logged_in() fallback=|| view! { <AlreadyLoggedIn /> }>
                <LoginForm />
            </Show>
        </section>
    }
}

/// Instead of a form nobody needs: who is logged in and where to go.
#[component]
pub fn AlreadyLoggedIn() -> impl IntoView {
    let shop = use_shop();
    let who = move || {
        shop.current_user()
            .map(|u| format!("You are logged in as {}. ", u.username))
            .unwrap_or_else(|| "You are logged in. ".to_string())
    };
    view! {
        <div data-testid="already-logged-in">
            <Notice tone=Tone::Info>
                {who}
                <A href="/">"Go to the catalogue"</A>
                " or "
                <A href="/account">"see your account"</A>
                "."
            </Notice>
        </div>
    }
}

#[component]
fn LoginForm() -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let query = use_query_map();
    let next = query.with_untracked(|q| safe_next(q.get("next")));
    let registered = query.with_untracked(|q| q.get("registered"));
    let username = RwSignal::new(registered.clone().unwrap_or_default());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let session_ended = shop.session.ended();

    let login = Action::new_local(move |req: &LoginRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        let next = next.clone();
        async move {
            match shop.api.login(&req).await {
                Ok(token) => {
                    shop.session.start(token);
                    navigate(&next, Default::default());
                    Ok(())
                }
                Err(e) => {
                    let fields = crate::components::refusal_fields(&e, |_| None);
                    focus_first_invalid(&["username", "password"], &fields);
                    let placed = !fields.is_empty();
                    errors.set(fields);
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
        if login.pending().get_untracked() {
            return;
        }
        let mut missing = FieldErrors::new();
        let req = LoginRequest {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if req.username.is_empty() {
            missing.insert("username".into(), "Enter your username.".into());
        }
        if req.password.is_empty() {
            missing.insert("password".into(), "Enter your password.".into());
        }
        let ok = missing.is_empty();
        focus_first_invalid(&["username", "password"], &missing);
        errors.set(missing);
        if ok {
            login.dispatch(req);
        }
    };
    let problem = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <Notice tone=Tone::Error>{login_problem(&e)}</Notice> })
    };

    let everywhere = query.with_untracked(|q| q.get("logged_out")).is_some();
    view! {
        {everywhere.then(|| view! {
            <Notice tone=Tone::Success>"You are logged out on every device."</Notice>
        })}
        {registered.map(|_| view! {
            <Notice tone=Tone::Success>"Your account is ready. Log in to start shopping."</Notice>
        })}
        {session_ended.then(|| view! {
            <Notice tone=Tone::Info>"Your session has ended. Please log in again."</Notice>
        })}
        {problem}
        <form class="form card" on:submit=on_submit novalidate>
            <Field label="Username" name="username" value=username errors autocomplete="username" required=true />
            <Field label="Password" name="password" kind="password" value=password errors autocomplete="current-password" required=true />
            // Busy, never `disabled`: a disabled button drops focus to the
            // page, so a failed login started from it would leave the shopper
            // nowhere; the notice says what went wrong, focus stays here.
            <button type="submit" class="button button-primary" aria-disabled=move || login.pending().get().to_string()>
                {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
            </button>
        </form>
        <p class="form-alt">"New here? " <A href="/register">"Create an account"</A></p>
    }
}
