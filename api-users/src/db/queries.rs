//! Every query of the users service, each written once for both backends.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::db::unique_violation;
use server::db::LockKey;
use server::db::PoolRef;
use server::{with_conn, ApiError, ApiResult, Db, Page};

use super::models::{NewToken, NewUserRow, UserRow};
use super::schema::{login_addresses, tokens, users};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// What inserting a user came to.
#[derive(Debug)]
pub enum Registration {
    Added(UserRow),
    UsernameTaken,
    EmailTaken,
}

/// Inserts a user; the unique indexes on lower(username) and lower(email) make
/// a concurrent duplicate a refusal, never a second row. When both are taken
/// the username is reported, whichever index the database happened to check first.
pub async fn insert_user(db: &Db, row: NewUserRow<'_>) -> ApiResult<Registration> {
    let inserted = with_conn!(db, |conn| {
        Ok::<_, ApiError>(
            diesel::insert_into(users::table)
                .values(&row)
                .returning(UserRow::as_returning())
                .get_result(conn)
                .await,
        )
    })?;
    match inserted {
        Ok(user) => Ok(Registration::Added(user)),
        Err(e) if unique_violation(&e).is_some() => {
            if find_by_username(db, row.username).await?.is_some() {
                Ok(Registration::UsernameTaken)
            } else {
                Ok(Registration::EmailTaken)
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The user of that name, whatever its case.
pub async fn find_by_username(db: &Db, username: &str) -> ApiResult<Option<UserRow>> {
    with_conn!(db.reader(), |conn| {
        users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .select(UserRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Stores a new token's hash. Expired tokens of the same user are swept on
/// the way, and the oldest live ones beyond `keep` retired, in one transaction
/// under the user's lock so that parallel logins cannot leave more.
pub async fn insert_token(
    db: &Db,
    hash: &[u8],
    user_id: i64,
    ttl: Duration,
    keep: i64,
) -> ApiResult<()> {
    let now = now();
    let row = NewToken {
        token_hash: hash,
        user_id,
        created_at: now,
        expires_at: now + ttl,
    };
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_key(user_id).await?;
                diesel::delete(
                    tokens::table
                        .filter(tokens::user_id.eq(user_id))
                        .filter(tokens::expires_at.le(now)),
                )
                .execute(conn)
                .await?;
                diesel::insert_into(tokens::table)
                    .values(&row)
                    .execute(conn)
                    .await?;
                let newest: Vec<Vec<u8>> = tokens::table
                    .filter(tokens::user_id.eq(user_id))
                    .order((tokens::created_at.desc(), tokens::token_hash.desc()))
                    .limit(keep)
                    .select(tokens::token_hash)
                    .load(conn)
                    .await?;
                diesel::delete(
                    tokens::table
                        .filter(tokens::user_id.eq(user_id))
                        .filter(tokens::token_hash.ne_all(newest)),
                )
                .execute(conn)
                .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await
    })
}

/// The owner of a live (known, unexpired) token, read `from` the primary or
/// the replica (token checks may lag: `crate::state`).
pub async fn user_for_token(from: PoolRef<'_>, hash: &[u8]) -> ApiResult<Option<UserRow>> {
    with_conn!(from, |conn| {
        tokens::table
            .inner_join(users::table)
            .filter(tokens::token_hash.eq(hash))
            .filter(tokens::expires_at.gt(now()))
            .select(UserRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Revokes a token; true if it was live.
pub async fn delete_token(db: &Db, hash: &[u8]) -> ApiResult<bool> {
    with_conn!(db, |conn| {
        let deleted = diesel::delete(tokens::table.filter(tokens::token_hash.eq(hash)))
            .execute(conn)
            .await?;
        Ok(deleted > 0)
    })
}

/// A page of users by id, and how many there are.
pub async fn list_users(db: &Db, page: Page) -> ApiResult<(Vec<UserRow>, i64)> {
    with_conn!(db.reader(), |conn| {
        let total = users::table.count().get_result::<i64>(conn).await?;
        let rows = users::table
            .order(users::id)
            .limit(page.limit)
            .offset(page.offset)
            .select(UserRow::as_select())
            .load(conn)
            .await?;
        Ok((rows, total))
    })
}

/// Makes a user an admin; false if there is no such user.
pub async fn make_admin(db: &Db, username: &str) -> ApiResult<bool> {
    with_conn!(db, |conn| {
        let updated =
            diesel::update(users::table.filter(lower(users::username).eq(username.to_lowercase())))
                .set(users::is_admin.eq(true))
                .execute(conn)
                .await?;
        Ok(updated > 0)
    })
}

/// Whether `user_id` logged in successfully from `client` since `since`.
pub async fn is_known_address(
    db: &Db,
    user_id: i64,
    client: &str,
    since: NaiveDateTime,
) -> ApiResult<bool> {
    with_conn!(db.reader(), |conn| {
        let found = login_addresses::table
            .find((user_id, client))
            .filter(login_addresses::last_success.gt(since))
            .select(login_addresses::last_success)
            .first::<NaiveDateTime>(conn)
            .await
            .optional()?;
        Ok(found.is_some())
    })
}

/// Records that `user_id` just logged in from `client` (forgotten once no
/// longer known: `super::retention`).
pub async fn remember_address(db: &Db, user_id: i64, client: &str) -> ApiResult<()> {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    let upsert = "INSERT INTO login_addresses (user_id, client, last_success) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, client) DO UPDATE SET last_success = $3";
    with_conn!(db, |conn| {
        diesel::sql_query(upsert)
            .bind::<BigInt, _>(user_id)
            .bind::<Text, _>(client)
            .bind::<Timestamp, _>(now())
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Revokes every token of a user; how many were live.
pub async fn delete_tokens_of(db: &Db, user_id: i64) -> ApiResult<usize> {
    let now = now();
    with_conn!(db, |conn| {
        let live = tokens::table
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::expires_at.gt(now))
            .count()
            .get_result::<i64>(conn)
            .await?;
        diesel::delete(tokens::table.filter(tokens::user_id.eq(user_id)))
            .execute(conn)
            .await?;
        Ok(usize::try_from(live).unwrap_or(0))
    })
}
