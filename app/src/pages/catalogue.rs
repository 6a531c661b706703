//! The catalogue: product cards, search by name, paging.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::Product;

use crate::components::{ErrorNotices, Loading, Pager};
use crate::format::money;
use crate::state::use_shop;

/// Products per page.
const PAGE_SIZE: i64 = 8;

/// The URL of a catalogue page; the URL is the state, so Back and reload work.
fn catalogue_url(q: &str, offset: i64) -> String {
    let mut params = Vec::new();
    if !q.is_empty() {
        params.push(format!(
            "q={}",
            String::from(js_sys::encode_uri_component(q))
        ));
    }
    if offset > 0 {
        params.push(format!("offset={offset}"));
    }
    if params.is_empty() {
        "/".to_string()
    } else {
        format!("/?{}", params.join("&"))
    }
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let shop = use_shop();
    let query = use_query_map();
    let q = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let offset = super::use_offset();
    let page = LocalResource::new(move || {
        let (q, offset) = (q.get(), offset.get());
        async move { shop.api.products(&q, PAGE_SIZE, offset).await }
    });

    view! {
        <section class="catalogue">
            <div class="page-head">
                <h1>"Catalogue"</h1>
                <SearchBox q />
            </div>
            <Transition fallback=|| view! { <Loading label="Loading products…" /> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotices errors /> }>
                    {move || {
                        page.get()
                            .map(|result| {
                                result
                                    .map(|list| {
                                        view! {
                                            <ProductGrid products=list.results.clone() q=q.get() />
                                            <Pager
                                                offset=offset.get()
                                                page_size=PAGE_SIZE
                                                shown=list.results.len() as i64
                                                total=list.total
                                                link=move |o| catalogue_url(&q.get_untracked(), o)
                                            />
                                        }
                                    })
                            })
                    }}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}

/// Searches by name; the query goes into the URL.
#[component]
fn SearchBox(q: Memo<String>) -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(q.get_untracked());
    // Follow the URL when it changes under us (Back, a link to the catalogue).
    Effect::new(move |_| text.set(q.get()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        navigate(
            &catalogue_url(text.get_untracked().trim(), 0),
            Default::default(),
        );
    };
    view! {
        <form class="search" role="search" on:submit=on_submit>
            <label for="search-q" class="visually-hidden">"Search products"</label>
            <input
                id="search-q"
                type="search"
                name="q"
                placeholder="Search products"
                bind:value=text
            />
            <button type="submit" class="button">"Search"</button>
        </form>
    }
}

#[component]
fn ProductGrid(products: Vec<Product>, q: String) -> impl IntoView {
    if products.is_empty() {
        let text = if q.is_empty() {
            "No products yet.".to_string()
        } else {
            format!("No products match “{q}”.")
        };
        return view! { <p class="empty">{text}</p> }.into_any();
    }
    view! {
        <ul class="product-grid" data-testid="product-grid">
            {products
                .into_iter()
                .map(|p| view! { <li><ProductCard product=p /></li> })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let href = format!("/product/{}", product.slug);
    view! {
        <article class="card product-card" data-testid="product-card">
            <A href=href>
                <img src=product.image alt="" loading="lazy" width="320" height="240" />
                <h2 class="card-title">{product.name}</h2>
            </A>
            <p class="price">{money(product.price)}</p>
        </article>
    }
}
