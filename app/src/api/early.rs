//! The landing page's first answer, read before the app mounts when the browser
//! already holds it.
//!
//! The SPA image preloads the catalogue's first page beside the WASM (a `Link`
//! header), so it is usually in the browser's memory before the app starts.
//! Read by the catalogue after the mount, it would arrive in a task of its own:
//! the page would be laid out and painted once with "Loading products…" and
//! again with the cards. Read here, before the mount, the cards are in the
//! first frame the app draws. Only an answer the browser has finished
//! receiving is waited for, so a slow or missing preload (`trunk serve` has
//! none) never holds the page back.

use std::cell::RefCell;

use super::Call;

/// How long a held answer stays usable: it is for the first render only.
const USABLE_FOR_MS: f64 = 5_000.0;

struct Held {
    url: String,
    body: String,
    at: f64,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Whether the browser has finished receiving a fetch of `url` (a preload).
fn received(url: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.performance())
        .is_some_and(|p| p.get_entries_by_name(url).length() > 0)
}

/// Reads `call` at `base` now when the browser already holds its answer, and
/// keeps a 2xx answer's body for the first request of the same URL.
pub(super) async fn hold(base: &str, call: Call<'_>) {
    let Ok(request) = call.request(base, None) else {
        return;
    };
    let url = request.url();
    if !received(&url) {
        return;
    }
    let Ok(resp) = request.send().await else {
        return;
    };
    if !resp.ok() {
        return;
    }
    if let Ok(body) = resp.text().await {
        HELD.with(|h| {
            *h.borrow_mut() = Some(Held {
                url,
                body,
                at: now(),
            })
        });
    }
}

/// The held body for `url`, once, while it is fresh.
pub(super) fn take(url: &str) -> Option<String> {
    HELD.with(|h| {
        let mut held = h.borrow_mut();
        if held.as_ref().is_some_and(|x| x.url == url) {
            held.take()
                .filter(|x| now() - x.at <= USABLE_FOR_MS)
                .map(|x| x.body)
        } else {
            None
        }
    })
}
