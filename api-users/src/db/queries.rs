//! Every query of the users service, each written once for both backends.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::db::unique_violation;
use server::{with_conn, ApiError, ApiResult, Db, Page};

use super::models::{NewToken, NewUserRow, UserRow};
use super::schema::{login_failures, tokens, users};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Inserts a user; the unique indexes on lower(username) and lower(email) make
/// a concurrent duplicate a 409, never a second row. When both are taken the
/// username is reported, whichever index the database happened to check first.
pub async fn insert_user(db: &Db, row: NewUserRow<'_>) -> ApiResult<UserRow> {
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
        Ok(user) => Ok(user),
        Err(e) if unique_violation(&e).is_some() => {
            if find_by_username(db, row.username).await?.is_some() {
                Err(ApiError::conflict(
                    "username_taken",
                    "This username is taken",
                ))
            } else {
                Err(ApiError::conflict(
                    "email_taken",
                    "This email is already registered",
                ))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The user of that name, whatever its case.
pub async fn find_by_username(db: &Db, username: &str) -> ApiResult<Option<UserRow>> {
    with_conn!(db, |conn| {
        users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .select(UserRow::as_select())
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Stores a new token's hash; expired tokens of the same user are swept on the way.
pub async fn insert_token(db: &Db, hash: &[u8], user_id: i64, ttl: Duration) -> ApiResult<()> {
    let now = now();
    let row = NewToken {
        token_hash: hash,
        user_id,
        created_at: now,
        expires_at: now + ttl,
    };
    with_conn!(db, |conn| {
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
        Ok(())
    })
}

/// The owner of a live (known, unexpired) token.
pub async fn user_for_token(db: &Db, hash: &[u8]) -> ApiResult<Option<UserRow>> {
    with_conn!(db, |conn| {
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
    with_conn!(db, |conn| {
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

/// Failed logins of `key` in the current window: (count, window start).
pub async fn login_failures(db: &Db, key: &str) -> ApiResult<Option<(i32, NaiveDateTime)>> {
    with_conn!(db, |conn| {
        login_failures::table
            .find(key)
            .select((login_failures::failures, login_failures::window_start))
            .first(conn)
            .await
            .optional()
            .map_err(ApiError::from)
    })
}

/// Counts one failed login of `key`, starting a new window if the last one is over.
/// One upsert per step, so replicas sharing the database count together.
pub async fn record_login_failure(db: &Db, key: &str, window: Duration) -> ApiResult<()> {
    let now = now();
    with_conn!(db, |conn| {
        diesel::update(
            login_failures::table
                .find(key)
                .filter(login_failures::window_start.le(now - window)),
        )
        .set((
            login_failures::failures.eq(0),
            login_failures::window_start.eq(now),
        ))
        .execute(conn)
        .await?;
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::username.eq(key),
                login_failures::failures.eq(1),
                login_failures::window_start.eq(now),
            ))
            .on_conflict(login_failures::username)
            .do_update()
            .set(login_failures::failures.eq(login_failures::failures + 1))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Forgets the failed logins of `key` (after a successful login).
pub async fn clear_login_failures(db: &Db, key: &str) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::delete(login_failures::table.find(key))
            .execute(conn)
            .await?;
        Ok(())
    })
}
