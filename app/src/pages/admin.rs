//! Adding a product, for admins. Others get a plain notice.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{CreateProductRequest, Product};

use crate::api::ApiError;
use crate::components::{Field, FieldErrors, Loading, Notice, Tone};
use crate::format::{money, parse_money};
use crate::state::use_shop;

#[component]
pub fn AdminPage() -> impl IntoView {
    let shop = use_shop();
    view! {
        <section class="form-page">
            <h1>"Add a product"</h1>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=|| view! {
                    <Notice tone=Tone::Info>
                        "This page is for administrators. " <A href="/login">"Log in"</A>
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

    let create = Action::new_local(move |req: &CreateProductRequest| {
        let req = req.clone();
        async move {
            let result = shop.api.create_product(&req).await;
            match &result {
                Ok(_) => {
                    for field in [name, price, slug, image, description] {
                        field.set(String::new());
                    }
                    errors.set(FieldErrors::new());
                }
                Err(e) => {
                    let mut fields = e.fields();
                    match e.code() {
                        Some("slug_taken") => {
                            fields.insert("slug".into(), e.to_string());
                        }
                        Some("name_taken") => {
                            fields.insert("name".into(), e.to_string());
                        }
                        _ => {}
                    }
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
        if cents.is_none() && !typed.trim().is_empty() {
            errors.set(FieldErrors::from([(
                "price".to_string(),
                "Enter a price like 12.50.".to_string(),
            )]));
            return;
        }
        create.dispatch(CreateProductRequest {
            name: name.get_untracked().trim().to_string(),
            price: cents,
            slug: optional(slug.get_untracked()),
            image: optional(image.get_untracked()),
            description: optional(description.get_untracked()),
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
        Err(e) if !e.fields().is_empty() => ().into_any(),
        Err(e) => view! { <Notice tone=Tone::Error>{e.to_string()}</Notice> }.into_any(),
    }
}
