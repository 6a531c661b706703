//! The orders service's building blocks in the database, written once and
//! compiled for each backend's connection type, so that the transactions of
//! the cart (`crate::cart`), the checkout and the lifecycle can compose them
//! on whichever connection `with_conn!` hands out.
//!
//! [`CartLock`] is what makes cart changes exact across replicas; why it is
//! needed beside the group commit and the constraints is told in
//! `crate::cart`. It is [`LockKey`] (`server::db`, shared with the users
//! service: PostgreSQL advisory transaction locks on the users' ids, taken in
//! ascending order; a no-op on SQLite, whose single writing connection
//! already serializes a process) plus, on SQLite only, a first write, so that
//! several processes on one file queue on SQLite's write lock at the start
//! instead of failing to upgrade a read snapshot later. That SQLite step is
//! the orders service's own, hence a trait here rather than in `server`.
//!
//! [`Store`] is implemented for both connection types at once by
//! `server::with_conn!(impl Store for each connection ..)`: a diesel-async
//! body generic over the connection needs a `where` clause per statement
//! shape (`QueryFragment`, `QueryId`, `LoadQuery`, the upsert's backend
//! support, ...), longer than the queries themselves; the macro keeps one
//! text of each query and the compiler checks it against both backends. The
//! trait, rather than free functions, lets the cart's batch, the checkout's
//! steps and the lifecycle's changes call the steps on either connection.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel::QueryResult;
use diesel_async::RunQueryDsl;
use server::db::{LockKey, PgConn, SqliteConn};
use server::Page;

use super::models::{AttemptRow, EventRow, ItemRow, NewEffect, OrderRow};
use super::schema::{order_events, order_items, orders, outbox, payment_attempts};

/// Serializes the cart transactions of a user, across every process sharing
/// the database. Called first in each transaction that changes a cart.
pub trait CartLock {
    /// The carts of `user_ids`, locked in ascending order of id (as every
    /// transaction that locks several does, so none wait on each other in a cycle).
    fn lock_carts(
        &mut self,
        user_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    fn lock_cart(
        &mut self,
        user_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send {
        self.lock_carts(vec![user_id])
    }
}

impl CartLock for PgConn {
    /// Transaction-scoped advisory locks on the users' ids: replicas queue on them.
    async fn lock_carts(&mut self, user_ids: Vec<i64>) -> QueryResult<()> {
        self.lock_keys(user_ids).await
    }
}

impl CartLock for SqliteConn {
    /// One connection per process already serializes this process. Writing
    /// first takes the file's write lock at the start of the transaction (waiting
    /// on `busy_timeout`), so a second process on the same file queues here too
    /// instead of failing to upgrade a read snapshot later in the transaction.
    async fn lock_carts(&mut self, user_ids: Vec<i64>) -> QueryResult<()> {
        self.lock_keys(user_ids.clone()).await?;
        diesel::update(orders::table.filter(orders::open_user_id.eq_any(user_ids)))
            .set(orders::is_open.eq(orders::is_open))
            .execute(self)
            .await
            .map(|_| ())
    }
}

/// Reads and writes of orders and their lines.
pub trait Store {
    /// The user's cart, opened if there is none. The unique `open_user_id`
    /// makes a concurrent second opening a no-op rather than a second cart.
    fn open_cart(
        &mut self,
        user_id: i64,
        now: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<OrderRow>> + Send;

    /// The carts of `user_ids` that exist.
    fn carts_of(
        &mut self,
        user_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<Vec<OrderRow>>> + Send;

    /// The user's cart, if any.
    fn find_cart(
        &mut self,
        user_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<Option<OrderRow>>> + Send;

    /// The lines of these orders, by order then product.
    fn items_of(
        &mut self,
        order_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<Vec<ItemRow>>> + Send;

    /// Writes the line as it is: created, or its name, price and quantity replaced.
    fn save_line(
        &mut self,
        line: ItemRow,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    /// Deletes the lines of `product_ids` from the order.
    fn remove_lines(
        &mut self,
        order_id: i64,
        product_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    /// A page of orders, newest first, of one user or of everyone, in any of
    /// `statuses` (`None`: any), leaving out an empty cart; and how many match.
    fn history(
        &mut self,
        user_id: Option<i64>,
        statuses: Option<Vec<String>>,
        page: Page,
    ) -> impl std::future::Future<Output = QueryResult<(Vec<OrderRow>, i64)>> + Send;

    /// Takes the order's row lock for the rest of the transaction (on SQLite:
    /// the file's write lock), so that changes of one order's status queue;
    /// false when there is no such order.
    fn lock_order(
        &mut self,
        order_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    fn find_order(
        &mut self,
        order_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<Option<OrderRow>>> + Send;

    /// The timelines of these orders, by order then oldest first.
    fn events_of(
        &mut self,
        order_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<Vec<EventRow>>> + Send;

    fn add_event(
        &mut self,
        event: EventRow,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    /// The payment attempts of these orders, by order then oldest first.
    fn attempts_of(
        &mut self,
        order_ids: Vec<i64>,
    ) -> impl std::future::Future<Output = QueryResult<Vec<AttemptRow>>> + Send;

    /// Writes effects to the outbox; one already there (same `dedupe`) stays as it is.
    fn enqueue(
        &mut self,
        effects: Vec<NewEffect>,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;
}

server::with_conn!(impl Store for each connection {
    async fn open_cart(
        &mut self,
        user_id: i64,
        now: NaiveDateTime,
    ) -> QueryResult<OrderRow> {
        diesel::insert_into(orders::table)
            .values((
                orders::user_id.eq(user_id),
                orders::is_open.eq(true),
                orders::open_user_id.eq(Some(user_id)),
                orders::total.eq(0),
                orders::created_at.eq(now),
            ))
            .on_conflict(orders::open_user_id)
            .do_nothing()
            .execute(self)
            .await?;
        orders::table
            .filter(orders::open_user_id.eq(user_id))
            .select(OrderRow::as_select())
            .first(self)
            .await
    }

    async fn carts_of(&mut self, user_ids: Vec<i64>) -> QueryResult<Vec<OrderRow>> {
        orders::table
            .filter(orders::open_user_id.eq_any(user_ids))
            .select(OrderRow::as_select())
            .load(self)
            .await
    }

    async fn find_cart(&mut self, user_id: i64) -> QueryResult<Option<OrderRow>> {
        orders::table
            .filter(orders::open_user_id.eq(user_id))
            .select(OrderRow::as_select())
            .first(self)
            .await
            .optional()
    }

    async fn items_of(&mut self, order_ids: Vec<i64>) -> QueryResult<Vec<ItemRow>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        order_items::table
            .filter(order_items::order_id.eq_any(order_ids))
            .order((order_items::order_id, order_items::product_id))
            .select(ItemRow::as_select())
            .load(self)
            .await
    }

    async fn save_line(&mut self, line: ItemRow) -> QueryResult<()> {
        diesel::insert_into(order_items::table)
            .values(&line)
            .on_conflict((order_items::order_id, order_items::product_id))
            .do_update()
            .set((
                order_items::quantity.eq(excluded(order_items::quantity)),
                order_items::name.eq(excluded(order_items::name)),
                order_items::unit_price.eq(excluded(order_items::unit_price)),
            ))
            .execute(self)
            .await
            .map(|_| ())
    }

    async fn remove_lines(
        &mut self,
        order_id: i64,
        product_ids: Vec<i64>,
    ) -> QueryResult<()> {
        diesel::delete(
            order_items::table
                .filter(order_items::order_id.eq(order_id))
                .filter(order_items::product_id.eq_any(product_ids)),
        )
        .execute(self)
        .await
        .map(|_| ())
    }

    async fn history(
        &mut self,
        user_id: Option<i64>,
        statuses: Option<Vec<String>>,
        page: Page,
    ) -> QueryResult<(Vec<OrderRow>, i64)> {
        // An emptied cart is no order to show (contract v1.1).
        let shown = orders::is_open.eq(false).or(diesel::dsl::exists(
            order_items::table.filter(order_items::order_id.eq(orders::id)),
        ));
        let mut count = orders::table.filter(shown).count().into_boxed();
        let mut rows = orders::table
            .filter(shown)
            .select(OrderRow::as_select())
            .into_boxed();
        if let Some(user_id) = user_id {
            count = count.filter(orders::user_id.eq(user_id));
            rows = rows.filter(orders::user_id.eq(user_id));
        }
        if let Some(statuses) = statuses {
            count = count.filter(orders::status.eq_any(statuses.clone()));
            rows = rows.filter(orders::status.eq_any(statuses));
        }
        let total = count.get_result::<i64>(self).await?;
        let rows = rows
            .order((orders::created_at.desc(), orders::id.desc()))
            .limit(page.limit)
            .offset(page.offset)
            .load(self)
            .await?;
        Ok((rows, total))
    }

    async fn lock_order(&mut self, order_id: i64) -> QueryResult<bool> {
        diesel::update(orders::table.find(order_id))
            .set(orders::status.eq(orders::status))
            .execute(self)
            .await
            .map(|n| n > 0)
    }

    async fn find_order(&mut self, order_id: i64) -> QueryResult<Option<OrderRow>> {
        orders::table
            .find(order_id)
            .select(OrderRow::as_select())
            .first(self)
            .await
            .optional()
    }

    async fn events_of(&mut self, order_ids: Vec<i64>) -> QueryResult<Vec<EventRow>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        order_events::table
            .filter(order_events::order_id.eq_any(order_ids))
            .order((order_events::order_id, order_events::id))
            .select(EventRow::as_select())
            .load(self)
            .await
    }

    async fn add_event(&mut self, event: EventRow) -> QueryResult<()> {
        diesel::insert_into(order_events::table)
            .values(&event)
            .execute(self)
            .await
            .map(|_| ())
    }

    async fn attempts_of(&mut self, order_ids: Vec<i64>) -> QueryResult<Vec<AttemptRow>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        payment_attempts::table
            .filter(payment_attempts::order_id.eq_any(order_ids))
            .order((payment_attempts::order_id, payment_attempts::attempt))
            .select(AttemptRow::as_select())
            .load(self)
            .await
    }

    async fn enqueue(&mut self, effects: Vec<NewEffect>) -> QueryResult<()> {
        for effect in effects {
            diesel::insert_into(outbox::table)
                .values(&effect)
                .on_conflict(outbox::dedupe)
                .do_nothing()
                .execute(self)
                .await?;
        }
        Ok(())
    }
});
