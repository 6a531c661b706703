//! Logging in: the token goes into the session, the user back to the shop.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::LoginRequest;

use crate::api::ApiError;
use crate::components::{Field, FieldErrors, Notice, Tone};
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
    let navigate = use_navigate();
    let query = use_query_map();
    let registered = query.with_untracked(|q| q.get("registered"));
    let username = RwSignal::new(registered.clone().unwrap_or_default());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let session_ended = shop.session.ended();

    let login = Action::new_local(move |req: &LoginRequest| {
        let req = req.clone();
        let navigate = navigate.clone();
        async move {
            match shop.api.login(&req).await {
                Ok(token) => {
                    shop.session.start(token);
                    navigate("/", Default::default());
                    Ok(())
                }
                Err(e) => {
                    errors.set(e.fields());
                    Err(e)
                }
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
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

    view! {
        <section class="form-page">
            <h1>"Log in"</h1>
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
                <button type="submit" class="button button-primary" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
            <p class="form-alt">"New here? " <A href="/register">"Create an account"</A></p>
        </section>
    }
}
