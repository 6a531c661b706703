//! Every product for an admin, hidden ones included, one card each: what it
//! costs, its stock, whether shoppers see it, and the ways to change that.
//!
//! Each card keeps its product in a signal: a change redraws only the text that
//! changed, so keyboard focus stays on the control that was used, and the card's
//! own live region says what happened.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{ListBody, Product, UpdateProductRequest};

use super::edit::EditForm;
use crate::a11y::refocus_by_id;
use crate::api::{Api, ApiError};
use crate::components::{Busy, Loading, OutageNotice};
use crate::format::money;
use crate::state::use_shop;
use crate::stock::{admin_stock_text, parse_stock};

type ProductsResource = LocalResource<Result<ListBody<Product>, ApiError>>;

#[component]
pub fn ProductList(list: ProductsResource) -> impl IntoView {
    let retry = Callback::new(move |_| list.refetch());
    view! {
        <Transition fallback=|| view! { <Loading label="Loading the products…" /> }>
            {move || list.get().map(|r| match r {
                Ok(body) => view! { <Cards body /> }.into_any(),
                Err(e) => view! { <OutageNotice text=e.to_string() retry /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Cards(body: ListBody<Product>) -> impl IntoView {
    let shown = body.results.len() as i64;
    let count = if shown < body.total {
        format!("The first {shown} of {} products, hidden ones included.", body.total)
    } else {
        format!("{shown} products, hidden ones included.")
    };
    view! {
        <p class="hint">{count}</p>
        <ul class="admin-products" data-testid="admin-products">
            {body
                .results
                .into_iter()
                .map(|product| view! { <li><ProductCard product /></li> })
                .collect_view()}
        </ul>
    }
}

/// What the card's live region says: a confirmation or a refusal.
#[derive(Debug, Clone, PartialEq)]
pub enum RowStatus {
    Done(String),
    Failed(String),
}

/// `PATCH`es the product; on success the card shows it as saved.
pub async fn save(
    api: Api,
    product: RwSignal<Product>,
    req: UpdateProductRequest,
) -> Result<Product, ApiError> {
    let id = product.with_untracked(|p| p.id);
    let saved = api.update_product(id, &req).await?;
    product.try_set(saved.clone());
    Ok(saved)
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let api = use_shop().api;
    let id = product.id;
    let product = RwSignal::new(product);
    let editing = RwSignal::new(false);
    let status = RwSignal::new(None::<RowStatus>);
    let heading_id = format!("product-{id}-name");
    let labelled_by = heading_id.clone();
    let edit_id = format!("edit-{id}");
    let form_id = format!("edit-{id}-form");

    let name = move || product.with(|p| p.name.clone());
    let hidden = move || product.with(|p| p.hidden);
    let toggling = Busy::new();
    let toggle = move || {
        let req = UpdateProductRequest {
            hidden: Some(!product.with_untracked(|p| p.hidden)),
            ..Default::default()
        };
        toggling.run(async move {
            let result = save(api, product, req).await;
            status.try_set(Some(match result {
                Ok(p) if p.hidden => RowStatus::Done(format!(
                    "“{}” is hidden: shoppers no longer see it.",
                    p.name
                )),
                Ok(p) => RowStatus::Done(format!("“{}” is on sale again.", p.name)),
                Err(e) => RowStatus::Failed(not_changed(&product, &e)),
            }));
        });
    };
    let close_edit = {
        let edit_id = edit_id.clone();
        Callback::new(move |done: Option<String>| {
            editing.set(false);
            if let Some(text) = done {
                status.set(Some(RowStatus::Done(text)));
            }
            // The form held focus and is gone: back to the button that opened it.
            refocus_by_id(edit_id.clone());
        })
    };

    view! {
        <article
            class="card admin-product"
            class:is-hidden=hidden
            aria-labelledby=labelled_by
            data-testid="admin-product"
            data-product=id.to_string()
        >
            <div class="admin-product-head">
                <h3 id=heading_id class="admin-product-name">
                    // A hidden product's page is a 404: no link to it.
                    {move || {
                        let (name, slug, hidden) = product.with(|p| (p.name.clone(), p.slug.clone(), p.hidden));
                        if hidden {
                            name.into_any()
                        } else {
                            view! { <A href=format!("/product/{slug}")>{name}</A> }.into_any()
                        }
                    }}
                </h3>
                {move || hidden().then(|| view! { <span class="tag tag-hidden">"Hidden"</span> })}
            </div>
            <dl class="admin-facts">
                <div>
                    <dt>"Price"</dt>
                    <dd data-testid="admin-price">{move || product.with(|p| money(p.price))}</dd>
                </div>
                <div>
                    <dt>"Stock"</dt>
                    <dd data-testid="admin-stock">{move || product.with(|p| admin_stock_text(p.stock))}</dd>
                </div>
                <div>
                    <dt>"Shoppers"</dt>
                    <dd data-testid="admin-visibility">
                        {move || if hidden() { "hidden" } else { "on sale" }}
                    </dd>
                </div>
            </dl>
            <div class="admin-actions">
                <button
                    type="button"
                    id=edit_id
                    class="button button-small"
                    aria-expanded=move || editing.get().to_string()
                    aria-controls=form_id.clone()
                    on:click=move |_| editing.update(|e| *e = !*e)
                >
                    "Edit"
                    <span class="visually-hidden">{move || format!(" {}", name())}</span>
                </button>
                <button
                    type="button"
                    class="button button-small button-ghost"
                    data-testid="toggle-hidden"
                    aria-disabled=move || toggling.is_busy().to_string()
                    on:click=move |_| toggle()
                >
                    {move || if hidden() { "Show in shop" } else { "Hide from shop" }}
                    <span class="visually-hidden">{move || format!(": {}", name())}</span>
                </button>
                <RestockForm product status />
            </div>
            {move || editing.get().then(|| view! {
                <EditForm product form_id=form_id.clone() on_close=close_edit />
            })}
            <p
                role="status"
                class="row-status"
                class:failed=move || matches!(status.get(), Some(RowStatus::Failed(_)))
                data-testid="admin-row-status"
            >
                {move || status.get().map(|s| match s {
                    RowStatus::Done(t) | RowStatus::Failed(t) => t,
                })}
            </p>
        </article>
    }
}

/// A refusal, in the card's words.
pub fn not_changed(product: &RwSignal<Product>, e: &ApiError) -> String {
    let name = product.with_untracked(|p| p.name.clone());
    format!("“{name}” was not changed: {e}")
}

/// Sets the stock in one step: the count that is on the shelf now.
#[component]
fn RestockForm(product: RwSignal<Product>, status: RwSignal<Option<RowStatus>>) -> impl IntoView {
    let api = use_shop().api;
    let id = product.with_untracked(|p| p.id);
    let input_id = format!("restock-{id}");
    let error_id = format!("restock-{id}-error");
    let typed = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let name = move || product.with(|p| p.name.clone());
    let restocking = Busy::new();
    let restock = move |units: i64| {
        let req = UpdateProductRequest {
            stock: Some(Some(units)),
            ..Default::default()
        };
        restocking.run(async move { match save(api, product, req).await {
            Ok(p) => {
                typed.try_set(String::new());
                status.try_set(Some(RowStatus::Done(format!(
                    "Stock of “{}” set to {units}.",
                    p.name
                ))));
            }
            Err(e) => match e.fields().get("stock") {
                Some(problem) => {
                    invalid.try_set(Some(crate::format::field_problem("Stock", problem)));
                }
                None => {
                    status.try_set(Some(RowStatus::Failed(not_changed(&product, &e))));
                }
            },
        } });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match parse_stock(&typed.get_untracked()) {
            Ok(Some(units)) => {
                invalid.set(None);
                restock(units);
            }
            Ok(None) => invalid.set(Some(
                "Enter how many are in stock, from 0 to 1,000,000.".to_string(),
            )),
            Err(problem) => invalid.set(Some(problem)),
        }
    };
    view! {
        <form class="restock" on:submit=on_submit novalidate>
            <label for=input_id.clone()>
                "New stock"
                <span class="visually-hidden">{move || format!(" of {}", name())}</span>
            </label>
            <input
                id=input_id
                type="text"
                inputmode="numeric"
                autocomplete="off"
                size="6"
                aria-invalid=move || invalid.with(Option::is_some).to_string()
                aria-describedby=error_id.clone()
                bind:value=typed
                on:input=move |_| invalid.set(None)
            />
            <button
                type="submit"
                class="button button-small"
                aria-disabled=move || restocking.is_busy().to_string()
            >
                {move || if restocking.is_busy() { "Setting…" } else { "Set" }}
                <span class="visually-hidden">{move || format!(" stock of {}", name())}</span>
            </button>
            <p class="field-error" id=error_id>{move || invalid.get()}</p>
        </form>
    }
}
