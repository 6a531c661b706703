//! One product, by id or slug, with a quantity and an add-to-cart button.
//!
//! A hidden product (v1.2) is a 404 for shoppers, so it reads as "Product not
//! found" like any unknown one.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::Product;

use crate::a11y::use_title;
use crate::add_to_cart::AddToCartForm;
use crate::api::ApiError;
use crate::components::{Loading, OutageNotice};
use crate::format::money;
use crate::state::use_shop;
use crate::stock::{notice_id, Availability, StockNotice};

#[component]
pub fn ProductPage() -> impl IntoView {
    let shop = use_shop();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let product = LocalResource::new(move || {
        let id = id.get();
        async move { shop.api.product(&id).await }
    });
    use_title(move || match product.get() {
        Some(Ok(p)) => p.name,
        Some(Err(ApiError::Rejected { status: 404, .. })) => "Product not found".into(),
        Some(Err(_)) => "Product unavailable".into(),
        None => "Product".into(),
    });
    let retry = Callback::new(move |_| product.refetch());
    crate::recovery::heal(product);
    view! {
        <section class="product-page">
            <p class="back"><A href="/">"← Back to the catalogue"</A></p>
            <Suspense fallback=|| view! { <Loading label="Loading the product…" /> }>
                {move || {
                    product.get().map(|r| match r {
                        Ok(p) => view! { <ProductDetail product=p /> }.into_any(),
                        Err(ApiError::Rejected { status: 404, .. }) => view! {
                            <h1>"Product not found"</h1>
                            <p class="empty">"There is no such product. " <A href="/">"Browse the catalogue"</A></p>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <h1>"This product is unavailable right now"</h1>
                            <OutageNotice text=e.to_string() retry />
                        }
                        .into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn ProductDetail(product: Product) -> impl IntoView {
    let availability = Availability::of(&product);
    let stock_note = notice_id("product", product.id);
    view! {
        <article class="product-detail">
            // The largest image of the page: loaded first, never lazily.
            <img
                class="product-image"
                src=product.image.clone()
                alt=product.name.clone()
                width="480"
                height="360"
                fetchpriority="high"
            />
            <div class="product-info">
                <h1>{product.name.clone()}</h1>
                <p class="price price-large">{money(product.price)}</p>
                <StockNotice availability id=stock_note.clone() />
                <p class="description">{product.description.clone()}</p>
                <AddToCartForm product stock_note />
            </div>
        </article>
    }
}
