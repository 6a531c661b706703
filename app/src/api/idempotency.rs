//! `Idempotency-Key`s (contract v1.1): one fresh random key per action a person
//! means to do, the same key again when that action is retried.
//!
//! A double click is stopped in the view (the control is disabled while a call is
//! in flight); the key is what makes a retry after a lost answer safe: the service
//! replays its first answer instead of adding the product twice.

/// Whether calls carry the header. The services' CORS lists `Idempotency-Key`, so
/// the browser's preflight lets it through (turn off only for services without it).
pub const SEND_HEADER: bool = true;

/// 16 random bytes from the browser's CSPRNG, as 32 hex digits (the contract allows
/// 1-64 of `A-Za-z0-9_-`). `getRandomValues` works outside secure contexts too,
/// unlike `randomUUID`.
pub fn fresh_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        // No crypto object (very old browser): still unique enough per action.
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (js_sys::Math::random() * 256.0) as u8 ^ i as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of one intended action, kept until that action got a final answer.
///
/// `key_for(what)` hands out the pending key while `what` (the request, say
/// "product 3, qty 2") is unchanged and unsettled, so pressing "Try again" after an
/// outage reuses it; a different request or a settled one gets a fresh key.
#[derive(Debug, Default, Clone)]
pub struct Intent {
    pending: Option<(String, String)>,
}

impl Intent {
    pub fn key_for(&mut self, what: &str) -> String {
        match &self.pending {
            Some((w, key)) if w == what => key.clone(),
            _ => {
                let key = fresh_key();
                self.pending = Some((what.to_string(), key.clone()));
                key
            }
        }
    }

    /// The service answered for good (success or a refusal): the next press is a
    /// new action. Outages leave the key pending so a retry is the same action.
    pub fn settle(&mut self) {
        self.pending = None;
    }
}
