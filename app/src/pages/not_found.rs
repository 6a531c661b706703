//! Any URL the router does not know.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::a11y::use_title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    use_title(|| "Page not found".into());
    view! {
        <section>
            <h1>"Page not found"</h1>
            <p>"There is nothing here. " <A href="/">"Go to the catalogue"</A></p>
        </section>
    }
}
