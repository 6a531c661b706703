//! The small static pages the footer links to: shipping, returns, privacy,
//! contact. Honest text for an open-source demo shop; a shop that runs
//! Cartwheel for real rewrites them.
//!
//! Each body is fixed HTML set in one go (`inner_html`), as is the footer:
//! plain text and links cost next to nothing in the WASM, where building every
//! paragraph as its own element would cost code per page. The router follows
//! the plain links inside. One route (`/:page`, see [`InfoRoute`]) serves all
//! four, for the same reason.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::a11y::use_title;
use crate::pages::not_found::NotFoundPage;

/// One footer page: its route, its title (tab and heading), its body.
struct Info {
    href: &'static str,
    title: &'static str,
    body: &'static str,
}

const SHIPPING: Info = Info {
    href: "/shipping",
    title: "Shipping",
    body: "<p>Cartwheel is an open-source demo shop: nothing you order here is \
           packed or sent, and no money changes hands.</p>\
           <p>What the shop does do is follow an order the way a real one would: \
           when you check out you give a shipping address, the order is \
           <strong>placed</strong>, then <strong>shipped</strong> with a tracking \
           number and finally <strong>delivered</strong>. Each step is on the \
           order's page under <a href=\"/orders\">Your orders</a>, and you get an \
           email for it.</p>\
           <p>A shop running Cartwheel for real writes its own delivery times and \
           prices here.</p>",
};

const RETURNS: Info = Info {
    href: "/returns",
    title: "Returns",
    body: "<p>Until an order is shipped you can cancel it yourself from its page \
           under <a href=\"/orders\">Your orders</a>: the stock goes back to the \
           catalogue and, if it was paid, the payment is refunded in full.</p>\
           <p>Payments here are in test mode: test cards only, nothing is ever \
           really charged, so there is never real money to give back.</p>\
           <p>For anything else, <a href=\"/contact\">write to us</a>.</p>",
};

const PRIVACY: Info = Info {
    href: "/privacy",
    title: "Privacy",
    body: "<p>What the shop keeps, and why:</p>\
           <ul>\
           <li><strong>Your account</strong>: username, email, name and a hash of \
           your password (never the password itself), to log you in.</li>\
           <li><strong>Your orders</strong>: what you bought, the prices, the \
           shipping address you gave and each step of the order, for your order \
           history and the shop's records.</li>\
           <li><strong>Emails</strong>: the messages about your orders, sent to \
           the address of your account.</li>\
           </ul>\
           <p>Card numbers never reach the shop: they go straight to the payment \
           provider, which is in test mode here. There are no trackers and no \
           advertising. This browser keeps your login token and the address \
           you last shipped to, so that checkout can offer it again.</p>",
};

const CONTACT: Info = Info {
    href: "/contact",
    title: "Contact",
    body: "<p>Questions about an order, the shop or the code? Email \
           <a href=\"mailto:shop@cartwheel.example\">shop@cartwheel.example</a>.</p>\
           <p>This is a demo address: a shop running Cartwheel puts its own here. \
           Found a bug? Cartwheel is open source: report it where its code \
           is published.</p>",
};

/// The footer's pages, in the order the footer lists them.
const PAGES: [&Info; 4] = [&SHIPPING, &RETURNS, &PRIVACY, &CONTACT];

/// The footer's contents: fixed markup, like the pages' bodies. Plain links,
/// which the router follows; the mail link leaves the app.
pub const FOOTER: &str = "<div class=\"footer-about\">\
    <p class=\"footer-brand\">Cartwheel</p>\
    <p>An open-source demo shop. Payments are in test mode: nothing is really charged.</p>\
    </div>\
    <nav class=\"footer-nav\" aria-label=\"Shop information\"><ul>\
    <li><a href=\"/shipping\">Shipping</a></li>\
    <li><a href=\"/returns\">Returns</a></li>\
    <li><a href=\"/privacy\">Privacy</a></li>\
    <li><a href=\"/contact\">Contact</a></li>\
    </ul></nav>\
    <p class=\"footer-contact\">Questions? \
    <a href=\"mailto:shop@cartwheel.example\">shop@cartwheel.example</a></p>";

/// `/:page`: one of the pages above, or "Page not found" for any other single
/// segment. One route for the four costs the WASM less than four routes.
#[component]
pub fn InfoRoute() -> impl IntoView {
    let params = use_params_map();
    move || {
        let page = params.read().get("page").unwrap_or_default();
        match PAGES.iter().find(|p| p.href[1..] == page) {
            Some(info) => view! { <InfoPage info /> }.into_any(),
            None => view! { <NotFoundPage /> }.into_any(),
        }
    }
}

/// One of the pages above: its title in the tab, its heading, its text.
#[component]
fn InfoPage(info: &'static Info) -> impl IntoView {
    use_title(move || info.title.into());
    view! {
        <section class="info-page">
            <h1>{info.title}</h1>
            <div class="card info-body" inner_html=info.body></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where shoppers write to (in the footer and on the contact page). A
    /// placeholder: `.example` never delivers mail.
    const CONTACT_EMAIL: &str = "shop@cartwheel.example";

    #[test]
    fn the_contact_page_names_the_contact_address() {
        assert!(CONTACT.body.contains(&format!("mailto:{CONTACT_EMAIL}")));
    }

    #[test]
    fn the_footer_links_every_page_and_the_address() {
        for p in PAGES {
            let link = format!("<a href=\"{}\">{}</a>", p.href, p.title);
            assert!(FOOTER.contains(&link), "{link}");
        }
        assert!(FOOTER.contains(&format!("mailto:{CONTACT_EMAIL}\">{CONTACT_EMAIL}</a>")));
    }

    #[test]
    fn every_page_has_its_own_route() {
        let mut hrefs: Vec<_> = PAGES.iter().map(|p| p.href).collect();
        hrefs.sort_unstable();
        hrefs.dedup();
        assert_eq!(hrefs.len(), PAGES.len());
        assert!(hrefs.iter().all(|h| h.starts_with('/')));
    }
}
