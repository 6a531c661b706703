//! The root component and every route of the SPA, declared in one place.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

use crate::a11y::{RouteChanges, SkipLink};
use crate::links::{login_href, path_and_query};

use crate::config::Config;
use crate::header::Header;
use crate::pages::{
    admin::{AdminPage, DeskOrderPage, OrderDeskPage},
    catalogue::CataloguePage,
    info::FOOTER,
    not_found::NotFoundPage,
    split,
};
use crate::state::{use_shop, Shop};

/// The shop: header, the page for the URL, footer.
#[component]
pub fn App(config: &'static Config) -> impl IntoView {
    Shop::provide(config);
    view! {
        <Router>
            <RouteChanges />
            <SessionWatcher />
            <crate::recovery::CartRecovery />
            <SkipLink />
            <Header />
            <main id="main" class="container" tabindex="-1">
                <Routes fallback=|| view! { <NotFoundPage /> }>
                    <Route path=path!("/") view=CataloguePage />
                    <Route path=path!("/product/:id") view=split::product() />
                    <Route path=path!("/cart") view=split::cart() />
                    <Route path=path!("/thank-you/:id") view=split::thanks() />
                    <Route path=path!("/orders") view=split::orders() />
                    <Route path=path!("/orders/:id") view=split::order() />
                    <Route path=path!("/login") view=split::login() />
                    <Route path=path!("/register") view=split::register() />
                    <Route path=path!("/admin") view=AdminPage />
                    <Route path=path!("/admin/orders") view=OrderDeskPage />
                    <Route path=path!("/admin/orders/:id") view=DeskOrderPage />
                    <Route path=path!("/account") view=split::account() />
                    // Last: routes match in order, so this takes only what the
                    // others did not (the footer's pages, or "Page not found").
                    <Route path=path!("/:page") view=split::info() />
                </Routes>
            </main>
            <crate::toast::CartToast />
            <Footer />
        </Router>
    }
}

/// What a shopper looks for at the bottom of a shop: how to reach it and its
/// shipping, returns and privacy pages (see [`FOOTER`]).
#[component]
fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <div class="container footer-inner" inner_html=FOOTER></div>
        </footer>
    }
}

/// Sends the user to the login page when a service refused the session's token,
/// to come back to the page they were on.
#[component]
fn SessionWatcher() -> impl IntoView {
    let shop = use_shop();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if shop.session.ended() {
            let here = path_and_query(
                &location.pathname.get_untracked(),
                &location.search.get_untracked(),
            );
            navigate(&login_href(&here), Default::default());
        }
    });
}
