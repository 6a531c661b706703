//! The login session: the users service's token, kept in `localStorage` so a reload
//! keeps the user logged in.

use leptos::prelude::*;

const TOKEN_KEY: &str = "cartwheel.token";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The token and whether a service just refused it.
#[derive(Clone, Copy)]
pub struct Session {
    token: RwSignal<Option<String>>,
    /// Set when a 401 ended the session, so the app can send the user to log in.
    ended: RwSignal<bool>,
}

impl Session {
    /// The session saved by an earlier visit, if any.
    pub fn restore() -> Self {
        let token = storage()
            .and_then(|s| s.get_item(TOKEN_KEY).ok().flatten())
            .filter(|t| !t.is_empty());
        Self {
            token: RwSignal::new(token),
            ended: RwSignal::new(false),
        }
    }

    /// The token, tracked: whatever reads it reloads on login and logout.
    pub fn token(&self) -> Option<String> {
        self.token.get()
    }

    pub fn token_untracked(&self) -> Option<String> {
        self.token.get_untracked()
    }

    pub fn is_logged_in(&self) -> bool {
        self.token.with(Option::is_some)
    }

    pub fn is_logged_in_untracked(&self) -> bool {
        self.token.with_untracked(Option::is_some)
    }

    /// Keeps a fresh token from a login.
    pub fn start(&self, token: String) {
        if let Some(s) = storage() {
            // A browser that refuses storage still keeps the session for this page.
            let _ = s.set_item(TOKEN_KEY, &token);
        }
        self.ended.set(false);
        self.token.set(Some(token));
    }

    /// Forgets the token (log out).
    pub fn clear(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(TOKEN_KEY);
        }
        self.token.set(None);
    }

    /// A service refused the token: forget it and flag it for the login page.
    pub fn end(&self) {
        self.clear();
        self.ended.set(true);
    }

    /// Whether the last session ended by a refusal rather than a log out.
    pub fn ended(&self) -> bool {
        self.ended.get()
    }
}
