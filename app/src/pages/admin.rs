//! Adding a product, for admins. Others get a plain notice.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{CreateProductRequest, Product};

use crate::a11y::{focus_first_invalid, use_title};
use crate::api::idempotency::Intent;
use crate::api::ApiError;
use crate::components::{human_fields, Field, FieldErrors, Loading, Notice, Tone};
use crate::format::{field_label, money, parse_money};
use crate::state::use_shop;

/// The form's fields in the order they are shown (focus goes to the first bad one).
const FIELD_ORDER: [&str; 5] = ["name", "price", "slug", "image", "description"];

/// Where a refusal belongs. A taken slug made from the name (the Slug field was
/// left empty) means the name is taken: say so on the name.
fn place_error(e: &ApiError, slug_typed: bool) -> FieldErrors {
    let mut fields = human_fields(e.fields(), field_label);
    match e.code() {
        Some("slug_taken") if slug_typed => {
            fields.insert(
                "slug".into(),
                "Another product has this slug. Choose another.".into(),
            );
        }
        Some("slug_taken") | Some("name_taken") => {
            fields.insert(
                "name".into(),
                "Another product has this name. Choose another.".into(),
            );
        }
        _ => {}
    }
    fields
}
#[component]
pub fn AdminPage() -> impl IntoView {
    let shop = use_shop();
    use_title(|| "Add a product".into());
    view! {
        <section class="form-page">
            <h1>"Add a product"</h1>
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
                        Ok(Some(user)) if user.is_admin => view! { <ProductForm /> }.into_any(),
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

fn optional(s: String) -> Option<String> {
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

#[component]
fn ProductForm() -> impl IntoView {
    let shop = use_shop();
    let name = RwSignal::new(String::new());
    let price = RwSignal::new(String::new());
    let slug = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
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
                Ok(_) => {
                    for field in [name, price, slug, image, description] {
                        field.set(String::new());
                    }
                    errors.set(FieldErrors::new());
                }
                Err(e) => {
                    let fields = place_error(e, req.slug.is_some());
                    focus_first_invalid(&FIELD_ORDER, &fields);
                    errors.set(fields);
                }
            }
            result
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = price.get_untracked();
        let cents = parse_money(&typed);
        // Checked here, in dollars: the service speaks in cents.
        let mut local = FieldErrors::new();
        if name.get_untracked().trim().is_empty() {
            local.insert("name".into(), "Name is required.".into());
        }
        if typed.trim().is_empty() {
            local.insert(
                "price".into(),
                "Price is required: enter it in dollars, for example 12.50.".into(),
            );
        } else if cents.is_none() {
            local.insert(
                "price".into(),
                "Enter the price in dollars, for example 12.50.".into(),
            );
        }
        if !local.is_empty() {
            focus_first_invalid(&FIELD_ORDER, &local);
            errors.set(local);
            return;
        }
        create.dispatch(CreateProductRequest {
            name: name.get_untracked().trim().to_string(),
            price: cents,
            slug: optional(slug.get_untracked()),
            image: optional(image.get_untracked()),
            description: optional(description.get_untracked()),
            stock: None,
        });
    };

    view! {
        {move || create.value().get().map(outcome)}
        <form class="form card" on:submit=on_submit novalidate>
            <Field label="Name" name="name" value=name errors required=true />
            <Field label="Price" name="price" value=price errors required=true hint="In dollars, for example 12.50." />
            <Field label="Slug" name="slug" value=slug errors hint="Optional: made from the name when empty." />
            <Field label="Image URL" name="image" kind="url" value=image errors />
            <div class="field">
                <label for="field-description">"Description"</label>
                <textarea
                    id="field-description"
                    name="description"
                    rows="4"
                    aria-describedby="field-description-error"
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                ></textarea>
                <p class="field-error" id="field-description-error" aria-live="polite">
                    {move || errors.with(|e| e.get("description").cloned())}
                </p>
            </div>
            <button type="submit" class="button button-primary" disabled=move || create.pending().get()>
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
        Err(e)
            if !e.fields().is_empty() || matches!(e.code(), Some("slug_taken" | "name_taken")) =>
        {
            ().into_any()
        }
        Err(e) => view! { <Notice tone=Tone::Error>{e.to_string()}</Notice> }.into_any(),
    }
}
