//! Where the order goes (contract v1.3, optional): a box to tick, then the
//! address, checked with the same rules the orders service applies
//! ([`ShippingAddress::validated`]) before it is sent as the checkout's body.
//! Each problem is shown beside its field and focus goes to the first one.
//! An address that was sent is kept in `localStorage`, so the next checkout
//! starts with it.

use leptos::prelude::*;
use shared::order::ShippingAddress;

use crate::a11y::focus_first_invalid_in;
use crate::api::ApiError;
use crate::components::{Field, FieldErrors};

const STORAGE_KEY: &str = "cartwheel.address";
/// The fields' ids start with this (`ship-city`).
const PREFIX: &str = "ship";
/// The fields in the order they are shown (focus goes to the first bad one).
const ORDER: [&str; 6] = ["name", "line1", "line2", "city", "postal_code", "country"];

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The service's (or [`ShippingAddress::validated`]'s) field names,
/// `shipping_address.city`, as this form's (`city`), with sentences for people.
fn placed(problems: impl IntoIterator<Item = (String, String)>) -> FieldErrors {
    problems
        .into_iter()
        .filter_map(|(field, problem)| {
            let name = field.strip_prefix("shipping_address.")?.to_string();
            let text = crate::format::field_problem(label(&name), &problem);
            Some((name, text))
        })
        .collect()
}

fn label(name: &str) -> &'static str {
    match name {
        "name" => "Full name",
        "line1" => "Address line 1",
        "line2" => "Address line 2",
        "city" => "City",
        "postal_code" => "Postal code",
        _ => "Country code",
    }
}

/// The form's state; it lives above the cart's contents, so a change of the
/// cart keeps what is typed.
#[derive(Clone, Copy)]
pub struct Address {
    pub wanted: RwSignal<bool>,
    name: RwSignal<String>,
    line1: RwSignal<String>,
    line2: RwSignal<String>,
    city: RwSignal<String>,
    postal_code: RwSignal<String>,
    country: RwSignal<String>,
    errors: RwSignal<FieldErrors>,
}

impl Address {
    /// The form, holding the address kept from the last checkout, if any.
    pub fn restore() -> Self {
        let kept: Option<ShippingAddress> = storage()
            .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|json| serde_json::from_str(&json).ok());
        let a = kept.clone().unwrap_or_default();
        Self {
            wanted: RwSignal::new(kept.is_some()),
            name: RwSignal::new(a.name),
            line1: RwSignal::new(a.line1),
            line2: RwSignal::new(a.line2.unwrap_or_default()),
            city: RwSignal::new(a.city),
            postal_code: RwSignal::new(a.postal_code),
            country: RwSignal::new(a.country),
            errors: RwSignal::new(FieldErrors::new()),
        }
    }

    fn typed(&self) -> ShippingAddress {
        let line2 = self.line2.get_untracked();
        ShippingAddress {
            name: self.name.get_untracked(),
            line1: self.line1.get_untracked(),
            line2: (!line2.trim().is_empty()).then_some(line2),
            city: self.city.get_untracked(),
            postal_code: self.postal_code.get_untracked(),
            country: self.country.get_untracked(),
        }
    }

    /// What to send: `Ok(None)` when no address is wanted, `Ok(Some)` a valid
    /// one, `Err(())` when it has problems (shown beside the fields, focus on
    /// the first).
    pub fn for_checkout(&self) -> Result<Option<ShippingAddress>, ()> {
        if !self.wanted.get_untracked() {
            return Ok(None);
        }
        match self.typed().validated() {
            Ok(address) => {
                self.errors.set(FieldErrors::new());
                Ok(Some(address))
            }
            Err(problems) => {
                self.show(placed(problems));
                Err(())
            }
        }
    }

    /// The service refused fields of the address (422): beside them. Answers
    /// whether anything was placed.
    pub fn refused(&self, e: &ApiError) -> bool {
        let errors = placed(e.fields());
        let any = !errors.is_empty();
        if any {
            self.show(errors);
        }
        any
    }

    fn show(&self, errors: FieldErrors) {
        focus_first_invalid_in(PREFIX, &ORDER, &errors);
        self.errors.set(errors);
    }

    /// The address went with an order: keep it for next time.
    pub fn remember(&self, address: &ShippingAddress) {
        if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(address)) {
            // A browser that refuses storage just asks again next time.
            let _ = s.set_item(STORAGE_KEY, &json);
        }
    }
}

/// The box and, when ticked, the fields.
#[component]
pub fn AddressForm(address: Address) -> impl IntoView {
    let errors = address.errors;
    view! {
        <div class="address-form" data-testid="address-form">
            <label class="check" for="ship-wanted">
                <input
                    type="checkbox"
                    id="ship-wanted"
                    prop:checked=move || address.wanted.get()
                    on:change=move |ev| address.wanted.set(event_target_checked(&ev))
                />
                "Ship to an address (optional)"
            </label>
            <Show when=move || address.wanted.get()>
                <fieldset class="address-fields">
                    <legend>"Shipping address"</legend>
                    <Field label="Full name" name="name" prefix=PREFIX value=address.name errors autocomplete="name" required=true />
                    <Field label="Address line 1" name="line1" prefix=PREFIX value=address.line1 errors autocomplete="address-line1" required=true />
                    <Field label="Address line 2 (optional)" name="line2" prefix=PREFIX value=address.line2 errors autocomplete="address-line2" />
                    <Field label="City" name="city" prefix=PREFIX value=address.city errors autocomplete="address-level2" required=true />
                    <Field label="Postal code" name="postal_code" prefix=PREFIX value=address.postal_code errors autocomplete="postal-code" required=true />
                    <Field
                        label="Country code"
                        name="country"
                        prefix=PREFIX
                        value=address.country
                        errors
                        autocomplete="country"
                        required=true
                        hint="Two letters, such as US or DE."
                    />
                </fieldset>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_land_on_this_forms_fields_as_sentences() {
        let errors = placed([
            (
                "shipping_address.city".to_string(),
                "is required".to_string(),
            ),
            ("qty".to_string(), "ignored".to_string()),
        ]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors["city"], "City is required.");
    }
}
