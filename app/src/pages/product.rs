//! One product, by id or slug, with a quantity and an add-to-cart button.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::Product;

use crate::components::{ErrorNotices, Loading, Notice, Tone};
use crate::format::money;
use crate::state::use_shop;

#[component]
pub fn ProductPage() -> impl IntoView {
    let shop = use_shop();
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let product = LocalResource::new(move || {
        let id = id.get();
        async move { shop.api.product(&id).await }
    });
    view! {
        <section class="product-page">
            <p class="back"><A href="/">"← Back to the catalogue"</A></p>
            <Suspense fallback=|| view! { <Loading label="Loading the product…" /> }>
                <ErrorBoundary fallback=|errors| view! { <ErrorNotices errors /> }>
                    {move || {
                        product.get().map(|r| r.map(|p| view! { <ProductDetail product=p /> }))
                    }}
                </ErrorBoundary>
            </Suspense>
        </section>
    }
}

#[component]
fn ProductDetail(product: Product) -> impl IntoView {
    view! {
        <article class="product-detail">
            <img class="product-image" src=product.image.clone() alt=product.name.clone() width="480" height="360" />
            <div class="product-info">
                <h1>{product.name.clone()}</h1>
                <p class="price price-large">{money(product.price)}</p>
                <p class="description">{product.description.clone()}</p>
                <AddToCart product_id=product.id />
            </div>
        </article>
    }
}

/// Quantity and the button; logged-out visitors get a link to log in instead.
#[component]
fn AddToCart(product_id: i64) -> impl IntoView {
    let shop = use_shop();
    let qty = RwSignal::new("1".to_string());
    let invalid = RwSignal::new(false);
    let add = Action::new_local(move |qty: &i64| {
        let qty = *qty;
        async move {
            let result = shop.api.add_item(product_id, qty).await;
            if let Ok(order) = &result {
                shop.set_cart(Some(order.clone()));
            }
            result
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match qty.get_untracked().trim().parse::<i64>() {
            Ok(n) if (1..=99).contains(&n) => {
                invalid.set(false);
                add.dispatch(n);
            }
            _ => invalid.set(true),
        }
    };
    let outcome = move || {
        add.value().get().map(|r| match r {
            Ok(_) => view! {
                <Notice tone=Tone::Success>
                    "Added to your cart. " <A href="/cart">"View cart"</A>
                </Notice>
            }
            .into_any(),
            Err(e) => view! { <Notice tone=Tone::Warning>{e.to_string()}</Notice> }.into_any(),
        })
    };
    view! {
        <Show
            when=move || shop.session.is_logged_in()
            fallback=|| {
                view! {
                    <p class="login-hint">
                        <A href="/login">"Log in"</A>
                        " to add this to your cart."
                    </p>
                }
            }
        >
            <form class="add-to-cart" on:submit=on_submit novalidate>
                <div class="field field-inline" class:invalid=move || invalid.get()>
                    <label for="qty">"Quantity"</label>
                    <input
                        id="qty"
                        name="qty"
                        type="number"
                        min="1"
                        max="99"
                        inputmode="numeric"
                        aria-describedby="qty-error"
                        aria-invalid=move || if invalid.get() { "true" } else { "false" }
                        bind:value=qty
                    />
                    <button type="submit" class="button" disabled=move || add.pending().get()>
                        {move || if add.pending().get() { "Adding…" } else { "Add to cart" }}
                    </button>
                </div>
                <p class="field-error" id="qty-error" aria-live="polite">
                    {move || invalid.get().then_some("Enter a quantity from 1 to 99.")}
                </p>
            </form>
            {outcome}
        </Show>
    }
}
