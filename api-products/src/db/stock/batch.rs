//! Reservations in batches, on PostgreSQL: what queued on a lane
//! (`server::group_commit`) while the last transaction committed is reserved
//! in one transaction, with one statement per step for the whole batch, not
//! per reservation: the names claimed (one `INSERT .. SELECT FROM unnest`),
//! the products locked in id order and read (`FOR NO KEY UPDATE`), each
//! reservation judged in memory, in arrival order, against what the ones
//! before it left, then one `UPDATE` takes every accepted unit and one
//! `INSERT` records every line. A hot product's row is locked once per
//! batch, not once per checkout, and its commit's wait for the disk is
//! shared by the whole batch.
//!
//! The rules are those of one reservation alone (the parent module), and so
//! are the answers: all lines or none (a refused reservation's name is
//! deleted again, as its rolled-back transaction would leave it), the same
//! shortages named. Names claimed first, products locked next, as a
//! reservation alone does, so a batch and a reservation alone never wait
//! on each other in a cycle; products in id order, so two batches never
//! do. What a batch does not decide goes the way of one reservation alone,
//! after the batch's commit: a name seen before (a retry, a release's
//! tombstone) or twice in the batch, and every reservation of a batch
//! whose transaction failed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Timestamp};
use diesel::QueryableByName;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::db::{pool_error, PgConn, PoolRef};
use server::{ApiResult, Db};

use super::{judge, reserve, OnHand, Reserve};
use crate::domain::stock::StockClaim;

/// Reserves each of `claims`, in one transaction where it can: one answer
/// per claim, in order.
pub async fn reserve_all(db: &Db, claims: Vec<StockClaim>) -> Vec<ApiResult<Reserve>> {
    let PoolRef::Postgres(pool) = db.writer() else {
        return alone(db, &claims, (0..claims.len()).collect()).await;
    };
    // The first use of each name goes in the batch; a second waits for it.
    let mut names = HashSet::new();
    let (together, mut later): (Vec<usize>, Vec<usize>) =
        (0..claims.len()).partition(|&i| names.insert(claims[i].reservation.as_str()));
    let batch: Vec<&StockClaim> = together.iter().map(|&i| &claims[i]).collect();
    let now = Utc::now().naive_utc();
    let decided = match pool.get().await {
        Ok(mut conn) => {
            let conn: &mut PgConn = &mut conn;
            conn.transaction::<_, diesel::result::Error, _>(|conn| {
                decide(conn, &batch, now).scope_boxed()
            })
            .await
            .map_err(server::ApiError::from)
        }
        Err(e) => Err(pool_error(e)),
    };
    let mut answers: Vec<Option<ApiResult<Reserve>>> = claims.iter().map(|_| None).collect();
    match decided {
        Ok(outcomes) => {
            for (i, outcome) in together.into_iter().zip(outcomes) {
                match outcome {
                    Some(outcome) => answers[i] = Some(Ok(outcome)),
                    None => later.push(i),
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, reservations = together.len(), "reservation batch failed: each alone");
            later.extend(together);
        }
    }
    later.sort_unstable();
    for (i, answer) in later.iter().zip(alone(db, &claims, later.clone()).await) {
        answers[*i] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(server::ApiError::Unavailable("The database"))))
        .collect()
}

/// The claims at `which`, each reserved alone, one after the other.
async fn alone(db: &Db, claims: &[StockClaim], which: Vec<usize>) -> Vec<ApiResult<Reserve>> {
    let mut answers = Vec::with_capacity(which.len());
    for i in which {
        answers.push(reserve(db, &claims[i]).await);
    }
    answers
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Text)]
    reservation: String,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    stock: Option<i64>,
    #[diesel(sql_type = Bool)]
    hidden: bool,
}

/// The batch's transaction: each claim's outcome, or `None` for a name
/// that exists already (reserved alone after the commit).
async fn decide(
    conn: &mut PgConn,
    claims: &[&StockClaim],
    now: NaiveDateTime,
) -> diesel::QueryResult<Vec<Option<Reserve>>> {
    let names: Vec<String> = claims
        .iter()
        .map(|c| c.reservation.as_str().to_owned())
        .collect();
    let orders: Vec<i64> = claims.iter().map(|c| c.order_id.get()).collect();
    let claimed: HashSet<String> = diesel::sql_query(
        "INSERT INTO reservations (reservation, order_id, released, created_at, updated_at) \
         SELECT r, o, false, $3, $3 FROM unnest($1, $2) AS t(r, o) \
         ON CONFLICT (reservation) DO NOTHING RETURNING reservation",
    )
    .bind::<Array<Text>, _>(&names)
    .bind::<Array<BigInt>, _>(&orders)
    .bind::<Timestamp, _>(now)
    .load::<Claimed>(conn)
    .await?
    .into_iter()
    .map(|c| c.reservation)
    .collect();
    let ids: Vec<i64> = claims
        .iter()
        .filter(|c| claimed.contains(c.reservation.as_str()))
        .flat_map(|c| c.lines.iter().map(|l| l.product_id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Locked in id order (the sort comes before the lock).
    let mut products: HashMap<i64, Locked> = diesel::sql_query(
        "SELECT id, stock, hidden FROM products WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .load::<Locked>(conn)
    .await?
    .into_iter()
    .map(|p| (p.id, p))
    .collect();
    let mut outcomes = Vec::with_capacity(claims.len());
    let mut refused = Vec::new();
    let mut taken: BTreeMap<i64, i64> = BTreeMap::new();
    let (mut line_names, mut line_ids, mut line_qtys) = (Vec::new(), Vec::new(), Vec::new());
    for claim in claims {
        let name = claim.reservation.as_str();
        if !claimed.contains(name) {
            outcomes.push(None);
            continue;
        }
        let on_hand = |id: i64| match products.get(&id) {
            None => OnHand::OffSale,
            Some(p) if p.hidden => OnHand::OffSale,
            Some(p) => p.stock.map_or(OnHand::Untracked, OnHand::Tracked),
        };
        let outcome = judge(&claim.lines, on_hand);
        if let Reserve::Reserved(lines) = &outcome {
            for line in lines {
                if let Some(Some(stock)) = products.get_mut(&line.product_id).map(|p| &mut p.stock)
                {
                    *stock -= line.qty;
                    *taken.entry(line.product_id).or_default() += line.qty;
                }
                line_names.push(name.to_owned());
                line_ids.push(line.product_id);
                line_qtys.push(line.qty);
            }
        } else {
            refused.push(name.to_owned());
        }
        outcomes.push(Some(outcome));
    }
    if !refused.is_empty() {
        diesel::sql_query("DELETE FROM reservations WHERE reservation = ANY($1)")
            .bind::<Array<Text>, _>(&refused)
            .execute(conn)
            .await?;
    }
    if !taken.is_empty() {
        let (ids, qtys): (Vec<i64>, Vec<i64>) = taken.into_iter().unzip();
        diesel::sql_query(
            "UPDATE products SET stock = products.stock - d.qty \
             FROM unnest($1, $2) AS d(id, qty) WHERE products.id = d.id",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<BigInt>, _>(&qtys)
        .execute(conn)
        .await?;
    }
    if !line_names.is_empty() {
        diesel::sql_query(
            "INSERT INTO reservation_lines (reservation, product_id, qty) \
             SELECT * FROM unnest($1, $2, $3)",
        )
        .bind::<Array<Text>, _>(&line_names)
        .bind::<Array<BigInt>, _>(&line_ids)
        .bind::<Array<BigInt>, _>(&line_qtys)
        .execute(conn)
        .await?;
    }
    Ok(outcomes)
}
