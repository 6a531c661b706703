//! The admin area's own pages and what they share: the gate that lets only
//! administrators in, and the way between the pages.

use leptos::prelude::*;
use leptos_router::components::A;

use super::create::CreateForm;
use super::list::{self, ProductList};
use super::{DESK_TITLE, TITLE};
use crate::a11y::use_title;
use crate::components::{Loading, Notice, Tone};
use crate::state::use_shop;

#[component]
pub fn AdminPage() -> impl IntoView {
    use_title(|| TITLE.into());
    view! {
        <section class="admin-page">
            <h1>{TITLE}</h1>
            <AdminGate here="/admin">
                <AdminNav />
                <AdminTools />
            </AdminGate>
        </section>
    }
}

/// The ways between the admin pages.
#[component]
pub(super) fn AdminNav() -> impl IntoView {
    view! {
        <nav class="admin-nav" aria-label="Admin">
            <A href="/admin" exact=true>{TITLE}</A>
            <A href="/admin/orders">{DESK_TITLE}</A>
        </nav>
    }
}

/// Its children for admins only: others are asked to log in, or told the page
/// is not for them. `here` is the page, to come back to after logging in.
#[component]
pub(super) fn AdminGate(here: &'static str, children: ChildrenFn) -> impl IntoView {
    let shop = use_shop();
    let login = crate::links::login_href(here);
    let children = StoredValue::new(children);
    view! {
        <Show
            when=move || shop.session.is_logged_in()
            fallback=move || {
                let login = login.clone();
                view! {
                    <Notice tone=Tone::Info>
                        "This page is for administrators. " <A href=login>"Log in"</A>
                    </Notice>
                }
            }
        >
            <Transition fallback=|| view! { <Loading /> }>
                {move || shop.user.get().map(|r| match r {
                    Ok(Some(user)) if user.is_admin => children.with_value(|c| c()).into_any(),
                    Ok(_) => view! {
                        <div data-testid="admin-only">
                            <Notice tone=Tone::Info>"This page is for administrators only."</Notice>
                        </div>
                    }
                    .into_any(),
                    Err(e) => view! { <Notice tone=Tone::Warning>{e.to_string()}</Notice> }.into_any(),
                })}
            </Transition>
        </Show>
    }
}

/// The two halves of the page; a product added shows up in the list (at the
/// top of the first page: the list is newest first).
#[component]
fn AdminTools() -> impl IntoView {
    let offset = crate::pages::use_offset();
    let list = list::ProductsList::new();
    // The first page, and each page the pager (or Back) goes to.
    Effect::new(move |_| list.load(offset.get()));
    let on_created = Callback::new(move |_| list.load(offset.get_untracked()));
    view! {
        <div class="admin-columns">
            <section class="admin-add" aria-labelledby="add-heading">
                <h2 id="add-heading">"Add a product"</h2>
                <CreateForm on_created />
            </section>
            <section class="admin-list" aria-labelledby="all-heading">
                <h2 id="all-heading">"All products"</h2>
                <ProductList list offset />
            </section>
        </div>
    }
}
