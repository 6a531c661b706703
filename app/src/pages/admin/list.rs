//! Every product for an admin, hidden ones included, a page at a time (the
//! products service pages, newest first, so a product just added is at the
//! top of the first page): one card each with what it costs, its stock,
//! whether shoppers see it, and the ways to change that. The URL holds the
//! page (`/admin?offset=20`), so Back and reload keep it.
//!
//! The cards are keyed by product id (`<For>`): reloading the page after a
//! product is added keeps every card already there, with its focus and what
//! is typed in it. Each card keeps its product in a signal and only the
//! facts that read it change when a change is saved, so the control that was
//! used keeps focus by itself; the card's live region says what happened.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{ListBody, Product, UpdateProductRequest};

use super::edit::EditForm;
use crate::a11y::{catch_lost_focus_for, focus_when_drawn};
use crate::api::{Api, ApiError};
use crate::components::{Busy, Loading, OutageNotice, Pager};
use crate::format::money;
use crate::state::use_shop;
use crate::stock::{admin_stock_text, parse_stock};

/// Products per page of the admin list.
pub const ADMIN_PAGE: i64 = 20;

/// How long after a page arrives a lost focus is caught: the pager's link
/// that had it is drawn again with the new page.
const PAGE_FOCUS_WATCH_MS: f64 = 1_000.0;

/// The admin page's URL for the page of the list starting at `offset`.
pub fn admin_url(offset: i64) -> String {
    if offset > 0 {
        format!("/admin?offset={offset}")
    } else {
        "/admin".to_string()
    }
}

/// One page of the list as loaded, with where it starts (the pager reads it
/// from the data, so it never runs ahead of the cards on a slow network).
#[derive(Debug, Clone)]
pub struct Page {
    body: ListBody<Product>,
    offset: i64,
}

/// The list as last loaded (`None` while the first answer is on its way) and
/// which load was asked for last. A plain signal rather than a resource: the
/// old page stays on screen while the next loads, lighter in the WASM, and
/// nothing here needs `Suspense`.
#[derive(Clone, Copy)]
pub struct ProductsList {
    shown: RwSignal<Option<Result<Page, ApiError>>>,
    /// Counts loads: only the answer to the last one asked is shown, so a
    /// quick Next, Next never ends on the page of the first.
    asked: StoredValue<u64>,
    loading: RwSignal<bool>,
}

impl ProductsList {
    pub fn new() -> Self {
        Self {
            shown: RwSignal::new(None),
            asked: StoredValue::new(0),
            loading: RwSignal::new(false),
        }
    }

    /// Loads (or reloads) the page starting at `offset`; the old one stays on
    /// screen meanwhile.
    pub fn load(self, offset: i64) {
        let api = use_shop().api;
        let Some(n) = self.asked.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        self.loading.set(true);
        leptos::task::spawn_local(async move {
            let answer = api
                .admin_products(ADMIN_PAGE, offset)
                .await
                .map(|body| Page { body, offset });
            if self.asked.try_get_value() != Some(n) {
                return;
            }
            self.shown.try_set(Some(answer));
            self.loading.try_set(false);
            catch_lost_focus_for(PAGE_FOCUS_WATCH_MS);
        });
    }
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
pub fn ProductList(list: ProductsList, offset: Memo<i64>) -> impl IntoView {
    let retry = Callback::new(move |_| list.load(offset.get_untracked()));
    let shown = Memo::new(move |_| match list.shown.get() {
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

/// Where a page is in the list: what the count and the pager say.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Place {
    offset: i64,
    shown: i64,
    total: i64,
}

#[component]
fn Cards(list: ProductsList) -> impl IntoView {
    let products = Memo::new(move |_| {
        list.shown.with(|l| match l {
            Some(Ok(page)) => page.body.results.clone(),
            _ => Vec::new(),
        })
    });
    let place = Memo::new(move |_| {
        list.shown.with(|l| match l {
            Some(Ok(page)) => Place {
                offset: page.offset,
                shown: page.body.results.len() as i64,
                total: page.body.total,
            },
            _ => Place {
                offset: 0,
                shown: 0,
                total: 0,
            },
        })
    });
    let count = move || {
        let total = place.get().total;
        match total {
            0 => "No products yet.".to_string(),
            1 => "1 product, hidden ones included.".to_string(),
            n => format!("{n} products, hidden ones included, newest first."),
        }
    };
    let past_the_end = move || {
        let p = place.get();
        (p.shown == 0 && p.offset > 0).then(|| {
            view! {
                <p class="empty" data-testid="admin-past-end">
                    "No products on this page. " <A href=admin_url(0)>"Go to the first page"</A>
                </p>
            }
        })
    };
    let pager = move || {
        let p = place.get();
        view! {
            <Pager offset=p.offset page_size=ADMIN_PAGE shown=p.shown total=p.total link=admin_url />
        }
    };
    view! {
        <p class="hint" data-testid="admin-count">{count}</p>
        <ul
            class="admin-products"
            class:stale=move || list.loading.get()
            aria-busy=move || list.loading.get().to_string()
            data-testid="admin-products"
        >
            <For
                each=move || products.get()
                key=|p| p.id
                children=|product| view! { <li><ProductCard product /></li> }
            />
        </ul>
        {past_the_end}
        {pager}
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
