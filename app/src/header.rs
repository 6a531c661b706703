//! The header on every page: brand, navigation, cart badge, who is logged in.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_navigate};

use crate::links::{login_href, path_and_query};

use crate::state::use_shop;

/// The shop's mark, a wheel (as `public/favicon.svg`), drawn in the text's
/// accent colour. Decoration only: the link's name is the word beside it. Fixed
/// markup set in one go, which costs the WASM less than building the elements.
const LOGO: &str = r##"<svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false"><circle cx="16" cy="16" r="12.5" fill="none" stroke="currentColor" stroke-width="3.5"/><path d="M16 5v22M6.5 10.5l19 11M25.5 10.5l-19 11" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/><circle cx="16" cy="16" r="4" fill="currentColor"/><circle cx="16" cy="16" r="1.5" fill="#fff"/></svg>"##;

#[component]
pub fn Header() -> impl IntoView {
    let shop = use_shop();
    let logged_in = move || shop.session.is_logged_in();
    view! {
        <header class="site-header">
            <div class="container header-inner">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true" inner_html=LOGO></span>
                    "Cartwheel"
                </a>
                <nav class="main-nav" aria-label="Main">
                    <A href="/" exact=true>"Catalogue"</A>
                    <A href="/cart">"Cart" <CartBadge /></A>
                    <Show when=logged_in>
                        <A href="/orders">"Orders"</A>
                    </Show>
                    <Show when=move || shop.is_admin()>
                        <A href="/admin" exact=true>{crate::pages::admin::TITLE}</A>
                        <A href="/admin/orders">{crate::pages::admin::DESK_TITLE}</A>
                    </Show>
                </nav>
                <Account />
            </div>
        </header>
    }
}

/// The number of pieces in the cart, or why it cannot be known.
#[component]
fn CartBadge() -> impl IntoView {
    let shop = use_shop();
    move || {
        if !shop.session.is_logged_in() {
            return None;
        }
        let badge = match shop.cart_now() {
            None => view! { <span class="badge badge-muted" aria-label="cart loading">"…"</span> }
                .into_any(),
            Some(Ok(cart)) => {
                let count = cart.map(|o| o.item_count()).unwrap_or(0);
                let label = format!("{count} items in cart");
                view! {
                    <span class="badge" data-testid="cart-count" aria-label=label>
                        {count}
                    </span>
                }
                .into_any()
            }
            Some(Err(_)) => view! {
                <span
                    class="badge badge-warning"
                    data-testid="cart-unavailable"
                    title="The cart is unavailable right now"
                >
                    "unavailable"
                </span>
            }
            .into_any(),
        };
        Some(badge)
    }
}

/// Who is logged in and the way out, or the ways in.
#[component]
fn Account() -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let logout = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            // The token dies server side; locally it goes whatever the answer,
            // so a users outage cannot keep anyone logged in on this browser.
            let _ = shop.api.logout().await;
            shop.session.clear();
            shop.last_order.set(None);
            navigate("/", Default::default());
        }
    });
    // While the users service is down the token still counts: say so plainly.
    let greeting = move || match shop.user.get() {
        Some(Ok(Some(u))) if !u.first_name.trim().is_empty() => format!("Hi, {}", u.first_name),
        Some(Ok(Some(u))) => format!("Hi, {}", u.username),
        Some(Err(_)) => "Signed in".to_string(),
        _ => "…".to_string(),
    };
    let location = use_location();
    // Logging in from any page comes back to it.
    let here = move || path_and_query(&location.pathname.get(), &location.search.get());
    let login = move || login_href(&here());
    let register = move || login_href(&here()).replacen("/login", "/register", 1);
    view! {
        <div class="account">
            <Show
                when=move || shop.session.is_logged_in()
                fallback=move || {
                    view! {
                        <A href=login>"Log in"</A>
                        <A href=register attr:class="button button-small">"Register"</A>
                    }
                }
            >
                <A href="/account" attr:class="user-name" attr:data-testid="user-name">
                    {greeting}
                </A>
                <button
                    type="button"
                    class="button button-small button-ghost"
                    on:click=move |_| {
                        logout.dispatch(());
                    }
                    disabled=move || logout.pending().get()
                >
                    "Log out"
                </button>
            </Show>
        </div>
    }
}
