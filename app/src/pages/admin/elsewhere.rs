//! The admin pages in the shopper's release WASM, which leaves them out: a
//! visit that reaches one (the header's link, a login that returns to one)
//! loads it from the server, which serves `/admin/` from the admin's build.

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use super::TITLE;
use crate::components::{Loading, Notice, Tone};
use crate::links::path_and_query;

/// The path this document was loaded at (not where the router is now).
fn loaded_at() -> Option<String> {
    let entries = window().performance()?.get_entries_by_type("navigation");
    let entry: web_sys::PerformanceEntry = entries.get(0).dyn_into().ok()?;
    web_sys::Url::new(&entry.name()).ok().map(|u| u.pathname())
}

/// Loads the admin page from the server, unless the server itself gave this
/// build for an admin URL (it serves no admin build): then says so, once,
/// instead of reloading for ever.
fn from_the_server() -> impl IntoView {
    let served_here = loaded_at().is_some_and(|p| p == "/admin" || p.starts_with("/admin/"));
    if served_here {
        view! {
            <section class="admin-page">
                <h1>{TITLE}</h1>
                <Notice tone=Tone::Warning>
                    "The admin pages are not part of this build of the shop: the site serves them from /admin/ (its admin build, see the README)."
                </Notice>
            </section>
        }
        .into_any()
    } else {
        // The router may update the address bar after drawing the page: load
        // the router's location once it has, in place of this history entry.
        let location = use_location();
        let href = path_and_query(
            &location.pathname.get_untracked(),
            &location.search.get_untracked(),
        );
        set_timeout(
            move || {
                let _ = window().location().replace(&href);
            },
            std::time::Duration::ZERO,
        );
        view! { <Loading /> }.into_any()
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    from_the_server()
}

#[component]
pub fn OrderDeskPage() -> impl IntoView {
    from_the_server()
}

#[component]
pub fn DeskOrderPage() -> impl IntoView {
    from_the_server()
}
