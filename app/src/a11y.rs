//! What a page change means for people who do not see it happen: the tab title,
//! where keyboard focus goes, what a screen reader hears, and the scroll position
//! that Back should bring back.

use std::cell::RefCell;
use std::collections::HashMap;

use leptos::ev;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use wasm_bindgen::JsCast;

use crate::links::path_and_query;

/// How long to wait for a page's heading (its data may still be loading).
const HEADING_WAIT_MS: f64 = 5_000.0;
/// How long to keep trying to restore a scroll position while content grows.
const SCROLL_WAIT_MS: f64 = 3_000.0;

/// Sets the tab title to `"<page> · Cartwheel"` while the calling page is shown.
pub fn use_title(page: impl Fn() -> String + 'static) {
    Effect::new(move |_| {
        let page = page();
        let title = if page.is_empty() {
            "Cartwheel".to_string()
        } else {
            format!("{page} · Cartwheel")
        };
        document().set_title(&title);
    });
}

/// The live region's text, shared so pages can announce things too.
#[derive(Clone, Copy)]
pub struct Announcer(RwSignal<String>);

impl Announcer {
    pub fn say(&self, text: impl Into<String>) {
        let text = text.into();
        // The same sentence twice in a row is not re-read unless the region changes.
        if self.0.get_untracked() == text {
            self.0.set(String::new());
            let this = *self;
            request_animation_frame(move || this.0.set(text));
        } else {
            self.0.set(text);
        }
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// The `<h1>` of the page in `<main>`, made focusable.
fn page_heading() -> Option<web_sys::HtmlElement> {
    let h1 = document().query_selector("main h1").ok().flatten()?;
    if !h1.has_attribute("tabindex") {
        let _ = h1.set_attribute("tabindex", "-1");
    }
    h1.dyn_into().ok()
}

fn focus_without_scrolling(el: &web_sys::HtmlElement) {
    let options = web_sys::FocusOptions::new();
    options.set_prevent_scroll(true);
    let _ = el.focus_with_options(&options);
}

/// Whether keyboard focus is nowhere in particular (on `<body>` or gone).
pub fn focus_is_lost() -> bool {
    match document().active_element() {
        None => true,
        Some(el) => el.tag_name().eq_ignore_ascii_case("body"),
    }
}

/// Moves focus to the page's heading once it is there (data may still be coming),
/// unless focus moved on its own meanwhile: a person who already clicked or
/// tabbed into the new page, or the page placing it (a form's first problem),
/// keeps it. Otherwise a heading that arrives late would take focus from them.
pub fn focus_heading_when_ready(scroll: bool, then: impl FnOnce(String) + 'static) {
    let deadline = now() + HEADING_WAIT_MS;
    let before = document().active_element();
    let moved_on = move || {
        let now_on = document().active_element();
        now_on != before && !focus_is_lost()
    };
    fn attempt(
        deadline: f64,
        scroll: bool,
        moved_on: Box<dyn Fn() -> bool>,
        then: Box<dyn FnOnce(String)>,
    ) {
        if moved_on() {
            return then(String::new());
        }
        match page_heading() {
            Some(h1) if !h1.text_content().unwrap_or_default().trim().is_empty() => {
                if scroll {
                    let _ = h1.focus();
                } else {
                    focus_without_scrolling(&h1);
                }
                then(h1.text_content().unwrap_or_default().trim().to_string());
            }
            _ if now() < deadline => {
                request_animation_frame(move || attempt(deadline, scroll, moved_on, then));
            }
            _ => then(String::new()),
        }
    }
    request_animation_frame(move || {
        attempt(deadline, scroll, Box::new(moved_on), Box::new(then));
    });
}

/// Focuses the element with `id` after the next render, when focus was lost
/// because the element that had it was rendered anew.
pub fn refocus_by_id(id: String) {
    fn attempt(id: String, tries: u8) {
        if !focus_is_lost() {
            return;
        }
        match document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            Some(el) => {
                let _ = el.focus();
            }
            None if tries > 0 => request_animation_frame(move || attempt(id, tries - 1)),
            None => {
                if let Some(h1) = page_heading() {
                    let _ = h1.focus();
                }
            }
        }
    }
    request_animation_frame(move || attempt(id, 30));
}

/// When the element that had focus is gone (a removed line), puts focus on
/// the page's heading rather than leaving it nowhere; anything else keeps it.
pub fn focus_heading_if_lost() {
    request_animation_frame(|| {
        if focus_is_lost() {
            if let Some(h1) = page_heading() {
                focus_without_scrolling(&h1);
            }
        }
    });
}

/// Focuses the element with `id` once it is drawn (within a few frames): a
/// control that just appeared, where the next step is.
pub fn focus_when_drawn(id: String) {
    fn attempt(id: String, tries: u8) {
        match document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            Some(el) => {
                let _ = el.focus();
            }
            None if tries > 0 => request_animation_frame(move || attempt(id, tries - 1)),
            None => {}
        }
    }
    request_animation_frame(move || attempt(id, 30));
}

/// Focuses the first field (in form order) that has an error.
pub fn focus_first_invalid(order: &[&str], errors: &std::collections::BTreeMap<String, String>) {
    focus_first_invalid_in("field", order, errors);
}

/// [`focus_first_invalid`] for a form whose field ids start with `prefix`
/// (see [`crate::components::Field`]).
pub fn focus_first_invalid_in(
    prefix: &str,
    order: &[&str],
    errors: &std::collections::BTreeMap<String, String>,
) {
    let Some(name) = order.iter().find(|n| errors.contains_key(**n)) else {
        return;
    };
    let id = format!("{prefix}-{name}");
    request_animation_frame(move || {
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

/// "Skip to content": the router would treat `#main` as a route, so the link
/// moves focus to the page's heading itself.
#[component]
pub fn SkipLink() -> impl IntoView {
    let on_click = move |ev: ev::MouseEvent| {
        ev.prevent_default();
        if let Some(h1) = page_heading() {
            let _ = h1.focus();
        } else if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
        }
    };
    view! {
        <a class="skip-link" href="#main" on:click=on_click>"Skip to content"</a>
    }
}

thread_local! {
    /// The last scroll position of each URL of this visit.
    static POSITIONS: RefCell<HashMap<String, f64>> = RefCell::default();
    /// Set on Back/Forward, before the router redraws: where that page was.
    static POPPED: std::cell::Cell<Option<Option<f64>>> = const { std::cell::Cell::new(None) };
}

/// Remembers where Back should scroll to. Installed before the router exists, so
/// this `popstate` listener runs before the router's: the router's redraw (and the
/// effects that follow it) happen inside its own listener.
pub fn install_scroll_memory() {
    if let Ok(history) = window().history() {
        // The browser would restore before the page has its content again.
        let _ = history.set_scroll_restoration(web_sys::ScrollRestoration::Manual);
    }
    let on_pop = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
        let l = window().location();
        let key = path_and_query(
            &l.pathname().unwrap_or_default(),
            &l.search().unwrap_or_default(),
        );
        let y = POSITIONS.with(|p| p.borrow().get(&key).copied());
        POPPED.with(|p| p.set(Some(y)));
    });
    let _ = window().add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_pop.forget();
}

/// Watches the URL: on a new page, focus goes to its heading and the live region
/// reads its title; Back brings the scroll position back.
#[component]
pub fn RouteChanges() -> impl IntoView {
    let announcer = Announcer(RwSignal::new(String::new()));
    provide_context(announcer);
    let location = use_location();
    // Keyed by the router's URL, not the address bar's: the router shows the
    // next page before it pushes its URL, and the scroll that the shorter page
    // causes in between must not count as the old page's position.
    let handle = window_event_listener(ev::scroll, move |_| {
        let y = window().scroll_y().unwrap_or(0.0);
        let search = location.search.get_untracked();
        let path = location.pathname.get_untracked();
        POSITIONS.with(|p| p.borrow_mut().insert(path_and_query(&path, &search), y));
    });
    on_cleanup(move || handle.remove());

    Effect::new(move |prev: Option<(String, String)>| {
        let path = location.pathname.get();
        let search = location.search.get();
        let now_at = (path.clone(), search);
        let Some((prev_path, _)) = prev else {
            // The first page: focus stays at the top, where "Skip to content" is.
            return now_at;
        };
        let target = POPPED.with(|p| p.take()).flatten();
        let new_page = prev_path != path;
        if let Some(y) = target {
            restore_scroll(y);
        }
        if new_page || focus_is_lost() {
            focus_heading_when_ready(target.is_none(), move |_| {
                announcer.say(document().title());
            });
        } else {
            // Same page, new query (a search, another page of results): the
            // control keeps focus; the live region says what changed. When the
            // results arrive and redraw the control that had focus (the pager's
            // "Next"), focus goes to the heading rather than to nowhere.
            request_animation_frame(move || announcer.say(document().title()));
            catch_lost_focus(now() + HEADING_WAIT_MS);
        }
        now_at
    });

    view! {
        <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
            {move || announcer.0.get()}
        </div>
    }
}

/// For the next `ms`: if focus falls to `<body>` (the control that had it was
/// replaced, as "Try again" is by what it brought back), put it on the page
/// heading.
pub fn catch_lost_focus_for(ms: f64) {
    catch_lost_focus(now() + ms);
}

/// Until `deadline`: if focus falls to `<body>`, put it on the page heading.
fn catch_lost_focus(deadline: f64) {
    request_animation_frame(move || {
        if focus_is_lost() {
            if let Some(h1) = page_heading() {
                focus_without_scrolling(&h1);
            }
        } else if now() < deadline {
            catch_lost_focus(deadline);
        }
    });
}

/// Scrolls to `y` once the page is tall enough, retrying while content arrives.
fn restore_scroll(y: f64) {
    let deadline = now() + SCROLL_WAIT_MS;
    fn attempt(y: f64, deadline: f64, settled: u8) {
        let w = window();
        let tall_enough = document()
            .document_element()
            .map(|e| e.scroll_height() as f64)
            .unwrap_or(0.0)
            >= y + w
                .inner_height()
                .ok()
                .and_then(|h| h.as_f64())
                .unwrap_or(0.0)
                - 1.0;
        if tall_enough {
            w.scroll_to_with_x_and_y(0.0, y);
        }
        let there = (w.scroll_y().unwrap_or(0.0) - y).abs() < 2.0;
        // A few frames at the spot: late renders must not throw it back to the top.
        let settled = if there { settled + 1 } else { 0 };
        if settled < 5 && now() < deadline {
            request_animation_frame(move || attempt(y, deadline, settled));
        }
    }
    request_animation_frame(move || attempt(y, deadline, 0));
}
