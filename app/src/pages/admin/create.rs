//! "Add a product": the form, its `Idempotency-Key` (a retry after an outage
//! adds one product, not two) and what happened.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{CreateProductRequest, Product};

use super::draft::{shown_on_fields, Draft, DraftFields};
use crate::a11y::focus_when_drawn;
use crate::api::idempotency::Intent;
use crate::api::ApiError;
use crate::components::{Notice, Tone};
use crate::format::money;
use crate::state::use_shop;

/// The ids of this form's inputs start with this (`field-name`, ...).
const PREFIX: &str = "field";

/// The new-product form; `on_created` hears of each product added.
#[component]
pub fn CreateForm(on_created: Callback<Product>) -> impl IntoView {
    let shop = use_shop();
    let draft = Draft::empty();
    let intent = StoredValue::new(Intent::default());

    let create = Action::new_local(move |req: &CreateProductRequest| {
        let req = req.clone();
        let what = serde_json::to_string(&req).unwrap_or_default();
        let key = intent
            .try_update_value(|i| i.key_for(&what))
            .unwrap_or_default();
        async move {
            let result = shop.api.create_product(&req, &key).await;
            if !result.as_ref().is_err_and(ApiError::is_outage) {
                intent.try_update_value(Intent::settle);
            }
            match &result {
                Ok(product) => {
                    draft.clear();
                    on_created.run(product.clone());
                    // The notice says what was added; the next product starts
                    // at the (now empty) first field.
                    focus_when_drawn(format!("{PREFIX}-name"));
                }
                Err(e) => draft.refused(PREFIX, e, req.slug.is_some()),
            }
            result
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if create.pending().get_untracked() {
            return;
        }
        if let Some(checked) = draft.check(PREFIX) {
            create.dispatch(checked.create_request());
        }
    };

    view! {
        {move || create.value().get().map(outcome)}
        <form class="form card" on:submit=on_submit novalidate>
            <DraftFields draft prefix=PREFIX.to_string() with_slug=true />
            // Busy, never `disabled`, which would drop focus to the page.
            <button type="submit" class="button button-primary" aria-disabled=move || create.pending().get().to_string()>
                {move || if create.pending().get() { "Adding…" } else { "Add product" }}
            </button>
        </form>
    }
}

fn outcome(result: Result<Product, ApiError>) -> AnyView {
    match result {
        Ok(p) => {
            let href = format!("/product/{}", p.slug);
            view! {
                <Notice tone=Tone::Success>
                    {format!("Product added: {} at {}. ", p.name, money(p.price))}
                    <A href=href>"See it"</A>
                </Notice>
            }
            .into_any()
        }
        // Field problems are shown beside the fields; other refusals here.
        Err(e) if shown_on_fields(&e) => ().into_any(),
        Err(e) => view! { <Notice tone=Tone::Error>{e.to_string()}</Notice> }.into_any(),
    }
}
