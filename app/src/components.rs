//! Small pieces the pages are made of.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::ApiError;

/// Problems per form field, from the API's 422 `fields` or a 409.
pub type FieldErrors = BTreeMap<String, String>;

/// How serious a notice is; picks its colour and its ARIA role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Info => "notice notice-info",
            Tone::Success => "notice notice-success",
            Tone::Warning => "notice notice-warning",
            Tone::Error => "notice notice-error",
        }
    }
}

/// A boxed message: outages, refusals, confirmations.
#[component]
pub fn Notice(tone: Tone, children: Children) -> impl IntoView {
    let role = if tone == Tone::Error {
        "alert"
    } else {
        "status"
    };
    view! {
        <div class=tone.class() role=role>
            {children()}
        </div>
    }
}

/// After this long, a loading message says it is still trying: a spinner
/// alone cannot tell a slow answer from a page that stopped.
const STILL_TRYING_MS: u64 = 4_000;

/// What shows while data is on its way; after a few seconds, that it is
/// still trying.
#[component]
pub fn Loading(#[prop(default = "Loading…")] label: &'static str) -> impl IntoView {
    let slow = RwSignal::new(false);
    if let Ok(timer) = set_timeout_with_handle(
        move || {
            slow.try_set(true);
        },
        std::time::Duration::from_millis(STILL_TRYING_MS),
    ) {
        on_cleanup(move || timer.clear());
    }
    view! {
        <p class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {label}
            {move || slow.get().then(|| view! {
                <span class="loading-slow" data-testid="still-trying">
                    " Still trying: the shop is slow to answer."
                </span>
            })}
        </p>
    }
}

/// The fallback of an `ErrorBoundary`: each error's friendly text, and a way to
/// ask again (outages pass).
#[component]
pub fn ErrorNotices(
    errors: ArcRwSignal<Errors>,
    #[prop(optional)] retry: Option<Callback<()>>,
    /// On a page about orders: see [`ApiError::about_orders`].
    #[prop(optional)]
    about_orders: bool,
) -> impl IntoView {
    let say = move |e: &leptos::error::Error| match e.downcast_ref::<ApiError>() {
        Some(api) if about_orders => api.about_orders(),
        _ => e.to_string(),
    };
    view! {
        <div class="errors">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|(_, e)| match retry {
                        Some(retry) => view! { <OutageNotice text=say(&e) retry /> }.into_any(),
                        None => view! { <OutageNotice text=say(&e) /> }.into_any(),
                    })
                    .collect_view()
            }}
        </div>
    }
}

/// How long after "Try again" a lost focus is caught: the notice (and the
/// button that had focus) goes when the answer comes, within a call's time limit.
const RETRY_FOCUS_WATCH_MS: f64 = 12_000.0;

/// A warning with a "Try again" button when there is something to retry. When
/// the retry works, the notice and its focused button go: focus then goes to
/// the page's heading, not to nowhere.
#[component]
pub fn OutageNotice(text: String, #[prop(optional)] retry: Option<Callback<()>>) -> impl IntoView {
    view! {
        <div class="notice notice-warning" role="alert">
            <p class="notice-text">{text}</p>
            {retry.map(|r| view! {
                <button
                    type="button"
                    class="button button-small"
                    on:click=move |_| {
                        r.run(());
                        crate::a11y::catch_lost_focus_for(RETRY_FOCUS_WATCH_MS);
                    }
                >
                    "Try again"
                </button>
            })}
        </div>
    }
}

/// A quantity box that keeps exactly what is typed: a text input (a `number`
/// input rewrites and drops what it cannot parse), checked on submit.
#[component]
pub fn QuantityInput(
    id: String,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    error_id: String,
    #[prop(optional)] disabled: Option<Signal<bool>>,
) -> impl IntoView {
    let initial = value.get_untracked();
    view! {
        <input
            id=id
            class="qty-input"
            type="text"
            inputmode="numeric"
            autocomplete="off"
            size="4"
            value=initial
            prop:value=move || value.get()
            aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
            aria-describedby=error_id
            disabled=move || disabled.is_some_and(|d| d.get())
            on:input=move |ev| value.set(event_target_value(&ev))
        />
    }
}

/// A small product picture for order lines; nothing while the catalogue is unknown.
#[component]
pub fn Thumb(image: Option<String>) -> impl IntoView {
    match image {
        Some(src) => {
            view! { <img class="thumb" src=src alt="" width="48" height="36" loading="lazy" /> }
                .into_any()
        }
        None => view! { <span class="thumb thumb-empty" aria-hidden="true"></span> }.into_any(),
    }
}

/// Where a refusal shows in a form: the API's 422 `fields` as sentences
/// (`"Price is required."`), plus the field a conflict's code belongs to.
/// `conflict` maps a code (`"username_taken"`) to its field and what to say
/// there; other codes, and outages, place nothing. An empty answer means the
/// refusal belongs in a notice for the whole form.
pub fn refusal_fields(
    e: &ApiError,
    conflict: impl Fn(&str) -> Option<(&'static str, String)>,
) -> FieldErrors {
    let mut fields: FieldErrors = e
        .fields()
        .into_iter()
        .map(|(name, problem)| {
            let text = crate::format::field_problem(&crate::format::field_label(&name), &problem);
            (name, text)
        })
        .collect();
    if let Some((field, text)) = e.code().and_then(conflict) {
        fields.insert(field.into(), text);
    }
    fields
}

/// A labelled input with its own error line, for forms checked by the API.
/// `kind="textarea"` makes a multi-line field. The input's id is
/// `{prefix}-{name}` (see [`crate::a11y::focus_first_invalid_in`]): a page with
/// several forms of the same fields gives each its own prefix.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<FieldErrors>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into, default = "field".to_string())] prefix: String,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    /// Extra live status under the input (the username check).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = format!("{prefix}-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = if hint.is_some() {
        format!("{error_id} {hint_id}")
    } else {
        error_id.clone()
    };
    let error = move || errors.with(|e| e.get(name).cloned());
    let clear_error = move |_| {
        if errors.with_untracked(|e| e.contains_key(name)) {
            errors.update(|e| {
                e.remove(name);
            });
        }
    };
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id.clone()>
                {label}
                {required.then(|| view! { <span class="required" aria-hidden="true">" *"</span> })}
            </label>
            {if kind == "textarea" {
                view! {
                    <textarea
                        id=id
                        name=name
                        rows="4"
                        required=required
                        aria-invalid=move || if error().is_some() { "true" } else { "false" }
                        aria-describedby=described_by
                        prop:value=move || value.get()
                        on:input=move |ev| {
                            value.set(event_target_value(&ev));
                            clear_error(ev);
                        }
                    ></textarea>
                }
                    .into_any()
            } else {
                view! {
                    <input
                        id=id
                        type=kind
                        name=name
                        autocomplete=autocomplete
                        inputmode=inputmode
                        required=required
                        aria-invalid=move || if error().is_some() { "true" } else { "false" }
                        aria-describedby=described_by
                        bind:value=value
                        on:input=clear_error
                    />
                }
                    .into_any()
            }}
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            {children.map(|c| c())}
            <p class="field-error" id=error_id>
                {error}
            </p>
        </div>
    }
}

/// Previous / next links of a list and where we are in it. `link` makes the URL of
/// the page starting at an offset. Plain `<a>`s: the router still handles the click,
/// and no `aria-current` marks them as the current page.
#[component]
pub fn Pager<F>(offset: i64, page_size: i64, shown: i64, total: i64, link: F) -> impl IntoView
where
    F: Fn(i64) -> String + 'static,
{
    if total == 0 {
        return None;
    }
    let first = (offset + 1).min(total);
    let last = (offset + shown).min(total);
    let prev = (offset > 0).then(|| link((offset - page_size).max(0)));
    let next = (offset + page_size < total).then(|| link(offset + page_size));
    Some(view! {
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href class="button button-ghost" rel="prev">"← Previous"</a> })}
            <span class="pager-status">{format!("{first}–{last} of {total}")}</span>
            {next.map(|href| view! { <a href=href class="button button-ghost" rel="next">"Next →"</a> })}
        </nav>
    })
}

/// One call at a time for a control: `is_busy` is true while it runs, and a
/// press meanwhile is dropped. Lighter in the WASM than an `Action` where no
/// one needs the call's input or value afterwards.
#[derive(Clone, Copy)]
pub struct Busy(RwSignal<bool>);

impl Busy {
    pub fn new() -> Self {
        Self(RwSignal::new(false))
    }

    /// Whether a call is on its way (tracked).
    pub fn is_busy(&self) -> bool {
        self.0.get()
    }

    pub fn is_busy_untracked(&self) -> bool {
        self.0.get_untracked()
    }

    /// Runs `work` unless a call is already on its way.
    pub fn run(&self, work: impl std::future::Future<Output = ()> + 'static) {
        if self.0.get_untracked() {
            return;
        }
        self.0.set(true);
        let flag = self.0;
        leptos::task::spawn_local(async move {
            work.await;
            // The page may be gone by now.
            flag.try_set(false);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ErrorBody;

    fn refusal(status: u16, code: &str, fields: &[(&str, &str)]) -> ApiError {
        ApiError::Rejected {
            status,
            body: ErrorBody {
                message: "Refused".into(),
                error: code.into(),
                fields: (!fields.is_empty()).then(|| {
                    fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect()
                }),
            },
        }
    }

    fn taken(code: &str) -> Option<(&'static str, String)> {
        (code == "name_taken").then(|| ("name", "Choose another.".to_string()))
    }

    #[test]
    fn field_problems_become_sentences_and_a_conflict_lands_on_its_field() {
        let placed = refusal_fields(
            &refusal(422, "validation_failed", &[("price", "is required")]),
            taken,
        );
        assert_eq!(placed.len(), 1);
        assert!(placed["price"].ends_with("is required."), "{placed:?}");

        let placed = refusal_fields(&refusal(409, "name_taken", &[]), taken);
        assert_eq!(placed["name"], "Choose another.");
    }

    #[test]
    fn other_refusals_and_outages_place_nothing() {
        assert!(refusal_fields(&refusal(409, "slug_taken", &[]), taken).is_empty());
        assert!(
            refusal_fields(&ApiError::Unavailable(crate::api::Service::Products), taken).is_empty()
        );
    }
}
