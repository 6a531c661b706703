//! The orders service's own metrics, beside the request metrics every
//! service serves: checkouts and card payments by outcome (counted as they
//! answer), and, read from the database every few seconds by a background
//! task (never on the scrape), orders by status, the outbox's backlog and its
//! oldest unsent effect, the oldest checkout still under way and those
//! awaiting the repair loop. Label sets are bounded:
//! the outcomes and statuses below, nothing from a request.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::metrics::write_counter;
use server::{with_conn, ApiError, ApiResult, Db};
use shared::OrderStatus;

use crate::db::outbox::backlog;
use crate::db::schema::{order_checkouts, orders};

/// How a checkout answered.
#[derive(Debug, Clone, Copy)]
pub enum Checkout {
    Placed,
    OutOfStock,
    PricesChanged,
    Empty,
    InProgress,
    Unavailable,
    Failed,
}

const OUTCOMES: [(Checkout, &str); 7] = [
    (Checkout::Placed, "placed"),
    (Checkout::OutOfStock, "out_of_stock"),
    (Checkout::PricesChanged, "prices_changed"),
    (Checkout::Empty, "empty_order"),
    (Checkout::InProgress, "checkout_in_progress"),
    (Checkout::Unavailable, "unavailable"),
    (Checkout::Failed, "other"),
];

impl Checkout {
    /// The outcome of a checkout's answer.
    pub fn of<T>(answer: &ApiResult<T>) -> Self {
        match answer {
            Ok(_) => Self::Placed,
            Err(ApiError::Conflict { code, .. }) => match *code {
                "out_of_stock" => Self::OutOfStock,
                "prices_changed" => Self::PricesChanged,
                "empty_order" => Self::Empty,
                "checkout_in_progress" => Self::InProgress,
                _ => Self::Failed,
            },
            Err(ApiError::Unavailable(_)) => Self::Unavailable,
            Err(_) => Self::Failed,
        }
    }
}

/// How a card payment's confirmation (`POST /api/order/{id}/pay`) ended at
/// the provider.
#[derive(Debug, Clone, Copy)]
pub enum Payment {
    Succeeded,
    /// The bank's authentication step (3-D Secure) or processing: not final.
    Pending,
    Declined,
    /// The provider refused the request (an unknown card, a changed intent).
    Refused,
    /// The provider did not answer.
    Unavailable,
}

const PAYMENT_OUTCOMES: [(Payment, &str); 5] = [
    (Payment::Succeeded, "succeeded"),
    (Payment::Pending, "pending"),
    (Payment::Declined, "declined"),
    (Payment::Refused, "refused"),
    (Payment::Unavailable, "unavailable"),
];

#[derive(Default)]
struct Inner {
    checkouts: [AtomicU64; OUTCOMES.len()],
    payments: [AtomicU64; PAYMENT_OUTCOMES.len()],
    /// The database figures, as last read.
    gauges: Mutex<String>,
}

#[derive(Clone, Default)]
pub struct OrdersMetrics(Arc<Inner>);

impl OrdersMetrics {
    pub fn checkout(&self, outcome: Checkout) {
        self.0.checkouts[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn payment(&self, outcome: Payment) {
        self.0.payments[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// For `/metrics`.
    pub fn source(&self) -> server::metrics::ServiceMetrics {
        let this = self.clone();
        Arc::new(move || this.render())
    }

    fn render(&self) -> String {
        let mut out = String::new();
        write_counter(
            &mut out,
            "orders_checkouts_total",
            "Checkouts by how they answered.",
            "outcome",
            samples(&OUTCOMES, &self.0.checkouts),
        );
        write_counter(
            &mut out,
            "orders_payments_total",
            "Card payments confirmed at the provider, by how they ended.",
            "outcome",
            samples(&PAYMENT_OUTCOMES, &self.0.payments),
        );
        out.push_str(&self.0.gauges.lock().unwrap_or_else(|p| p.into_inner()));
        out
    }

    /// Reads the database figures every `every`, for as long as the app runs;
    /// a checkout under way longer than `repair_after` awaits the repair loop.
    pub fn spawn_refresh(
        &self,
        db: Db,
        every: Duration,
        repair_after: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match gauges(&db, repair_after).await {
                    Ok(text) => *this.0.gauges.lock().unwrap_or_else(|p| p.into_inner()) = text,
                    Err(e) => tracing::debug!(error = %e, "metrics: database figures not read"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

/// Each outcome's name beside its counter's value.
fn samples<'a, T>(
    outcomes: &'a [(T, &'static str)],
    counters: &'a [AtomicU64],
) -> impl Iterator<Item = (&'static str, u64)> + 'a {
    outcomes
        .iter()
        .zip(counters)
        .map(|((_, name), n)| (*name, n.load(Ordering::Relaxed)))
}

async fn gauges(db: &Db, repair_after: Duration) -> ApiResult<String> {
    let now = Utc::now().naive_utc();
    let dead_before = now - chrono::Duration::from_std(repair_after).unwrap_or_default();
    let by_status: Vec<(String, i64)> = with_conn!(db.reader(), |conn| {
        orders::table
            .group_by(orders::status)
            .select((orders::status, diesel::dsl::count_star()))
            .load(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let oldest_checkout: Option<chrono::NaiveDateTime> = with_conn!(db.reader(), |conn| {
        order_checkouts::table
            .filter(order_checkouts::checkout_state.is_not_null())
            .select(diesel::dsl::min(order_checkouts::checkout_begun_at))
            .first(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let awaiting_repair: i64 = with_conn!(db.reader(), |conn| {
        orders::table
            .filter(orders::checkout_state.is_not_null())
            .filter(orders::checkout_started_at.lt(dead_before))
            .count()
            .get_result(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let (pending, oldest_unsent) = backlog(db).await?;
    let age = |t: Option<chrono::NaiveDateTime>| {
        t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
    };
    let mut out = String::new();
    out.push_str("# HELP orders_by_status Orders in each status (open: carts).\n");
    out.push_str("# TYPE orders_by_status gauge\n");
    for status in OrderStatus::ALL {
        let n = by_status
            .iter()
            .find(|(s, _)| s == status.as_str())
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "orders_by_status{{status=\"{status}\"}} {n}");
    }
    out.push_str(
        "# HELP orders_outbox_pending Effects (emails, stock releases) not carried out yet.\n",
    );
    out.push_str("# TYPE orders_outbox_pending gauge\n");
    let _ = writeln!(out, "orders_outbox_pending {pending}");
    out.push_str("# HELP orders_outbox_oldest_unsent_seconds Age of the oldest effect not carried out; 0 when none.\n");
    out.push_str("# TYPE orders_outbox_oldest_unsent_seconds gauge\n");
    let _ = writeln!(
        out,
        "orders_outbox_oldest_unsent_seconds {}",
        age(oldest_unsent)
    );
    out.push_str("# HELP orders_checkouts_awaiting_repair Checkout attempts past the repair window whose stock the repair loop has yet to release.\n");
    out.push_str("# TYPE orders_checkouts_awaiting_repair gauge\n");
    let _ = writeln!(out, "orders_checkouts_awaiting_repair {awaiting_repair}");
    out.push_str("# HELP orders_checkout_oldest_unfinished_seconds Age of the oldest checkout neither closed nor undone, since it began (repair attempts do not reset it); 0 when none.\n");
    out.push_str("# TYPE orders_checkout_oldest_unfinished_seconds gauge\n");
    let _ = writeln!(
        out,
        "orders_checkout_oldest_unfinished_seconds {}",
        age(oldest_checkout)
    );
    Ok(out)
}
