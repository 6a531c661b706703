//! The table behind `Idempotency-Key`: one row per caller and key, claimed by
//! one insert (the primary key makes it atomic across replicas), answered or
//! deleted, and swept once past its day (`crate::retention`).

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::QueryResult;
use diesel_async::RunQueryDsl;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// How long an answer is kept (then swept: `crate::retention`).
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        fingerprint -> Binary,
        status -> Nullable<Integer>,
        body -> Nullable<Binary>,
        created_at -> Timestamp,
        owner -> Text,
        headers -> Nullable<Text>,
    }
}

diesel::table! {
    /// Keys made per owner and hour, kept by a trigger on `idempotency_keys`
    /// and never counted down: an upper bound of an owner's live keys.
    idempotency_owner_keys (owner, hour) {
        owner -> Text,
        hour -> Timestamp,
        keys -> BigInt,
    }
}

diesel::table! {
    idempotency_secret (id) {
        id -> Integer,
        secret -> Binary,
    }
}

/// A kept answer: status, body, and the headers replayed with it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Kept {
    /// A JSON answer with no other header to replay.
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            headers: vec![("content-type".into(), "application/json".into())],
        }
    }
}

/// What the key holds when a request arrives with it.
pub(super) enum Claim {
    /// This request holds the key (its claim's time names it): it runs.
    Mine(NaiveDateTime),
    /// The key was used with another request.
    Reused,
    /// The first request with the key is still running.
    Running,
    /// The first request's answer.
    Answered(Kept),
    /// The caller holds its cap of live keys; one frees in this many seconds.
    Full { retry_after: u64 },
}

/// Who a claim is and whose cap it counts against.
pub(super) struct Claimant<'a> {
    pub caller: &'a str,
    pub key: &'a str,
    pub owner: &'a str,
    pub cap: i64,
}

type Row = (
    Vec<u8>,
    Option<i32>,
    Option<Vec<u8>>,
    NaiveDateTime,
    Option<String>,
);

/// Now, to the microsecond: what PostgreSQL keeps of a timestamp, so that a
/// claim's time read back equals the one its request holds.
pub(super) fn now() -> NaiveDateTime {
    use chrono::Timelike;
    let now = Utc::now().naive_utc();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

fn ago(d: Duration) -> NaiveDateTime {
    now() - chrono::Duration::from_std(d).unwrap_or_default()
}

/// The first hour an owner's bound sums for its keys made at `since` or
/// later: the hour before `since`'s own, so that the bound is never short,
/// whatever text a backend keeps for an hour.
fn first_hour(since: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    let hour = since
        .date()
        .and_hms_opt(since.hour(), 0, 0)
        .unwrap_or(since);
    hour - chrono::Duration::hours(1)
}

/// What a row found for a key says to a request with fingerprint `print`:
/// `None` when the row is past its day or was abandoned (whoever comes next
/// takes it over), else the request's answer.
fn judge(
    (first_print, status, body, created_at, headers): Row,
    print: &[u8],
    abandoned_after: Duration,
) -> Option<Claim> {
    let expired = created_at < ago(KEEP_FOR);
    let abandoned = status.is_none() && created_at < ago(abandoned_after);
    if expired || abandoned {
        return None;
    }
    if first_print != print {
        return Some(Claim::Reused);
    }
    Some(match status {
        Some(status) => Claim::Answered(Kept {
            status: u16::try_from(status).unwrap_or(200),
            body: body.unwrap_or_default(),
            headers: headers
                .and_then(|h| serde_json::from_str(&h).ok())
                .unwrap_or_default(),
        }),
        None => Claim::Running,
    })
}

/// What the key holds for a request whose fingerprint is `print`, read only:
/// `None` when nothing live (the request's own transaction claims it).
pub(super) async fn look(
    db: &Db,
    who: &Claimant<'_>,
    print: &[u8],
    abandoned_after: Duration,
) -> ApiResult<Option<Claim>> {
    Ok(row_of(db, who)
        .await?
        .and_then(|row| judge(row, print, abandoned_after)))
}

/// `who`'s key as it stands, read on the reader.
async fn row_of(db: &Db, who: &Claimant<'_>) -> ApiResult<Option<Row>> {
    use idempotency_keys::dsl as k;
    crate::with_conn!(db.reader(), |conn| {
        k::idempotency_keys
            .find((who.caller, who.key))
            .select((
                k::fingerprint,
                k::status,
                k::body,
                k::created_at,
                k::headers,
            ))
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Claims `who`'s key for a request whose fingerprint is `print`, or says
/// what the key holds. A claim with no answer older than `abandoned_after`
/// was left by a process that died, and is taken over.
///
/// Looking and counting read (on SQLite, beside the single writer); only a
/// new claim writes, so a caller at its cap or replaying costs no write.
pub(super) async fn claim(
    db: &Db,
    who: &Claimant<'_>,
    print: &[u8],
    abandoned_after: Duration,
) -> ApiResult<Claim> {
    use idempotency_keys::dsl as k;
    for _ in 0..3 {
        let row = row_of(db, who).await?;
        if let Some(row) = row {
            let created_at = row.3;
            if let Some(claim) = judge(row, print, abandoned_after) {
                return Ok(claim);
            }
            // Past its day or abandoned: only the row we looked at goes, so
            // a replica that took it over first wins.
            crate::with_conn!(db, |conn| {
                diesel::delete(
                    k::idempotency_keys
                        .find((who.caller, who.key))
                        .filter(k::created_at.eq(created_at)),
                )
                .execute(conn)
                .await
                .map_err(ApiError::from)
            })?;
            continue;
        }
        if let Some(retry_after) = full(db, who, 0).await? {
            return Ok(Claim::Full { retry_after });
        }
        let at = now();
        let inserted = crate::with_conn!(db, |conn| {
            diesel::insert_into(k::idempotency_keys)
                .values((
                    k::caller.eq(who.caller),
                    k::key.eq(who.key),
                    k::fingerprint.eq(print),
                    k::created_at.eq(at),
                    k::owner.eq(who.owner),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(ApiError::from)
        })?;
        if inserted == 0 {
            continue; // a duplicate claimed it first: look again
        }
        return Ok(Claim::Mine(at));
    }
    Err(ApiError::Unavailable("The database"))
}

/// The seconds until a key frees when `who.owner` holds `who.cap + ours` live keys or more
/// (`ours`: 1 when its own new claim is among them). Counted again after a
/// claim, with it, claims racing past the first count can only make each
/// other give way, never pass the cap together.
pub(super) async fn full(db: &Db, who: &Claimant<'_>, ours: i64) -> ApiResult<Option<u64>> {
    use idempotency_keys::dsl as k;
    let since = ago(KEEP_FOR);
    let live = || {
        k::idempotency_keys
            .filter(k::owner.eq(who.owner))
            .filter(k::created_at.ge(since))
    };
    // The owner's hours first (a few rows); its keys are counted only when
    // they might be at the cap.
    let bound: i64 = crate::with_conn!(db.reader(), |conn| {
        conn.key_bounds(vec![who.owner.to_owned()], since)
            .await
            .map_err(ApiError::from)
    })?
    .into_iter()
    .next()
    .map_or(0, |(_, keys)| keys);
    if bound < who.cap + ours {
        return Ok(None);
    }
    let count: i64 = crate::with_conn!(db.reader(), |conn| {
        live()
            .count()
            .get_result(conn)
            .await
            .map_err(ApiError::from)
    })?;
    if count < who.cap + ours {
        return Ok(None);
    }
    let oldest: Option<NaiveDateTime> = crate::with_conn!(db.reader(), |conn| {
        live()
            .order(k::created_at)
            .select(k::created_at)
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })?;
    Ok(Some(frees_in(oldest)))
}

/// The seconds until a key whose oldest live key is `oldest` frees one.
pub(super) fn frees_in(oldest: Option<NaiveDateTime>) -> u64 {
    let keep_for = chrono::Duration::from_std(KEEP_FOR).unwrap_or_default();
    let frees_in = oldest.map_or(1, |oldest| (oldest + keep_for - now()).num_seconds());
    u64::try_from(frees_in.max(1)).unwrap_or(1)
}

/// A key's row as a transaction that claims keys reads it.
#[derive(Debug, Queryable, QueryableByName)]
#[diesel(table_name = idempotency_keys)]
pub struct KeyRow {
    pub caller: String,
    pub key: String,
    pub fingerprint: Vec<u8>,
    pub status: Option<i32>,
    pub body: Option<Vec<u8>>,
    pub created_at: NaiveDateTime,
    pub headers: Option<String>,
}

impl KeyRow {
    /// What the row says to a request with fingerprint `print` (`None`:
    /// nothing live, the row is taken over).
    pub(super) fn judge(self, print: &[u8], abandoned_after: Duration) -> Option<Claim> {
        let row = (
            self.fingerprint,
            self.status,
            self.body,
            self.created_at,
            self.headers,
        );
        judge(row, print, abandoned_after)
    }
}

/// A claim written with its answer, in the transaction that did the work.
#[derive(Debug, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct Answered {
    pub caller: String,
    pub key: String,
    pub fingerprint: Vec<u8>,
    pub status: i32,
    pub body: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub owner: String,
    pub headers: String,
}

/// The statements of [`in_tx`](super::in_tx), for either connection inside
/// a transaction of the caller's.
pub trait KeyStore: AddAnswered + ReadKeys {
    /// Deletes the row of a key made at `created_at` (taken over).
    fn drop_key(
        &mut self,
        caller: String,
        key: String,
        created_at: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<usize>> + Send;

    /// At least as many as the keys made at `since` or later each of
    /// `owners` holds, from its hours (`idempotency_owner_keys`): a few rows
    /// an owner, where [`live_keys`](Self::live_keys) counts every key. An
    /// owner with no key may be missing.
    fn key_bounds(
        &mut self,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<Vec<(String, i64)>>> + Send;

    /// How many keys made at `since` or later each of `owners` holds (an
    /// owner with none is missing).
    fn live_keys(
        &mut self,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<Vec<(String, i64)>>> + Send;

    /// When `owner`'s oldest key made at `since` or later was made.
    fn oldest_key(
        &mut self,
        owner: String,
        since: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<Option<NaiveDateTime>>> + Send;

    /// Answers the unanswered claim of `caller`'s `key` made at `at`.
    fn answer_claim(
        &mut self,
        caller: String,
        key: String,
        at: NaiveDateTime,
        status: i32,
        body: Vec<u8>,
        headers: String,
    ) -> impl std::future::Future<Output = QueryResult<usize>> + Send;
}

/// Writes claims with their answers, in a transaction that claimed their
/// keys: how many were written, fewer when a key was claimed meanwhile
/// outside the transaction (which the caller then rolls back and runs
/// again). A key already there stays as it is. On PostgreSQL one plain
/// insert, whose unique violation fails the transaction (answered 0): most
/// batches meet no conflict, and `ON CONFLICT DO NOTHING` would probe the
/// primary key for each row before inserting it. SQLite has no many-row
/// insert that skips conflicts in diesel: one a row (in process).
pub trait AddAnswered {
    fn add_answered(
        &mut self,
        rows: Vec<Answered>,
    ) -> impl std::future::Future<Output = QueryResult<usize>> + Send;
}

impl AddAnswered for crate::db::PgConn {
    async fn add_answered(&mut self, rows: Vec<Answered>) -> QueryResult<usize> {
        use diesel::result::{DatabaseErrorKind, Error};
        match pg::InsertAnswered::of(rows).execute(self).await {
            Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(0),
            other => other,
        }
    }
}

impl AddAnswered for crate::db::SqliteConn {
    async fn add_answered(&mut self, rows: Vec<Answered>) -> QueryResult<usize> {
        let mut added = 0;
        for row in rows {
            added += diesel::insert_into(idempotency_keys::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(self)
                .await?;
        }
        Ok(added)
    }
}

/// PostgreSQL's insert of a batch's kept answers: one text whatever the
/// batch's size (its rows travel as arrays), so that the connection keeps it
/// prepared, where diesel prepares a many-row insert anew each time.
mod pg {
    use chrono::NaiveDateTime;
    use diesel::pg::Pg;
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::sql_types::{Array, BigInt, Binary, Integer, Nullable, Text, Timestamp};
    use diesel::QueryResult;
    use diesel::QueryableByName;

    use super::Answered;

    /// Claims with their answers (a key already there fails it).
    #[derive(Default, QueryId)]
    pub struct InsertAnswered {
        caller: Vec<String>,
        key: Vec<String>,
        fingerprint: Vec<Vec<u8>>,
        status: Vec<i32>,
        body: Vec<Vec<u8>>,
        created_at: Vec<NaiveDateTime>,
        owner: Vec<String>,
        headers: Vec<String>,
    }

    impl InsertAnswered {
        pub fn of(rows: Vec<Answered>) -> Self {
            let mut this = Self::default();
            for row in rows {
                this.caller.push(row.caller);
                this.key.push(row.key);
                this.fingerprint.push(row.fingerprint);
                this.status.push(row.status);
                this.body.push(row.body);
                this.created_at.push(row.created_at);
                this.owner.push(row.owner);
                this.headers.push(row.headers);
            }
            this
        }
    }

    impl QueryFragment<Pg> for InsertAnswered {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            out.push_sql(
                "INSERT INTO idempotency_keys \
                 (caller, key, fingerprint, status, body, created_at, owner, headers) \
                 SELECT * FROM unnest(",
            );
            out.push_bind_param::<Array<Text>, _>(&self.caller)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(&self.key)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Binary>, _>(&self.fingerprint)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Integer>, _>(&self.status)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Binary>, _>(&self.body)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Timestamp>, _>(&self.created_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(&self.owner)?;
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(&self.headers)?;
            out.push_sql(")");
            Ok(())
        }
    }

    /// The rows of keys `keys[i]` of `callers[i]`, then one row per owner
    /// of `owners` with keys in its hours from `hour` on: the owner in
    /// `caller`, the sum in `bound` (`NULL` on a key's row).
    ///
    /// Prepared once per connection like the insert, and planned once: each
    /// pair and each owner drives a lookup (fenced by `OFFSET 0`, so that
    /// it is not flattened into a join the planner may hash) with only the
    /// primary key to use, so the plan is right whatever the table held
    /// when it was made. (A semi-join of the pairs, planned while the table
    /// was empty, kept scanning all of it.) The lists travel as JSON arrays,
    /// not SQL arrays: PostgreSQL sizes an array parameter's `unnest` from
    /// its value when it plans for the values, so a plan for a batch's
    /// actual length always looked cheaper than the one kept for any
    /// length, and the statement was planned again on every batch (a third
    /// of what a key cost the database). A JSON array's length is unknown
    /// either way, so the plan kept wins after PostgreSQL's five trials.
    #[derive(QueryId)]
    pub struct KeysAndBounds {
        /// JSON arrays of strings.
        pub callers: String,
        pub keys: String,
        pub owners: String,
        pub hour: NaiveDateTime,
    }

    /// A row of [`KeysAndBounds`]: a key's row, or an owner's bound (its
    /// owner in `key_row.caller`).
    #[derive(QueryableByName)]
    pub struct KeyOrBound {
        #[diesel(embed)]
        pub key_row: super::KeyRow,
        #[diesel(sql_type = Nullable<BigInt>)]
        pub bound: Option<i64>,
    }

    impl diesel::query_builder::Query for KeysAndBounds {
        type SqlType = diesel::sql_types::Untyped;
    }

    impl QueryFragment<Pg> for KeysAndBounds {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
            out.push_sql(
                "SELECT k.caller, k.key, k.fingerprint, k.status, k.body, k.created_at, \
                 k.headers, NULL::bigint AS bound \
                 FROM ROWS FROM (jsonb_array_elements_text(",
            );
            out.push_bind_param::<Text, _>(&self.callers)?;
            out.push_sql("::jsonb), jsonb_array_elements_text(");
            out.push_bind_param::<Text, _>(&self.keys)?;
            out.push_sql(
                "::jsonb)) AS wanted (caller, key), LATERAL (SELECT * FROM idempotency_keys i \
                 WHERE i.caller = wanted.caller AND i.key = wanted.key OFFSET 0) k \
                 UNION ALL SELECT o.owner, '', ''::bytea, NULL, NULL, ",
            );
            out.push_bind_param::<Timestamp, _>(&self.hour)?;
            out.push_sql(", NULL, b.bound FROM jsonb_array_elements_text(");
            out.push_bind_param::<Text, _>(&self.owners)?;
            out.push_sql(
                "::jsonb) AS o (owner), LATERAL (SELECT sum(h.keys)::bigint AS bound \
                 FROM idempotency_owner_keys h WHERE h.owner = o.owner AND h.hour >= ",
            );
            out.push_bind_param::<Timestamp, _>(&self.hour)?;
            out.push_sql(" OFFSET 0) b WHERE b.bound IS NOT NULL");
            Ok(())
        }
    }
}

/// What [`ReadKeys::read_keys`] found: the keys' rows, and each owner's bound.
pub type KeysRead = (Vec<KeyRow>, Vec<(String, i64)>);

/// Reads the rows of keys (`keys[i]` of `callers[i]`) and the bounds of
/// `owners`' live keys made at `since` or later (as
/// [`KeyStore::key_bounds`]). PostgreSQL looks each pair up in the primary
/// key (a list of callers and one of keys would probe every caller with
/// every key: a batch's square), and reads both in one prepared statement;
/// SQLite, in process, reads the lists.
pub trait ReadKeys {
    fn read_keys(
        &mut self,
        callers: Vec<String>,
        keys: Vec<String>,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<KeysRead>> + Send;
}

impl ReadKeys for crate::db::PgConn {
    async fn read_keys(
        &mut self,
        callers: Vec<String>,
        keys: Vec<String>,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> QueryResult<KeysRead> {
        let json = |list: Vec<String>| serde_json::to_string(&list).unwrap_or_default();
        let read = pg::KeysAndBounds {
            callers: json(callers),
            keys: json(keys),
            owners: json(owners),
            hour: first_hour(since),
        };
        let mut rows = Vec::new();
        let mut bounds = Vec::new();
        for row in read.load::<pg::KeyOrBound>(self).await? {
            match row.bound {
                Some(bound) => bounds.push((row.key_row.caller, bound)),
                None => rows.push(row.key_row),
            }
        }
        Ok((rows, bounds))
    }
}

impl ReadKeys for crate::db::SqliteConn {
    async fn read_keys(
        &mut self,
        callers: Vec<String>,
        keys: Vec<String>,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> QueryResult<KeysRead> {
        use idempotency_keys::dsl as k;
        let rows = k::idempotency_keys
            .filter(k::caller.eq_any(callers))
            .filter(k::key.eq_any(keys))
            .select((
                k::caller,
                k::key,
                k::fingerprint,
                k::status,
                k::body,
                k::created_at,
                k::headers,
            ))
            .load(self)
            .await?;
        Ok((rows, self.key_bounds(owners, since).await?))
    }
}

crate::with_conn!(impl KeyStore for each connection {
    async fn drop_key(
        &mut self,
        caller: String,
        key: String,
        created_at: NaiveDateTime,
    ) -> QueryResult<usize> {
        use idempotency_keys::dsl as k;
        diesel::delete(
            k::idempotency_keys
                .find((caller, key))
                .filter(k::created_at.eq(created_at)),
        )
        .execute(self)
        .await
    }

    async fn key_bounds(
        &mut self,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> QueryResult<Vec<(String, i64)>> {
        use idempotency_owner_keys::dsl as o;
        let hours: Vec<(String, i64)> = o::idempotency_owner_keys
            .filter(o::owner.eq_any(owners))
            .filter(o::hour.ge(first_hour(since)))
            .select((o::owner, o::keys))
            .load(self)
            .await?;
        let mut sums: Vec<(String, i64)> = Vec::new();
        for (owner, keys) in hours {
            match sums.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, sum)) => *sum += keys,
                None => sums.push((owner, keys)),
            }
        }
        Ok(sums)
    }

    async fn live_keys(
        &mut self,
        owners: Vec<String>,
        since: NaiveDateTime,
    ) -> QueryResult<Vec<(String, i64)>> {
        use idempotency_keys::dsl as k;
        k::idempotency_keys
            .filter(k::owner.eq_any(owners))
            .filter(k::created_at.ge(since))
            .group_by(k::owner)
            .select((k::owner, diesel::dsl::count_star()))
            .load(self)
            .await
    }

    async fn oldest_key(
        &mut self,
        owner: String,
        since: NaiveDateTime,
    ) -> QueryResult<Option<NaiveDateTime>> {
        use idempotency_keys::dsl as k;
        k::idempotency_keys
            .filter(k::owner.eq(owner))
            .filter(k::created_at.ge(since))
            .order(k::created_at)
            .select(k::created_at)
            .first(self)
            .await
            .optional()
    }

    async fn answer_claim(
        &mut self,
        caller: String,
        key: String,
        at: NaiveDateTime,
        status: i32,
        body: Vec<u8>,
        headers: String,
    ) -> QueryResult<usize> {
        use idempotency_keys::dsl as k;
        diesel::update(
            k::idempotency_keys
                .find((caller, key))
                .filter(k::created_at.eq(at))
                .filter(k::status.is_null()),
        )
        .set((
            k::status.eq(Some(status)),
            k::body.eq(Some(body)),
            k::headers.eq(Some(headers)),
        ))
        .execute(self)
        .await
    }
});

/// Stores the answer of the claim made at `at`.
pub(super) async fn keep(
    db: &Db,
    caller: &str,
    key: &str,
    at: NaiveDateTime,
    kept: &Kept,
) -> ApiResult<()> {
    use idempotency_keys::dsl as k;
    let headers = serde_json::to_string(&kept.headers).unwrap_or_default();
    crate::with_conn!(db, |conn| {
        diesel::update(
            k::idempotency_keys
                .find((caller, key))
                .filter(k::created_at.eq(at)),
        )
        .set((
            k::status.eq(Some(i32::from(kept.status))),
            k::body.eq(Some(&kept.body)),
            k::headers.eq(Some(headers)),
        ))
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(ApiError::from)
    })
}

/// Deletes the unanswered claim made at `at` (and nothing another request
/// took over or answered since).
pub(super) async fn release(db: &Db, caller: &str, key: &str, at: NaiveDateTime) -> ApiResult<()> {
    use idempotency_keys::dsl as k;
    crate::with_conn!(db, |conn| {
        diesel::delete(
            k::idempotency_keys
                .find((caller, key))
                .filter(k::created_at.eq(at))
                .filter(k::status.is_null()),
        )
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(ApiError::from)
    })
}

/// The secret of this database: made once by whichever replica starts
/// first, then read by all.
pub(super) async fn database_secret(db: &Db) -> ApiResult<Vec<u8>> {
    use idempotency_secret::dsl as s;
    let fresh: [u8; 32] = rand::random();
    crate::with_conn!(db, |conn| {
        diesel::insert_into(s::idempotency_secret)
            .values((s::id.eq(1), s::secret.eq(&fresh[..])))
            .on_conflict_do_nothing()
            .execute(conn)
            .await
            .map_err(ApiError::from)?;
        s::idempotency_secret
            .find(1)
            .select(s::secret)
            .first(conn)
            .await
            .map_err(ApiError::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = crate::db::DbConfig {
            url: format!("sqlite://{}", dir.path().join("sweep.db").display()),
            migration_url: None,
            statement_cache: true,
            pool_size: 1,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
            sqlite_readers: 1,
            sqlite_synchronous: "NORMAL",
        };
        let db = Db::connect(&config, crate::db::COMMON)
            .await
            .expect("database");
        (dir, db)
    }

    async fn add(db: &Db, key: &str, created_at: NaiveDateTime) {
        use idempotency_keys::dsl as k;
        let added = async {
            crate::with_conn!(db, |conn| {
                diesel::insert_into(k::idempotency_keys)
                    .values((
                        k::caller.eq("user:1"),
                        k::key.eq(key),
                        k::fingerprint.eq(&b"print"[..]),
                        k::status.eq(Some(200)),
                        k::created_at.eq(created_at),
                        k::owner.eq("user:1"),
                    ))
                    .execute(conn)
                    .await
                    .map_err(ApiError::from)
            })
        };
        let added: ApiResult<usize> = added.await;
        added.expect("insert");
    }

    async fn left(db: &Db) -> i64 {
        use idempotency_keys::dsl as k;
        let count = async {
            crate::with_conn!(db, |conn| {
                k::idempotency_keys
                    .count()
                    .get_result(conn)
                    .await
                    .map_err(ApiError::from)
            })
        };
        let count: ApiResult<i64> = count.await;
        count.expect("count")
    }

    #[tokio::test]
    async fn the_sweep_deletes_rows_past_their_day_a_batch_at_a_time() {
        let (_dir, db) = sqlite().await;
        let day_ago = ago(KEEP_FOR);
        for n in 0..1_200 {
            add(
                &db,
                &format!("old-{n}"),
                day_ago - chrono::Duration::seconds(n),
            )
            .await;
        }
        for n in 0..3 {
            add(&db, &format!("live-{n}"), now()).await;
        }
        use crate::retention::{sweep, sweep_batch, IDEMPOTENCY_KEYS};
        let rule = &IDEMPOTENCY_KEYS;
        assert_eq!(
            sweep_batch(&db, rule, now()).await.expect("batch"),
            500,
            "one batch"
        );
        assert_eq!(left(&db).await, 703);
        assert_eq!(sweep(&db, rule, now()).await.expect("sweep"), 700);
        assert_eq!(left(&db).await, 3, "the live keys stay");
        assert_eq!(sweep(&db, rule, now()).await.expect("sweep"), 0);
    }

    #[tokio::test]
    async fn the_database_secret_is_made_once() {
        let (_dir, db) = sqlite().await;
        let first = database_secret(&db).await.expect("secret");
        assert_eq!(first.len(), 32);
        assert_eq!(database_secret(&db).await.expect("secret"), first);
    }
}
