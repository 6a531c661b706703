//! The floor under the SPA's WASM: the shop's routes, each a page that reads one
//! of the `shared` DTOs over HTTP and shows a line of it. Everything the shop's
//! pages add on top of this is the shop's own code.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_params_map;
use leptos_router::path;
use serde::de::DeserializeOwned;
use shared::{ListBody, Order, Product, User};

async fn get<T: DeserializeOwned>(url: String) -> Result<T, String> {
    let answer = gloo_net::http::Request::get(&url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    answer.json::<T>().await.map_err(|e| e.to_string())
}

#[component]
fn Catalogue() -> impl IntoView {
    let list = LocalResource::new(|| get::<ListBody<Product>>("/api/products".into()));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || list.get().map(|answer| match answer {
                Ok(page) => view! {
                    <ul>
                        {page.results.into_iter().map(|p| view! {
                            <li><A href=format!("/product/{}", p.id)>{p.name}</A></li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <p role="alert">{e}</p> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn OneProduct() -> impl IntoView {
    let params = use_params_map();
    let product = LocalResource::new(move || {
        let id = params.get().get("id").unwrap_or_default();
        get::<Product>(format!("/api/products/{id}"))
    });
    view! {
        <Suspense fallback=|| ()>
            {move || product.get().map(|p| p.map(|p| view! { <h1>{p.name}</h1> }))}
        </Suspense>
    }
}

#[component]
fn Orders() -> impl IntoView {
    let list = LocalResource::new(|| get::<ListBody<Order>>("/api/orders".into()));
    view! {
        <Suspense fallback=|| ()>
            {move || list.get().map(|page| page.map(|page| {
                page.results.into_iter().map(|o| view! {
                    <p>{o.id}" "{o.created_at.to_rfc3339()}</p>
                }).collect_view()
            }))}
        </Suspense>
    }
}

#[component]
fn Me() -> impl IntoView {
    let me = LocalResource::new(|| get::<User>("/api/users/me".into()));
    view! {
        <Suspense fallback=|| ()>
            {move || me.get().map(|u| u.map(|u| view! { <p>{u.email}</p> }))}
        </Suspense>
    }
}

#[component]
fn Titled(#[prop(into)] title: String) -> impl IntoView {
    view! { <h1>{title}</h1> }
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <nav>
                <A href="/">"Shop"</A>
                <A href="/cart">"Cart"</A>
                <A href="/orders">"Orders"</A>
            </nav>
            <main>
                <Routes fallback=|| view! { <Titled title="Page not found" /> }>
                    <Route path=path!("/") view=Catalogue />
                    <Route path=path!("/product/:id") view=OneProduct />
                    <Route path=path!("/cart") view=Orders />
                    <Route path=path!("/thank-you/:id") view=Orders />
                    <Route path=path!("/orders") view=Orders />
                    <Route path=path!("/orders/:id") view=Orders />
                    <Route path=path!("/login") view=Me />
                    <Route path=path!("/register") view=Me />
                    <Route path=path!("/admin") view=|| view! { <Titled title="Admin" /> } />
                    <Route path=path!("/admin/orders") view=|| view! { <Titled title="Desk" /> } />
                    <Route path=path!("/admin/orders/:id") view=|| view! { <Titled title="Order" /> } />
                    <Route path=path!("/account") view=Me />
                    <Route path=path!("/:page") view=|| view! { <Titled title="Info" /> } />
                </Routes>
            </main>
        </Router>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}
