//! A product as typed in an admin form: the fields shared by "add a product" and
//! "edit", their checks in the units people type (dollars, a count or nothing),
//! and where the service's refusals are shown. Written once, used by both forms.

use leptos::prelude::*;
use shared::{CreateProductRequest, Product, UpdateProductRequest};

use crate::a11y::focus_first_invalid_in;
use crate::api::ApiError;
use crate::components::{refusal_fields, Field, FieldErrors};
use crate::format::parse_money;
use crate::stock::parse_stock;

/// The fields in the order they are shown (focus goes to the first bad one).
const FIELD_ORDER: [&str; 6] = ["name", "price", "slug", "stock", "image", "description"];

/// What the service refused, placed beside the fields. A taken slug made from
/// the name (no slug typed) means the name is taken: say so on the name.
pub fn place_error(e: &ApiError, slug_typed: bool) -> FieldErrors {
    refusal_fields(e, |code| match code {
        "slug_taken" if slug_typed => Some((
            "slug",
            "Another product has this slug. Choose another.".into(),
        )),
        "slug_taken" | "name_taken" => Some((
            "name",
            "Another product has this name. Choose another.".into(),
        )),
        _ => None,
    })
}

/// Whether a refusal is fully shown beside the fields (no notice needed).
pub fn shown_on_fields(e: &ApiError) -> bool {
    !e.fields().is_empty() || matches!(e.code(), Some("slug_taken" | "name_taken"))
}

/// Cents as typed in a price field: `1234` is `12.34` (no `$`, no commas).
fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The form's values, checked: what a request is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub name: String,
    pub price: i64,
    pub slug: Option<String>,
    pub stock: Option<i64>,
    pub image: Option<String>,
    pub description: Option<String>,
}

impl Checked {
    pub fn create_request(self) -> CreateProductRequest {
        CreateProductRequest {
            name: self.name,
            price: Some(self.price),
            slug: self.slug,
            image: self.image,
            description: self.description,
            stock: self.stock,
        }
    }

    /// Only what differs from `before`: an unchanged field is not sent, so an
    /// edit never trips over a rule for a field nobody touched.
    pub fn update_request(self, before: &Product) -> UpdateProductRequest {
        let changed = |new: Option<String>, old: &str| {
            let new = new.unwrap_or_default();
            (new != old.trim()).then_some(new)
        };
        UpdateProductRequest {
            name: (self.name != before.name).then_some(self.name),
            slug: None,
            price: (self.price != before.price).then_some(self.price),
            image: changed(self.image, &before.image),
            description: changed(self.description, &before.description),
            stock: (self.stock != before.stock).then_some(self.stock),
            hidden: None,
        }
    }
}

/// The signals of one product form.
#[derive(Clone, Copy)]
pub struct Draft {
    pub name: RwSignal<String>,
    pub price: RwSignal<String>,
    pub slug: RwSignal<String>,
    pub stock: RwSignal<String>,
    pub image: RwSignal<String>,
    pub description: RwSignal<String>,
    pub errors: RwSignal<FieldErrors>,
}

impl Draft {
    /// An empty form (a new product).
    pub fn empty() -> Self {
        Self {
            name: RwSignal::new(String::new()),
            price: RwSignal::new(String::new()),
            slug: RwSignal::new(String::new()),
            stock: RwSignal::new(String::new()),
            image: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            errors: RwSignal::new(FieldErrors::new()),
        }
    }

    /// A form holding the product as it is.
    pub fn of(p: &Product) -> Self {
        let d = Self::empty();
        d.name.set(p.name.clone());
        d.price.set(dollars(p.price));
        d.slug.set(p.slug.clone());
        d.stock
            .set(p.stock.map(|n| n.to_string()).unwrap_or_default());
        d.image.set(p.image.clone());
        d.description.set(p.description.clone());
        d
    }

    pub fn clear(&self) {
        for field in [
            self.name,
            self.price,
            self.slug,
            self.stock,
            self.image,
            self.description,
        ] {
            field.set(String::new());
        }
        self.errors.set(FieldErrors::new());
    }

    /// Checks what can be checked here, in the units typed; problems go beside
    /// their fields and focus to the first (ids start with `prefix`).
    pub fn check(&self, prefix: &str) -> Option<Checked> {
        let typed_price = self.price.get_untracked();
        let price = parse_money(&typed_price);
        let stock = parse_stock(&self.stock.get_untracked());
        let name = self.name.get_untracked().trim().to_string();
        let mut local = FieldErrors::new();
        if name.is_empty() {
            local.insert("name".into(), "Name is required.".into());
        }
        if typed_price.trim().is_empty() {
            local.insert(
                "price".into(),
                "Price is required: enter it in dollars, for example 12.50.".into(),
            );
        } else if price.is_none() {
            local.insert(
                "price".into(),
                "Enter the price in dollars, for example 12.50.".into(),
            );
        }
        if let Err(problem) = &stock {
            local.insert("stock".into(), problem.clone());
        }
        if !local.is_empty() {
            self.show_errors(prefix, local);
            return None;
        }
        self.errors.set(FieldErrors::new());
        Some(Checked {
            name,
            price: price.unwrap_or_default(),
            slug: optional(&self.slug.get_untracked()),
            stock: stock.unwrap_or_default(),
            image: optional(&self.image.get_untracked()),
            description: optional(&self.description.get_untracked()),
        })
    }

    /// The service refused: its field problems beside the fields.
    pub fn refused(&self, prefix: &str, e: &ApiError, slug_typed: bool) {
        self.show_errors(prefix, place_error(e, slug_typed));
    }

    fn show_errors(&self, prefix: &str, errors: FieldErrors) {
        focus_first_invalid_in(prefix, &FIELD_ORDER, &errors);
        self.errors.set(errors);
    }
}

/// The fields of a product form. `with_slug`: the new-product form offers one
/// (an edit leaves the slug alone: changing it would break links to the product).
#[component]
pub fn DraftFields(draft: Draft, prefix: String, with_slug: bool) -> impl IntoView {
    let errors = draft.errors;
    view! {
        <Field label="Name" name="name" prefix=prefix.clone() value=draft.name errors required=true />
        <Field
            label="Price"
            name="price"
            prefix=prefix.clone()
            value=draft.price
            errors
            required=true
            inputmode="decimal"
            hint="In dollars, for example 12.50."
        />
        {with_slug.then(|| view! {
            <Field
                label="Slug"
                name="slug"
                prefix=prefix.clone()
                value=draft.slug
                errors
                hint="Optional: made from the name when empty."
            />
        })}
        <Field
            label="Stock"
            name="stock"
            prefix=prefix.clone()
            value=draft.stock
            errors
            inputmode="numeric"
            hint="Units to sell. Empty: not tracked (never runs out)."
        />
        <Field label="Image URL" name="image" prefix=prefix.clone() kind="url" value=draft.image errors />
        <Field label="Description" name="description" prefix kind="textarea" value=draft.description errors />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lamp() -> Product {
        Product {
            id: 7,
            name: "Lamp".into(),
            slug: "lamp".into(),
            price: 1250,
            image: "http://x/images/lamp.svg".into(),
            description: "Bright.".into(),
            stock: Some(3),
            hidden: false,
        }
    }

    fn checked(p: &Product) -> Checked {
        Checked {
            name: p.name.clone(),
            price: p.price,
            slug: Some(p.slug.clone()),
            stock: p.stock,
            image: Some(p.image.clone()),
            description: Some(p.description.clone()),
        }
    }

    #[test]
    fn an_edit_sends_only_what_changed() {
        let p = lamp();
        assert_eq!(
            checked(&p).update_request(&p),
            UpdateProductRequest::default()
        );
        let mut c = checked(&p);
        c.price = 999;
        c.stock = None;
        let req = c.update_request(&p);
        assert_eq!(req.price, Some(999));
        assert_eq!(req.stock, Some(None), "emptied stock stops tracking");
        assert_eq!(req.name, None);
        let mut c = checked(&p);
        c.description = None;
        assert_eq!(c.update_request(&p).description, Some(String::new()));
    }

    #[test]
    fn prices_are_shown_as_typed_dollars() {
        assert_eq!(dollars(1250), "12.50");
        assert_eq!(dollars(5), "0.05");
        assert_eq!(parse_money(&dollars(123456)), Some(123456));
    }
}
