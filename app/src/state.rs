//! What every page shares: the API client, the session, the current user and the cart.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::{Order, Product, User};

use crate::api::{Api, ApiError};
use crate::config::Config;
use crate::session::Session;

/// The user behind the session: `Ok(None)` when logged out.
pub type UserResource = LocalResource<Result<Option<User>, ApiError>>;
/// The open order: `Ok(None)` when logged out or when there is no cart yet.
pub type CartResource = LocalResource<Result<Option<Order>, ApiError>>;

/// The products a page's cart or order lines show, by id (thumbnails, links,
/// prices now, stock); fetched by id (`?ids=`, v1.3) for the page that asks
/// with [`Shop::want_products`], empty until one does.
pub type ProductIndex = LocalResource<Result<HashMap<i64, Product>, ApiError>>;

/// The app's shared state, provided once at the root and read with [`use_shop`].
#[derive(Clone, Copy)]
pub struct Shop {
    pub api: Api,
    pub session: Session,
    pub user: UserResource,
    pub cart: CartResource,
    /// The session (its token) the cart's value was asked with: `None` until
    /// the first answer. See [`Shop::cart_now`].
    cart_asked_with: RwSignal<Option<Option<String>>>,
    /// The order just checked out, so the thank-you page needs no extra call.
    pub last_order: RwSignal<Option<Order>>,
    /// The last add, while its toast shows (see [`crate::toast`]).
    pub toast: RwSignal<Option<crate::toast::Toast>>,
    pub products: ProductIndex,
    /// The ids the product index holds: sorted, without repeats.
    products_wanted: RwSignal<Vec<i64>>,
}

impl Shop {
    /// Builds the shared state; the user and the cart reload whenever the token changes.
    pub fn provide(config: &'static Config) -> Shop {
        let session = Session::restore();
        let api = Api::new(config, session);
        let user = LocalResource::new(move || {
            let logged_in = session.token().is_some();
            async move {
                if logged_in {
                    api.me().await.map(Some)
                } else {
                    Ok(None)
                }
            }
        });
        let cart_asked_with = RwSignal::new(None);
        let cart = LocalResource::new(move || {
            let token = session.token();
            async move {
                let answer = if token.is_some() {
                    api.cart().await
                } else {
                    Ok(None)
                };
                // An answer for a session that has since ended or changed is
                // not the current one's.
                if session.token_untracked() == token {
                    cart_asked_with.set(Some(token));
                }
                answer
            }
        });
        let products_wanted = RwSignal::new(Vec::new());
        let products = LocalResource::new(move || {
            let wanted = products_wanted.get();
            async move {
                if wanted.is_empty() {
                    return Ok(HashMap::new());
                }
                let list = api.products_by_ids(&wanted).await?;
                Ok(list.into_iter().map(|p| (p.id, p)).collect())
            }
        });
        let shop = Shop {
            api,
            session,
            user,
            cart,
            cart_asked_with,
            last_order: RwSignal::new(None),
            toast: RwSignal::new(None),
            products,
            products_wanted,
        };
        provide_context(shop);
        shop
    }

    /// The cart as this session sees it (tracked): `None` while it is asked,
    /// including just after a login, when the value held is still the
    /// logged-out one (no cart) and a badge would read 0 or the cart page
    /// "empty" before the shopper's own cart arrives.
    pub fn cart_now(&self) -> Option<Result<Option<Order>, ApiError>> {
        let value = self.cart.get()?;
        let current = self.session.token();
        self.cart_asked_with
            .with(|asked| asked.as_ref() == Some(&current))
            .then_some(value)
    }

    /// The logged-in user once known (tracked).
    pub fn current_user(&self) -> Option<User> {
        self.user.get().and_then(Result::ok).flatten()
    }

    /// Whether the logged-in user may add products (tracked).
    pub fn is_admin(&self) -> bool {
        self.current_user().is_some_and(|u| u.is_admin)
    }

    /// Loads the products of a page's lines into the index: exactly the ids
    /// `ids` gives (tracked: read again when its lines change), fetched again
    /// when they change and once each time such a page opens, since stock and
    /// prices change (a cancelled order puts its units back) and a page must not
    /// show what they were when the shopper first looked.
    pub fn want_products(&self, ids: Signal<Vec<i64>>) {
        let wanted = self.products_wanted;
        let products = self.products;
        // Whether the index was fetched since this page opened.
        let fresh = StoredValue::new(false);
        Effect::new(move |_| {
            let mut ids = ids.get();
            // No lines (yet): nothing to show, and what the index holds may
            // serve the lines once they load.
            if ids.is_empty() {
                return;
            }
            ids.sort_unstable();
            ids.dedup();
            if wanted.with_untracked(|w| *w != ids) {
                wanted.set(ids);
            } else if !fresh.get_value() {
                products.refetch();
            }
            fresh.set_value(true);
        });
    }

    /// The product of a line, once the index is loaded (tracked).
    pub fn product(&self, id: i64) -> Option<Product> {
        self.products
            .get()
            .and_then(Result::ok)
            .and_then(|m| m.get(&id).cloned())
    }

    /// The catalogue's price of a product now, once the index is loaded
    /// (tracked): what checkout charges for its line (contract v1.3).
    pub fn price_now(&self, id: i64) -> Option<i64> {
        self.products.with(|r| {
            r.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|m| m.get(&id))
                .map(|p| p.price)
        })
    }

    /// How many of a product the cart holds (tracked); 0 while unknown.
    pub fn in_cart(&self, id: i64) -> i64 {
        self.cart.with(|c| match c {
            Some(Ok(Some(order))) => order
                .items
                .iter()
                .find(|i| i.product == id)
                .map_or(0, |i| i.quantity),
            _ => 0,
        })
    }

    /// Shows an order the orders service just returned, without asking again.
    pub fn set_cart(&self, order: Option<Order>) {
        self.cart.set(Some(Ok(order)));
        self.cart_asked_with
            .set(Some(self.session.token_untracked()));
    }
}

/// The products an order's lines name, for [`Shop::want_products`].
pub fn line_ids<'a>(orders: impl IntoIterator<Item = &'a Order>) -> Vec<i64> {
    orders
        .into_iter()
        .flat_map(|o| o.items.iter().map(|i| i.product))
        .collect()
}

/// The products of one order's lines once it is loaded (the cart, an order's
/// page), for [`Shop::want_products`].
pub fn lines_of(order: CartResource) -> Signal<Vec<i64>> {
    Signal::derive(move || {
        order.with(|r| match r {
            Some(Ok(Some(order))) => line_ids([order]),
            _ => Vec::new(),
        })
    })
}

/// The shared state provided by [`Shop::provide`].
pub fn use_shop() -> Shop {
    expect_context::<Shop>()
}
