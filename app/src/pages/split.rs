//! Each route's page, as the router is given it: the page itself, or with the
//! `split` feature a lazy route whose code a split build fetches the first time
//! the page opens (issue 25: the first load's WASM).
//!
//! Not yet the shipped build: `e2e/wasm-split.sh` builds this way (linked with
//! relocations, cut by `wasm-split-cli`, then wasm-bindgen) and prints what the
//! first load would fetch. The catalogue, the not-found page and the admin
//! stubs stay in the main module: the catalogue is the landing page, the
//! others are a few hundred bytes.
//!
//! Why not Leptos's `#[lazy_route]`: it panics when a page's code does not
//! arrive, and a panic stops the whole app. Here the split function is
//! `fallible`, so a failed fetch shows a notice with "Try again" and the rest of
//! the shop keeps working; the loader never caches a failure, so the next try
//! fetches again.

use leptos_router::ChooseView;

#[cfg(feature = "split")]
use leptos::prelude::*;

/// The page's code did not arrive (a split build, offline or a failed fetch).
#[cfg(feature = "split")]
#[derive(Debug)]
pub struct NotLoaded;

#[cfg(feature = "split")]
impl From<leptos::wasm_split::SplitLoaderError> for NotLoaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        NotLoaded
    }
}

/// What shows in a page's place when its code did not arrive.
#[cfg(feature = "split")]
fn not_loaded() -> AnyView {
    let retry = Callback::new(|()| {
        let _ = window().location().reload();
    });
    view! {
        <section>
            <h1 tabindex="-1">"This page did not load"</h1>
            <crate::components::OutageNotice
                text="Part of the shop could not be downloaded. Check your connection and try again.".to_string()
                retry
            />
        </section>
    }
    .into_any()
}

/// `pub fn $route() -> impl ChooseView`: the page as its route's view, and with
/// `split` a module of the same name holding its lazy route.
macro_rules! page_route {
    ($route:ident, $page:path) => {
        #[cfg(not(feature = "split"))]
        pub fn $route() -> impl ChooseView {
            $page
        }

        #[cfg(feature = "split")]
        pub fn $route() -> impl ChooseView {
            leptos_router::Lazy::<$route::Route>::new()
        }

        #[cfg(feature = "split")]
        mod $route {
            use super::*;

            #[leptos::wasm_split::wasm_split($route, wasm_split_path = ::leptos::wasm_split, fallible)]
            fn page() -> Result<AnyView, NotLoaded> {
                Ok($page().into_any())
            }

            #[derive(Debug)]
            pub struct Route;

            impl leptos_router::LazyRoute for Route {
                fn data() -> Self {
                    Route
                }

                async fn view(_: Self) -> AnyView {
                    page().await.unwrap_or_else(|NotLoaded| not_loaded())
                }
            }
        }
    };
}

page_route!(product, crate::pages::product::ProductPage);
page_route!(cart, crate::pages::cart::CartPage);
page_route!(thanks, crate::pages::thanks::ThanksPage);
page_route!(orders, crate::pages::orders::OrdersPage);
page_route!(order, crate::pages::order::OrderPage);
page_route!(login, crate::pages::login::LoginPage);
page_route!(register, crate::pages::register::RegisterPage);
page_route!(account, crate::pages::account::AccountPage);
page_route!(info, crate::pages::info::InfoRoute);
