//! The orders service's own metrics, beside the request metrics every
//! service serves: checkouts by outcome (counted as they answer), and, read
//! from the database every few seconds by a background task (never on the
//! scrape), orders by status, the outbox's backlog and its oldest unsent
//! effect, and the oldest checkout still under way. Label sets are bounded:
//! the outcomes and statuses below, nothing from a request.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::{with_conn, ApiError, ApiResult, Db};
use shared::OrderStatus;

use crate::db::outbox::backlog;
use crate::db::schema::orders;

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

#[derive(Default)]
struct Inner {
    checkouts: [AtomicU64; OUTCOMES.len()],
    /// The database figures, as last read.
    gauges: Mutex<String>,
}

#[derive(Clone, Default)]
pub struct OrdersMetrics(Arc<Inner>);

impl OrdersMetrics {
    pub fn checkout(&self, outcome: Checkout) {
        self.0.checkouts[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// For `/metrics`.
    pub fn source(&self) -> server::metrics::ServiceMetrics {
        let this = self.clone();
        Arc::new(move || this.render())
    }

    fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP orders_checkouts_total Checkouts by how they answered.\n");
        out.push_str("# TYPE orders_checkouts_total counter\n");
        for (i, (_, name)) in OUTCOMES.iter().enumerate() {
            let n = AtomicU64::load(&self.0.checkouts[i], Ordering::Relaxed);
            let _ = writeln!(out, "orders_checkouts_total{{outcome=\"{name}\"}} {n}");
        }
        out.push_str(&self.0.gauges.lock().unwrap_or_else(|p| p.into_inner()));
        out
    }

    /// Reads the database figures every `every`, for as long as the app runs.
    pub fn spawn_refresh(&self, db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                match gauges(&db).await {
                    Ok(text) => *this.0.gauges.lock().unwrap_or_else(|p| p.into_inner()) = text,
                    Err(e) => tracing::debug!(error = %e, "metrics: database figures not read"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

async fn gauges(db: &Db) -> ApiResult<String> {
    let by_status: Vec<(String, i64)> = with_conn!(db.reader(), |conn| {
        orders::table
            .group_by(orders::status)
            .select((orders::status, diesel::dsl::count_star()))
            .load(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let oldest_checkout: Option<chrono::NaiveDateTime> = with_conn!(db.reader(), |conn| {
        orders::table
            .filter(orders::checkout_state.is_not_null())
            .select(diesel::dsl::min(orders::checkout_started_at))
            .first(conn)
            .await
            .map_err(ApiError::from)
    })?;
    let (pending, oldest_unsent) = backlog(db).await?;
    let now = Utc::now().naive_utc();
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
    out.push_str("# HELP orders_checkout_oldest_unfinished_seconds Age of the oldest checkout neither closed nor undone; 0 when none.\n");
    out.push_str("# TYPE orders_checkout_oldest_unfinished_seconds gauge\n");
    let _ = writeln!(
        out,
        "orders_checkout_oldest_unfinished_seconds {}",
        age(oldest_checkout)
    );
    Ok(out)
}
