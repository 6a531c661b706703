//! Editing one product in its card: the same fields and checks as "add a
//! product" (see [`super::draft`]), sent as a `PATCH` of what changed. Refusals
//! show beside their fields (422) or on the name (409 name taken); the form
//! opens with focus on its first field and gives focus back when it closes.

use leptos::prelude::*;
use shared::{Product, UpdateProductRequest};

use super::draft::{shown_on_fields, Draft, DraftFields};
use crate::a11y::focus_when_drawn;
use crate::api::ApiError;
use crate::components::{Busy, Notice, Tone};
use crate::state::use_shop;

/// `on_close` gets what to say in the card (`None`: cancelled).
#[component]
pub fn EditForm(
    product: RwSignal<Product>,
    form_id: String,
    on_close: Callback<Option<String>>,
) -> impl IntoView {
    let api = use_shop().api;
    let before = product.get_untracked();
    let before_id = before.id;
    let prefix = format!("edit-{}", before.id);
    let heading_id = format!("{form_id}-heading");
    let labelled_by = heading_id.clone();
    let heading = format!("Edit “{}”", before.name);
    let draft = Draft::of(&before);
    let problem = RwSignal::new(None::<ApiError>);

    let saving = Busy::new();
    let prefix_for_submit = prefix.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.is_busy_untracked() {
            return;
        }
        problem.set(None);
        let Some(checked) = draft.check(&prefix_for_submit) else {
            return;
        };
        let req = checked.update_request(&product.get_untracked());
        if req == UpdateProductRequest::default() {
            on_close.run(Some("Nothing to save: no field was changed.".into()));
        } else {
            let prefix = prefix_for_submit.clone();
            saving.run(async move {
                match api.update_product(before_id, &req).await {
                    Ok(p) => {
                        let text = format!("Saved “{}”.", p.name);
                        product.try_set(p);
                        on_close.run(Some(text));
                    }
                    Err(e) if shown_on_fields(&e) => draft.refused(&prefix, &e, false),
                    Err(e) => {
                        problem.try_set(Some(e));
                    }
                }
            });
        }
    };
    // Escape closes the form without saving, as it would a dialog.
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            on_close.run(None);
        }
    };
    focus_when_drawn(format!("{prefix}-name"));

    view! {
        <form
            id=form_id
            class="form edit-form"
            aria-labelledby=labelled_by
            data-testid="edit-form"
            novalidate
            on:submit=on_submit
            on:keydown=on_keydown
        >
            <h4 id=heading_id class="edit-heading">{heading}</h4>
            {move || problem.get().map(|e| view! { <Notice tone=Tone::Error>{e.to_string()}</Notice> })}
            <DraftFields draft prefix with_slug=false />
            <div class="form-buttons">
                <button type="submit" class="button button-primary">
                    {move || if saving.is_busy() { "Saving…" } else { "Save changes" }}
                </button>
                <button type="button" class="button button-ghost" on:click=move |_| on_close.run(None)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
