//! Crash points for the tests of the checkout saga.
//!
//! `FAILPOINT=<name>` makes a debug build abort the process the moment it
//! reaches the point of that name, as a power cut would: no destructor runs,
//! no answer is sent. Release builds ignore it (and say so at start), so a
//! stray variable can never take a production shop down.

use std::sync::OnceLock;

/// The crash points there are.
pub const AFTER_RESERVE: &str = "checkout-after-reserve";
pub const AFTER_CLOSE: &str = "checkout-after-close";
/// Payments on: after the PaymentIntent was made, before the order closed.
pub const AFTER_INTENT: &str = "checkout-after-intent";

static ARMED: OnceLock<Option<String>> = OnceLock::new();

fn armed() -> Option<&'static str> {
    ARMED.get().and_then(Option::as_deref)
}

/// Arms `FAILPOINT` (from the config) now, so the warning shows at start. The
/// crash point is the process's: the first service built in a process sets
/// it (tests that arm one run the service as a process of its own).
pub fn init(failpoint: Option<String>) {
    ARMED.get_or_init(|| {
        let name = failpoint?;
        if cfg!(debug_assertions) {
            tracing::warn!(failpoint = %name, "FAILPOINT armed: this process will abort there");
            Some(name)
        } else {
            tracing::warn!("FAILPOINT is ignored by release builds");
            None
        }
    });
}

/// Aborts the process if `name` is the armed crash point.
pub fn hit(name: &str) {
    if armed() == Some(name) {
        tracing::error!(failpoint = name, "FAILPOINT reached: aborting");
        std::process::abort();
    }
}
