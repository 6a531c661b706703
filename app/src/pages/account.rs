//! Who is logged in, and the ways out: this browser, or every device at once.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::a11y::use_title;
use crate::components::{Notice, Tone};
use crate::state::use_shop;

#[component]
pub fn AccountPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Your account".into());
    view! {
        <section class="form-page">
            <h1>"Your account"</h1>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=|| view! {
                    <Notice tone=Tone::Info>
                        <A href="/login?next=%2Faccount">"Log in"</A>
                        " to see your account."
                    </Notice>
                }
            >
                <AccountDetails />
                <LogOutEverywhere />
            </Show>
        </section>
    }
}

#[component]
fn AccountDetails() -> impl IntoView {
    let shop = use_shop();
    move || {
        shop.current_user().map(|u| {
            let name = format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_string();
            view! {
                <dl class="card account-details">
                    <dt>"Username"</dt>
                    <dd data-testid="account-username">{u.username}</dd>
                    <dt>"Email"</dt>
                    <dd>{u.email}</dd>
                    {(!name.is_empty()).then(|| view! { <dt>"Name"</dt><dd>{name}</dd> })}
                </dl>
            }
        })
    }
}

/// `POST /api/user/logout-all`: every session of this account ends, here too.
#[component]
fn LogOutEverywhere() -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let action = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            let result = shop.api.logout_all().await;
            if result.is_ok() {
                shop.session.clear();
                shop.last_order.set(None);
                navigate("/login?logged_out=everywhere", Default::default());
            }
            result
        }
    });
    view! {
        <div class="card logout-all">
            <h2>"Sessions"</h2>
            <p>"Lost a phone, or used a shared computer? End every session of this account, on every device."</p>
            <div role="status">
                {move || action.value().get().and_then(Result::err).map(|e| view! {
                    <div class="notice notice-warning">{e.to_string()}</div>
                })}
            </div>
            <button
                type="button"
                class="button button-danger"
                aria-disabled=move || action.pending().get().to_string()
                on:click=move |_| {
                    if !action.pending().get_untracked() {
                        action.dispatch(());
                    }
                }
            >
                {move || if action.pending().get() { "Logging out everywhere…" } else { "Log out everywhere" }}
            </button>
        </div>
    }
}
