//! The cart: change quantities, remove lines, check out.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::{Item, Order};

use crate::api::ApiError;
use crate::components::{Loading, Notice, Tone};
use crate::format::money;
use crate::state::use_shop;

#[component]
pub fn CartPage() -> impl IntoView {
    let shop = use_shop();
    view! {
        <section class="cart-page">
            <h1>"Your cart"</h1>
            <Show
                when=move || shop.session.is_logged_in()
                fallback=|| {
                    view! {
                        <Notice tone=Tone::Info>
                            <A href="/login">"Log in"</A>
                            " to see your cart."
                        </Notice>
                    }
                }
            >
                <Transition fallback=|| view! { <Loading label="Loading your cart…" /> }>
                    {move || {
                        shop.cart
                            .get()
                            .map(|r| match r {
                                Ok(Some(order)) if !order.items.is_empty() => {
                                    view! { <CartContents order /> }.into_any()
                                }
                                Ok(_) => view! { <EmptyCart /> }.into_any(),
                                Err(e) => {
                                    view! {
                                        <div data-testid="cart-unavailable-notice">
                                            <Notice tone=Tone::Warning>{e.to_string()}</Notice>
                                        </div>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
            </Show>
        </section>
    }
}

#[component]
fn EmptyCart() -> impl IntoView {
    view! {
        <p class="empty" data-testid="cart-empty">
            "Your cart is empty. " <A href="/">"Browse the catalogue"</A>
        </p>
    }
}

/// The lines, the total and the checkout button.
#[component]
fn CartContents(order: Order) -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    // The last failure of a change or the checkout, shown above the table.
    let problem = RwSignal::new(None::<ApiError>);
    let update = Action::new_local(move |&(product_id, qty): &(i64, i64)| async move {
        match shop.api.update_item(product_id, qty).await {
            Ok(order) => {
                problem.set(None);
                shop.set_cart(Some(order));
            }
            Err(e) => problem.set(Some(e)),
        }
    });
    let checkout = Action::new_local(move |_: &()| {
        let navigate = navigate.clone();
        async move {
            match shop.api.checkout().await {
                Ok(order) => {
                    let id = order.id;
                    shop.last_order.set(Some(order));
                    shop.set_cart(None);
                    navigate(&format!("/thank-you/{id}"), Default::default());
                }
                Err(e) => problem.set(Some(e)),
            }
        }
    });
    let busy = move || update.pending().get() || checkout.pending().get();
    let total = order.total;
    let count = order.item_count();
    view! {
        {move || problem.get().map(|e| view! { <Notice tone=Tone::Warning>{e.to_string()}</Notice> })}
        <div class="table-wrap">
            <table class="cart-table" data-testid="cart-table">
                <caption class="visually-hidden">"Items in your cart"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Product"</th>
                        <th scope="col" class="num">"Price"</th>
                        <th scope="col">"Quantity"</th>
                        <th scope="col" class="num">"Total"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {order
                        .items
                        .into_iter()
                        .map(|item| {
                            view! {
                                <CartLine
                                    item
                                    on_change=move |product_id, qty| {
                                        update.dispatch((product_id, qty));
                                    }
                                />
                            }
                        })
                        .collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="3">{format!("Total ({count} items)")}</th>
                        <td class="num total" data-testid="cart-total">{money(total)}</td>
                        <td></td>
                    </tr>
                </tfoot>
            </table>
        </div>
        <div class="cart-actions">
            <A href="/" attr:class="button button-ghost">"Keep shopping"</A>
            <button
                type="button"
                class="button button-primary"
                disabled=busy
                on:click=move |_| {
                    checkout.dispatch(());
                }
            >
                {move || if checkout.pending().get() { "Checking out…" } else { "Check out" }}
            </button>
        </div>
    }
}

/// One line; a quantity change is sent on change (blur, Enter) or with the Update button.
#[component]
fn CartLine(item: Item, on_change: impl Fn(i64, i64) + Copy + 'static) -> impl IntoView {
    let product_id = item.product;
    let current = item.quantity;
    let qty = RwSignal::new(current.to_string());
    let invalid = RwSignal::new(false);
    let input_id = format!("qty-{product_id}");
    let error_id = format!("qty-{product_id}-error");
    let submit = move || match qty.get_untracked().trim().parse::<i64>() {
        Ok(n) if (0..=99).contains(&n) => {
            invalid.set(false);
            if n != current {
                on_change(product_id, n);
            }
        }
        _ => invalid.set(true),
    };
    view! {
        <tr data-testid="cart-line" data-product=product_id.to_string()>
            <td class="line-name">{item.name.clone()}</td>
            <td class="num line-unit">{money(item.unit_price)}</td>
            <td class="line-qty">
                <form
                    class="qty-form"
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                >
                    <label for=input_id.clone() class="visually-hidden">
                        {format!("Quantity of {}", item.name)}
                    </label>
                    <input
                        id=input_id
                        class="qty-input"
                        type="number"
                        min="0"
                        max="99"
                        inputmode="numeric"
                        aria-invalid=move || if invalid.get() { "true" } else { "false" }
                        aria-describedby=error_id.clone()
                        bind:value=qty
                        on:change=move |_| submit()
                    />
                    <button type="submit" class="button button-small button-ghost">"Update"</button>
                    <p class="field-error" id=error_id aria-live="polite">
                        {move || invalid.get().then_some("0 to 99")}
                    </p>
                </form>
            </td>
            <td class="num line-total">{money(item.line_total)}</td>
            <td class="line-remove">
                <button
                    type="button"
                    class="button button-small button-danger"
                    aria-label=format!("Remove {}", item.name)
                    on:click=move |_| on_change(product_id, 0)
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}
