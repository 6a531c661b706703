//! Every product for an admin, hidden ones included, one card each: what it
//! costs, its stock, whether shoppers see it, and the ways to change that.
//!
//! The cards are keyed by product id (`<For>`): reloading the list after a
//! product is added keeps every card already there, with its focus and what
//! is typed in it. Each card keeps its product in a signal and only the
//! facts that read it change when a change is saved, so the control that was
//! used keeps focus by itself; the card's live region says what happened.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{ListBody, Product, UpdateProductRequest};

use super::edit::EditForm;
use crate::a11y::focus_when_drawn;
use crate::api::{Api, ApiError};
use crate::components::{Busy, Loading, OutageNotice};
use crate::format::money;
use crate::state::use_shop;
use crate::stock::{admin_stock_text, parse_stock};

/// The list as last loaded: `None` while the first answer is on its way.
pub type ProductsList = RwSignal<Option<Result<ListBody<Product>, ApiError>>>;

/// Loads (or reloads) the list; the old one stays on screen meanwhile. A plain
/// signal rather than a resource: lighter in the WASM, and nothing here needs
/// `Suspense`.
pub fn load(list: ProductsList) {
    let api = use_shop().api;
    leptos::task::spawn_local(async move {
        let answer = api.admin_products().await;
        list.try_set(Some(answer));
    });
}

/// What the list shows; the cards are drawn once while it stays `Ready`, and
/// a reload only adds, moves or drops cards.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Loading,
    Ready,
    Down(String),
}

#[component]
pub fn ProductList(list: ProductsList) -> impl IntoView {
    let retry = Callback::new(move |_| load(list));
    let shown = Memo::new(move |_| match list.get() {
        None => Shown::Loading,
        Some(Ok(_)) => Shown::Ready,
        Some(Err(e)) => Shown::Down(e.to_string()),
    });
    move || match shown.get() {
        Shown::Loading => view! { <Loading label="Loading the products…" /> }.into_any(),
        Shown::Ready => view! { <Cards list /> }.into_any(),
        Shown::Down(text) => view! { <OutageNotice text retry /> }.into_any(),
    }
}

#[component]
fn Cards(list: ProductsList) -> impl IntoView {
    let body = Memo::new(move |_| {
        list.with(|l| match l {
            Some(Ok(body)) => body.clone(),
            _ => ListBody {
                results: Vec::new(),
                total: 0,
            },
        })
    });
    let count = move || {
        body.with(|body| {
            let shown = body.results.len() as i64;
            if shown < body.total {
                format!(
                    "The first {shown} of {} products, hidden ones included.",
                    body.total
                )
            } else {
                format!("{shown} products, hidden ones included.")
            }
        })
    };
    view! {
        <p class="hint">{count}</p>
        <ul class="admin-products" data-testid="admin-products">
            <For
                each=move || body.with(|b| b.results.clone())
                key=|p| p.id
                children=|product| view! { <li><ProductCard product /></li> }
            />
        </ul>
    }
}

/// What the card's live region says: a confirmation or a refusal.
#[derive(Debug, Clone, PartialEq)]
enum RowStatus {
    Done(String),
    Failed(String),
}

/// `PATCH`es the product; on success the card shows it as saved.
async fn save(
    api: Api,
    product: RwSignal<Product>,
    req: UpdateProductRequest,
) -> Result<Product, ApiError> {
    let id = product.with_untracked(|p| p.id);
    let saved = api.update_product(id, &req).await?;
    product.try_set(saved.clone());
    Ok(saved)
}

/// One card's state. The facts and labels that a change can touch read the
/// product signal; the controls themselves stay, and keep focus.
#[derive(Clone, Copy)]
struct Card {
    api: Api,
    product: RwSignal<Product>,
    editing: RwSignal<bool>,
    status: RwSignal<Option<RowStatus>>,
    /// The restock field: kept here, so a redraw keeps what is typed.
    typed: RwSignal<String>,
    invalid: RwSignal<Option<String>>,
    busy: Busy,
}

impl Card {
    fn id(&self) -> i64 {
        self.product.with_untracked(|p| p.id)
    }

    /// Hide or show, then focus back on the button (it was redrawn).
    fn toggle_hidden(self) {
        let req = UpdateProductRequest {
            hidden: Some(!self.product.with_untracked(|p| p.hidden)),
            ..Default::default()
        };
        self.busy.run(async move {
            let result = save(self.api, self.product, req).await;
            self.status.try_set(Some(match result {
                Ok(p) if p.hidden => RowStatus::Done(format!(
                    "“{}” is hidden: shoppers no longer see it.",
                    p.name
                )),
                Ok(p) => RowStatus::Done(format!("“{}” is on sale again.", p.name)),
                Err(e) => RowStatus::Failed(not_changed(&self.product, &e)),
            }));
        });
    }

    /// Sets the stock to what was typed (a count is required here: "not
    /// tracked" is for the edit form).
    fn restock(self) {
        let units = match parse_stock(&self.typed.get_untracked()) {
            Ok(Some(units)) => units,
            Ok(None) => {
                self.invalid.set(Some(
                    "Enter how many are in stock, from 0 to 1,000,000.".to_string(),
                ));
                return;
            }
            Err(problem) => {
                self.invalid.set(Some(problem));
                return;
            }
        };
        self.invalid.set(None);
        let req = UpdateProductRequest {
            stock: Some(Some(units)),
            ..Default::default()
        };
        self.busy.run(async move {
            match save(self.api, self.product, req).await {
                Ok(p) => {
                    self.typed.try_set(String::new());
                    self.status.try_set(Some(RowStatus::Done(format!(
                        "Stock of “{}” set to {units}.",
                        p.name
                    ))));
                }
                Err(e) => match e.fields().get("stock") {
                    Some(problem) => {
                        self.invalid
                            .try_set(Some(crate::format::field_problem("Stock", problem)));
                    }
                    None => {
                        self.status
                            .try_set(Some(RowStatus::Failed(not_changed(&self.product, &e))));
                    }
                },
            }
        });
    }
}

#[component]
fn ProductCard(product: Product) -> impl IntoView {
    let id = product.id;
    let card = Card {
        api: use_shop().api,
        product: RwSignal::new(product),
        editing: RwSignal::new(false),
        status: RwSignal::new(None),
        typed: RwSignal::new(String::new()),
        invalid: RwSignal::new(None),
        busy: Busy::new(),
    };
    let form_id = format!("edit-{id}-form");
    let close_edit = Callback::new(move |done: Option<String>| {
        card.editing.set(false);
        if let Some(text) = done {
            card.status.set(Some(RowStatus::Done(text)));
        }
        // The form held focus and is gone: back to the button that opened it.
        focus_when_drawn(format!("edit-{id}"));
    });
    view! {
        <article
            class="card admin-product"
            aria-labelledby=format!("product-{id}-name")
            data-testid="admin-product"
            data-product=id.to_string()
        >
            <CardBody card />
            {move || card.editing.get().then(|| view! {
                <EditForm product=card.product form_id=form_id.clone() on_close=close_edit />
            })}
            <p role="status" class="row-status" data-testid="admin-row-status">
                {move || card.status.get().map(|s| {
                    let (class, text) = match s {
                        RowStatus::Done(t) => ("done", t),
                        RowStatus::Failed(t) => ("failed", t),
                    };
                    view! { <span class=class>{text}</span> }
                })}
            </p>
        </article>
    }
}

/// The product's name, facts and buttons, following the product as it changes.
#[component]
fn CardBody(card: Card) -> impl IntoView {
    let p = card.product;
    let id = card.id();
    let name = move || p.with(|p| p.name.clone());
    let hidden = move || p.with(|p| p.hidden);
    // A hidden product's page is a 404: no link to it.
    let title = move || {
        p.with(|p| {
            if p.hidden {
                p.name.clone().into_any()
            } else {
                let (href, text) = (format!("/product/{}", p.slug), p.name.clone());
                view! { <A href=href>{text}</A> }.into_any()
            }
        })
    };
    let input_id = format!("restock-{id}");
    let error_id = format!("restock-{id}-error");
    view! {
        <div class="admin-product-head">
            <h3 id=format!("product-{id}-name") class="admin-product-name">{title}</h3>
            {move || hidden().then(|| view! { <span class="tag tag-hidden">"Hidden"</span> })}
        </div>
        <dl class="admin-facts">
            <div>
                <dt>"Price"</dt>
                <dd data-testid="admin-price">{move || money(p.with(|p| p.price))}</dd>
            </div>
            <div>
                <dt>"Stock"</dt>
                <dd data-testid="admin-stock">{move || admin_stock_text(p.with(|p| p.stock))}</dd>
            </div>
            <div>
                <dt>"Shoppers"</dt>
                <dd data-testid="admin-visibility">{move || if hidden() { "hidden" } else { "on sale" }}</dd>
            </div>
        </dl>
        <div class="admin-actions">
            <button
                type="button"
                id=format!("edit-{id}")
                class="button button-small"
                aria-expanded=move || card.editing.get().to_string()
                aria-controls=format!("edit-{id}-form")
                on:click=move |_| card.editing.update(|e| *e = !*e)
            >
                "Edit"
                <span class="visually-hidden">{move || format!(" {}", name())}</span>
            </button>
            <button
                type="button"
                id=format!("toggle-{id}")
                class="button button-small button-ghost"
                data-testid="toggle-hidden"
                aria-disabled=move || card.busy.is_busy().to_string()
                on:click=move |_| card.toggle_hidden()
            >
                {move || if hidden() { "Show in shop" } else { "Hide from shop" }}
                <span class="visually-hidden">{move || format!(": {}", name())}</span>
            </button>
            <form
                class="restock"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    card.restock();
                }
            >
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
                    aria-invalid=move || card.invalid.with(Option::is_some).to_string()
                    aria-describedby=error_id.clone()
                    bind:value=card.typed
                />
                <button type="submit" class="button button-small">
                    "Set"
                    <span class="visually-hidden">{move || format!(" stock of {}", name())}</span>
                </button>
                <p class="field-error" id=error_id>{move || card.invalid.get()}</p>
            </form>
        </div>
    }
}

/// A refusal, in the card's words.
fn not_changed(product: &RwSignal<Product>, e: &ApiError) -> String {
    let name = product.with_untracked(|p| p.name.clone());
    format!("“{name}” was not changed: {e}")
}
