//! The catalogue: product cards, search by name, sorting, paging.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::Product;

use crate::a11y::use_title;
use crate::add_to_cart::AddToCartButton;
use crate::api::{Api, ApiError};
use crate::components::{ErrorNotices, Loading, Pager};
use crate::format::money;
use crate::state::use_shop;
use crate::stock::{notice_id, Availability, StockNotice};

/// Products per page. The SPA image preloads the landing page's first page by URL
/// (`deploy/docker/spa/entrypoint.sh`): change both together.
const PAGE_SIZE: i64 = 8;
/// Cards whose images load at once: the first row or two, where the LCP is.
const EAGER_IMAGES: usize = 4;

/// How the shopper asked the list to be ordered (`?sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    /// The catalogue's own order (by id), paged by the service.
    Featured,
    PriceLow,
    PriceHigh,
    Name,
    Newest,
}

impl Sort {
    const ALL: [Sort; 5] = [
        Sort::Featured,
        Sort::PriceLow,
        Sort::PriceHigh,
        Sort::Name,
        Sort::Newest,
    ];

    fn parse(s: &str) -> Sort {
        Self::ALL
            .into_iter()
            .find(|x| x.key() == s)
            .unwrap_or(Sort::Featured)
    }

    fn key(self) -> &'static str {
        match self {
            Sort::Featured => "",
            Sort::PriceLow => "price-asc",
            Sort::PriceHigh => "price-desc",
            Sort::Name => "name",
            Sort::Newest => "newest",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sort::Featured => "Featured",
            Sort::PriceLow => "Price: low to high",
            Sort::PriceHigh => "Price: high to low",
            Sort::Name => "Name: A to Z",
            Sort::Newest => "Newest first",
        }
    }

    /// The products service's `sort` (contract v1.3); `None` for its own order.
    fn api_key(self) -> Option<&'static str> {
        match self {
            Sort::Featured => None,
            Sort::PriceLow => Some("price"),
            Sort::PriceHigh => Some("-price"),
            Sort::Name => Some("name"),
            // Ids grow with creation: the highest is the newest.
            Sort::Newest => Some("-id"),
        }
    }
}

/// One page of cards as shown, with where it starts (the pager reads it from the
/// data, so it never runs ahead of the cards on a slow network).
#[derive(Debug, Clone)]
struct Page {
    products: Vec<Product>,
    offset: i64,
    total: i64,
}

/// Loads one page, sorted by the products service (contract v1.3): exactly the
/// cards shown, whatever the sort and however large the catalogue.
async fn load_page(api: Api, q: String, sort: Sort, offset: i64) -> Result<Page, ApiError> {
    let list = api.products(&q, sort.api_key(), PAGE_SIZE, offset).await?;
    Ok(Page {
        products: list.results,
        offset,
        total: list.total,
    })
}

/// The URL of a catalogue page; the URL is the state, so Back and reload work.
fn catalogue_url(q: &str, sort: Sort, offset: i64) -> String {
    let mut params = Vec::new();
    if !q.is_empty() {
        params.push(format!(
            "q={}",
            String::from(js_sys::encode_uri_component(q))
        ));
    }
    if sort != Sort::Featured {
        params.push(format!("sort={}", sort.key()));
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
    let sort = Memo::new(move |_| Sort::parse(&query.read().get("sort").unwrap_or_default()));
    let offset = super::use_offset();
    let page = LocalResource::new(move || load_page(shop.api, q.get(), sort.get(), offset.get()));
    let pending = RwSignal::new(false);
    use_title(move || {
        let mut title = if q.with(String::is_empty) {
            "Catalogue".to_string()
        } else {
            format!("Search: {}", q.get())
        };
        if offset.get() > 0 {
            title.push_str(&format!(" (from {})", offset.get() + 1));
        }
        title
    });
    let retry = Callback::new(move |_| page.refetch());
    crate::recovery::heal(page);

    view! {
        <section class="catalogue">
            <div class="page-head">
                <h1>"Catalogue"</h1>
                <SearchBox q sort />
            </div>
            <SortPicker q sort />
            <Show when=move || pending.get()>
                <div data-testid="catalogue-loading"><Loading label="Loading products…" /></div>
            </Show>
            <Transition fallback=|| view! { <Loading label="Loading products…" /> } set_pending=pending>
                <ErrorBoundary fallback=move |errors| view! { <ErrorNotices errors retry /> }>
                    {move || {
                        page.get().map(|result| {
                            result.map(|p| {
                                view! {
                                    <div class="results" class:stale=move || pending.get() aria-busy=move || pending.get().to_string()>
                                        <ProductGrid products=p.products.clone() q=q.get_untracked() />
                                    </div>
                                    <Pager
                                        offset=p.offset
                                        page_size=PAGE_SIZE
                                        shown=p.products.len() as i64
                                        total=p.total
                                        link=move |o| catalogue_url(&q.get_untracked(), sort.get_untracked(), o)
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
fn SearchBox(q: Memo<String>, sort: Memo<Sort>) -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(q.get_untracked());
    // Follow the URL when it changes under us (Back, a link to the catalogue).
    Effect::new(move |_| text.set(q.get()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        navigate(
            &catalogue_url(text.get_untracked().trim(), sort.get_untracked(), 0),
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

/// The order of the list; changing it starts again at the first page.
#[component]
fn SortPicker(q: Memo<String>, sort: Memo<Sort>) -> impl IntoView {
    let navigate = use_navigate();
    let on_change = move |ev: leptos::ev::Event| {
        let chosen = Sort::parse(&event_target_value(&ev));
        navigate(
            &catalogue_url(&q.get_untracked(), chosen, 0),
            Default::default(),
        );
    };
    view! {
        <div class="sort">
            <label for="sort">"Sort by"</label>
            <select id="sort" name="sort" on:change=on_change>
                {Sort::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.key() selected=move || sort.get() == s>{s.label()}</option> })
                    .collect_view()}
            </select>
        </div>
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
    // Keyed by product: a plain list would be redrawn in place on the next
    // page (Next, a search, a sort), each card's old picture showing under
    // its new name until the new one loaded, and an add's status staying with
    // the slot instead of the product.
    let cards: Vec<(usize, Product)> = products.into_iter().enumerate().collect();
    view! {
        <ul class="product-grid" data-testid="product-grid">
            <For
                each=move || cards.clone()
                key=|(_, p)| p.id
                children=|(i, p)| view! { <li><ProductCard product=p eager=i < EAGER_IMAGES first=i == 0 /></li> }
            />
        </ul>
    }
    .into_any()
}

#[component]
fn ProductCard(product: Product, eager: bool, first: bool) -> impl IntoView {
    let href = format!("/product/{}", product.slug);
    let title = product.name.clone();
    let availability = Availability::of(&product);
    let stock_note = notice_id("card", product.id);
    let (id, image, price) = (product.id, product.image.clone(), product.price);
    view! {
        <article class="card product-card" data-testid="product-card" data-product=id.to_string()>
            <A href=href>
                <img
                    src=image
                    alt=""
                    loading=if eager { "eager" } else { "lazy" }
                    fetchpriority=if first { "high" } else { "auto" }
                    width="320"
                    height="240"
                />
                <h2 class="card-title">{title}</h2>
            </A>
            <p class="price">{money(price)}</p>
            <StockNotice availability id=stock_note.clone() />
            <AddToCartButton product stock_note />
        </article>
    }
}
