//! The root component and every route of the SPA, declared in one place.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

use crate::a11y::{RouteChanges, SkipLink};
use crate::links::login_href;

use crate::config::Config;
use crate::header::Header;
use crate::pages::{
    account::AccountPage,
    admin::{AdminPage, DeskOrderPage, OrderDeskPage},
    cart::CartPage,
    catalogue::CataloguePage,
    info::{InfoPage, CONTACT, CONTACT_EMAIL, PAGES, PRIVACY, RETURNS, SHIPPING},
    login::LoginPage,
    not_found::NotFoundPage,
    order::OrderPage,
    orders::OrdersPage,
    product::ProductPage,
    register::RegisterPage,
    thanks::ThanksPage,
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
                    <Route path=path!("/product/:id") view=ProductPage />
                    <Route path=path!("/cart") view=CartPage />
                    <Route path=path!("/thank-you/:id") view=ThanksPage />
                    <Route path=path!("/orders") view=OrdersPage />
                    <Route path=path!("/orders/:id") view=OrderPage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/register") view=RegisterPage />
                    <Route path=path!("/admin") view=AdminPage />
                    <Route path=path!("/admin/orders") view=OrderDeskPage />
                    <Route path=path!("/admin/orders/:id") view=DeskOrderPage />
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/shipping") view=|| view! { <InfoPage info=&SHIPPING /> } />
                    <Route path=path!("/returns") view=|| view! { <InfoPage info=&RETURNS /> } />
                    <Route path=path!("/privacy") view=|| view! { <InfoPage info=&PRIVACY /> } />
                    <Route path=path!("/contact") view=|| view! { <InfoPage info=&CONTACT /> } />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}

/// What a shopper looks for at the bottom of a shop: how to reach it and its
/// shipping, returns and privacy pages. Plain links: the router follows them.
#[component]
fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <div class="container footer-inner">
                <div class="footer-about">
                    <p class="footer-brand">"Cartwheel"</p>
                    <p>"An open-source demo shop. Payments are in test mode: nothing is really charged."</p>
                </div>
                <nav class="footer-nav" aria-label="Shop information">
                    <ul>
                        {PAGES
                            .iter()
                            .map(|p| view! { <li><a href=p.href>{p.title}</a></li> })
                            .collect_view()}
                    </ul>
                </nav>
                <p class="footer-contact">
                    "Questions? "
                    <a href=format!("mailto:{CONTACT_EMAIL}")>{CONTACT_EMAIL}</a>
                </p>
            </div>
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
            let path = location.pathname.get_untracked();
            let search = location.search.get_untracked();
            let here = if search.is_empty() {
                path
            } else {
                format!("{path}?{}", search.trim_start_matches('?'))
            };
            navigate(&login_href(&here), Default::default());
        }
    });
}
