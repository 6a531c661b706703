//! Cartwheel's single-page app: reads where the services are, then mounts the shop.

// The shopper's release build leaves the admin pages out (pages/admin): what
// only they use is unused there, and only there.
#![cfg_attr(not(any(feature = "admin", debug_assertions)), allow(dead_code))]

mod a11y;
mod add_to_cart;
mod api;
mod app;
mod components;
mod config;
mod format;
mod header;
mod links;
mod order_view;
mod pages;
mod payment;
mod press;
mod quantity;
mod recovery;
mod session;
mod state;
mod stock;
mod stripe;
mod timer;
mod toast;

use leptos::prelude::*;

fn main() {
    console_error_panic_hook::set_once();
    a11y::install_scroll_memory();
    // Leptos's executor starts with the mount, so the boot runs on wasm-bindgen's.
    wasm_bindgen_futures::spawn_local(async {
        let config = config::Config::load().await;
        // index.html shows a loading line until the app takes over the page.
        if let Some(boot) = document().get_element_by_id("boot") {
            boot.remove();
        }
        mount_to_body(move || view! { <app::App config /> });
    });
}
