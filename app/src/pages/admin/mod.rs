//! Managing the catalogue, for admins (contract v1.2): add a product, and every
//! product, hidden ones included, with edit, hide / show and a quick restock.
//! Others get a plain notice.

mod create;
mod draft;
mod edit;
mod list;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::a11y::use_title;
use crate::components::{Loading, Notice, Tone};
use crate::state::use_shop;
use create::CreateForm;
use list::ProductList;

/// The page's name: its heading, tab title and navigation link.
pub const TITLE: &str = "Manage products";

#[component]
pub fn AdminPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| TITLE.into());
    view! {
        <section class="admin-page">
            <h1>{TITLE}</h1>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=|| view! {
                    <Notice tone=Tone::Info>
                        "This page is for administrators. " <A href="/login?next=%2Fadmin">"Log in"</A>
                    </Notice>
                }
            >
                <Transition fallback=|| view! { <Loading /> }>
                    {move || shop.user.get().map(|r| match r {
                        Ok(Some(user)) if user.is_admin => view! { <AdminTools /> }.into_any(),
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
        </section>
    }
}

/// The two halves of the page; a product added shows up in the list.
#[component]
fn AdminTools() -> impl IntoView {
    let list: list::ProductsList = RwSignal::new(None);
    list::load(list);
    let on_created = Callback::new(move |_| list::load(list));
    view! {
        <div class="admin-columns">
            <section class="admin-add" aria-labelledby="add-heading">
                <h2 id="add-heading">"Add a product"</h2>
                <CreateForm on_created />
            </section>
            <section class="admin-list" aria-labelledby="all-heading">
                <h2 id="all-heading">"All products"</h2>
                <ProductList list />
            </section>
        </div>
    }
}
