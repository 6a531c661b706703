//! What every page shares: the API client, the session, the current user and the cart.

use leptos::prelude::*;
use shared::{Order, User};

use crate::api::{Api, ApiError};
use crate::config::Config;
use crate::session::Session;

/// The user behind the session: `Ok(None)` when logged out.
pub type UserResource = LocalResource<Result<Option<User>, ApiError>>;
/// The open order: `Ok(None)` when logged out or when there is no cart yet.
pub type CartResource = LocalResource<Result<Option<Order>, ApiError>>;

/// The app's shared state, provided once at the root and read with [`use_shop`].
#[derive(Clone, Copy)]
pub struct Shop {
    pub api: Api,
    pub session: Session,
    pub user: UserResource,
    pub cart: CartResource,
    /// The order just checked out, so the thank-you page needs no extra call.
    pub last_order: RwSignal<Option<Order>>,
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
        let cart = LocalResource::new(move || {
            let logged_in = session.token().is_some();
            async move {
                if logged_in {
                    api.cart().await
                } else {
                    Ok(None)
                }
            }
        });
        let shop = Shop {
            api,
            session,
            user,
            cart,
            last_order: RwSignal::new(None),
        };
        provide_context(shop);
        shop
    }

    /// The logged-in user once known (tracked).
    pub fn current_user(&self) -> Option<User> {
        self.user.get().and_then(Result::ok).flatten()
    }

    /// Whether the logged-in user may add products (tracked).
    pub fn is_admin(&self) -> bool {
        self.current_user().is_some_and(|u| u.is_admin)
    }

    /// Shows an order the orders service just returned, without asking again.
    pub fn set_cart(&self, order: Option<Order>) {
        self.cart.set(Some(Ok(order)));
    }
}

/// The shared state provided by [`Shop::provide`].
pub fn use_shop() -> Shop {
    expect_context::<Shop>()
}
