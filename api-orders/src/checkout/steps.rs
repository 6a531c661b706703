//! The checkout saga's steps in the database (the whole story is in
//! [the module](super)): record the intent, close, abandon, and the repair
//! loop's claim on attempts that died. Each step is one short transaction and
//! returns what it found; the caller decides what the shopper is told. Every
//! change of `checkout_state` is a conditional update on the state (and the
//! attempt's reservation) that was read, so that of two racing steps (a retry
//! and the repair loop on another replica) exactly one wins.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use rand::Rng;
use server::{with_conn, ApiError, ApiResult, Db};

use crate::config::MailConfig;
use crate::db::models::{lines_total, ItemRow, OrderRow, OrderWithItems};
use crate::db::queries::with_details;
use crate::db::schema::{order_checkouts, orders};
use crate::db::store::{CartLock, Store};
use crate::lifecycle::change::record;
use crate::lifecycle::machine::{decide, Action, Decision};
use shared::{Actor, OrderStatus};

/// The stock is being reserved; the order closes next.
pub const RESERVING: &str = "reserving";
/// The repair loop is returning the stock of an attempt that died.
pub const RELEASING: &str = "releasing";

/// How long a closed order answers a retry of its checkout by its key: the
/// time the idempotency layer keeps answers.
const KEY_REMEMBERED_FOR: chrono::Duration = chrono::Duration::hours(24);

/// What recording a checkout's intent found.
#[derive(Debug)]
pub enum Intent {
    /// The user has no cart.
    NoCart,
    /// The cart has no lines.
    Empty,
    /// The repair loop is undoing an earlier attempt on this cart.
    BeingUndone,
    /// A checkout with this key closed this order already.
    Done(OrderWithItems),
    /// Recorded: reserve the stock of these lines under this reservation,
    /// then close.
    Reserve(OrderWithItems, String),
    /// A new attempt needs the catalogue's prices, and they could not be read.
    PricesUnknown,
    /// Prices went up since these products were added: the cart now holds
    /// the current ones (product id to its new price), nothing was marked.
    PricesChanged(BTreeMap<i64, i64>),
}

/// The catalogue's current prices of a cart's products (those on sale), or
/// `None` when the products service could not be asked.
pub type Prices = Option<HashMap<i64, i64>>;

/// A new attempt's reservation: unique per attempt, whatever happened to
/// this database (an order id can come again after a reset; the random part
/// cannot).
fn new_reservation(order_id: i64) -> String {
    let nonce: u64 = rand::thread_rng().gen();
    format!("o{order_id}-{nonce:016x}")
}

/// Marks the user's cart as being checked out (its lines frozen from now on)
/// under a new reservation, and remembers `key`. A new attempt first
/// re-prices the lines from `prices` (contract v1.3): a drop is charged at the
/// new price; a rise is written to the cart and refused, to be confirmed by
/// checking out again. A cart already marked by an attempt that did not
/// finish goes on with that attempt's reservation and prices: reserving again
/// with the same lines takes nothing more.
pub async fn record_intent(
    db: &Db,
    user_id: i64,
    key: Option<&str>,
    prices: Prices,
    now: NaiveDateTime,
) -> ApiResult<Intent> {
    let key = key.map(str::to_owned);
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                if let Some(key) = &key {
                    let earlier = orders::table
                        .filter(orders::user_id.eq(user_id))
                        .filter(orders::checkout_key.eq(key))
                        .filter(orders::is_open.eq(false))
                        .filter(orders::checked_out_at.gt(now - KEY_REMEMBERED_FOR))
                        .select(OrderRow::as_select())
                        .first(conn)
                        .await
                        .optional()?;
                    if let Some(order) = earlier {
                        let order = with_details(conn, vec![order]).await?.remove(0);
                        return Ok(Intent::Done(order));
                    }
                }
                let Some(order) = conn.find_cart(user_id).await? else {
                    return Ok(Intent::NoCart);
                };
                let mut items = conn.items_of(vec![order.id]).await?;
                let target = orders::table.find(order.id);
                // Conditional on what was read: the repair loop of another
                // replica may claim the attempt between the read and here.
                let (reservation, marked) = match order.checkout_state.as_deref() {
                    Some(RELEASING) => return Ok(Intent::BeingUndone),
                    _ if items.is_empty() => return Ok(Intent::Empty),
                    Some(_) => {
                        let Some(reservation) = order.checkout_reservation.clone() else {
                            return Ok(Intent::BeingUndone);
                        };
                        let marked = diesel::update(
                            target
                                .filter(orders::checkout_state.eq(RESERVING))
                                .filter(orders::checkout_reservation.eq(&reservation)),
                        )
                        .set(orders::checkout_started_at.eq(now))
                        .execute(conn)
                        .await?;
                        (reservation, marked)
                    }
                    None => {
                        let Some(prices) = &prices else {
                            return Ok(Intent::PricesUnknown);
                        };
                        let rose = reprice(conn, &mut items, prices).await?;
                        if !rose.is_empty() {
                            return Ok(Intent::PricesChanged(rose));
                        }
                        let reservation = new_reservation(order.id);
                        let marked =
                            diesel::update(target.filter(orders::checkout_state.is_null()))
                                .set((
                                    orders::checkout_state.eq(RESERVING),
                                    orders::checkout_reservation.eq(&reservation),
                                    orders::checkout_started_at.eq(now),
                                ))
                                .execute(conn)
                                .await?;
                        if marked > 0 {
                            diesel::update(order_checkouts::table.find(order.id))
                                .set(order_checkouts::checkout_begun_at.eq(now))
                                .execute(conn)
                                .await?;
                        }
                        (reservation, marked)
                    }
                };
                if marked == 0 {
                    return Ok(Intent::BeingUndone);
                }
                if let Some(key) = &key {
                    diesel::update(target)
                        .set(orders::checkout_key.eq(key))
                        .execute(conn)
                        .await?;
                }
                Ok(Intent::Reserve(
                    OrderWithItems::new(order, items),
                    reservation,
                ))
            }
            .scope_boxed()
        })
        .await
    })
}

/// Writes the current price into every line whose price changed; the
/// products whose price went up, with their new price.
async fn reprice<C: Store + Send>(
    conn: &mut C,
    items: &mut [ItemRow],
    prices: &HashMap<i64, i64>,
) -> diesel::QueryResult<BTreeMap<i64, i64>> {
    let mut rose = BTreeMap::new();
    for item in items.iter_mut() {
        let Some(&price) = prices.get(&item.product_id) else {
            continue; // off sale: the reservation refuses it, naming it
        };
        if price == item.unit_price {
            continue;
        }
        if price > item.unit_price {
            rose.insert(item.product_id, price);
        }
        item.unit_price = price;
        conn.save_line(item.clone()).await?;
    }
    Ok(rose)
}

/// What closing found.
#[derive(Debug)]
pub enum Closing {
    /// Closed now, its total frozen.
    Closed(OrderWithItems),
    /// Another attempt on this cart (a double click on another replica)
    /// closed it first: the same order, the same answer.
    ClosedAlready(OrderWithItems),
    /// The repair loop took the attempt over: it gives the stock back.
    BeingUndone,
    /// The attempt was ended by another request (a twin that found the
    /// products service unreachable): this reservation is nobody's, and the
    /// caller gives its stock back.
    Abandoned,
}

/// What closing writes on the order beside its total.
#[derive(Debug, Clone)]
pub struct Placing {
    /// The shopper's email, as the users service has it now.
    pub email: Option<String>,
    /// JSON of the validated `shared::ShippingAddress`.
    pub shipping_address: Option<String>,
    /// Payments on: the order awaits payment; off: it is placed.
    pub payments: bool,
}

/// Closes the order whose stock was just reserved under `reservation`: its
/// status becomes `placed` (or `awaiting_payment`), and its first timeline
/// step and emails are written in the same commit.
pub async fn close(
    db: &Db,
    user_id: i64,
    order_id: i64,
    reservation: &str,
    placing: &Placing,
    mail: &MailConfig,
    now: NaiveDateTime,
) -> ApiResult<Closing> {
    let reservation = reservation.to_owned();
    let placing = placing.clone();
    let mail = mail.clone();
    let Decision::Move { to, effects, .. } = decide(
        OrderStatus::Open,
        &Action::CheckOut {
            payments: placing.payments,
        },
    ) else {
        unreachable!("a cart can always be checked out");
    };
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                let items = conn.items_of(vec![order_id]).await?;
                let lines: Vec<shared::Item> =
                    items.iter().cloned().map(shared::Item::from).collect();
                let closed = diesel::update(
                    orders::table
                        .find(order_id)
                        .filter(orders::is_open.eq(true))
                        .filter(orders::checkout_state.eq(RESERVING))
                        .filter(orders::checkout_reservation.eq(&reservation)),
                )
                .set((
                    orders::is_open.eq(false),
                    orders::open_user_id.eq(None::<i64>),
                    orders::total.eq(lines_total(&lines)),
                    orders::checked_out_at.eq(Some(now)),
                    orders::checkout_state.eq(None::<&str>),
                    orders::status.eq(to.as_str()),
                    orders::email.eq(placing.email),
                    orders::shipping_address.eq(placing.shipping_address),
                ))
                .returning(OrderRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
                if let Some(order) = closed {
                    let order = OrderWithItems::new(order, items);
                    let order =
                        record(conn, order, to, Actor::Shopper, effects, &mail, now).await?;
                    return Ok(Closing::Closed(order));
                }
                let order = orders::table
                    .find(order_id)
                    .select(OrderRow::as_select())
                    .first(conn)
                    .await?;
                Ok(if !order.is_open {
                    Closing::ClosedAlready(with_details(conn, vec![order]).await?.remove(0))
                } else if order.checkout_state.as_deref() == Some(RELEASING)
                    && order.checkout_reservation.as_deref() == Some(reservation.as_str())
                {
                    Closing::BeingUndone
                } else {
                    Closing::Abandoned
                })
            }
            .scope_boxed()
        })
        .await
    })
}

/// Ends an attempt whose reservation holds nothing (out of stock, products
/// down, released): the cart can change again.
pub async fn abandon(db: &Db, order_id: i64, reservation: &str) -> ApiResult<()> {
    clear_mark(db, order_id, reservation, RESERVING).await
}

/// Clears the checkout mark if the order is still in `state` under
/// `reservation` (a racing step that changed either wins): the cart can
/// change again.
async fn clear_mark(db: &Db, order_id: i64, reservation: &str, state: &str) -> ApiResult<()> {
    let (reservation, state) = (reservation.to_owned(), state.to_owned());
    with_conn!(db, |conn| {
        diesel::update(
            orders::table
                .find(order_id)
                .filter(orders::checkout_state.eq(&state))
                .filter(orders::checkout_reservation.eq(&reservation)),
        )
        .set(orders::checkout_state.eq(None::<&str>))
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(ApiError::from)
    })
}

/// An attempt under way: the order and its reservation.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub order_id: i64,
    pub reservation: String,
}

/// Open orders whose checkout has been under way since before `before`: every
/// request that could still finish them has hit its time limit.
pub async fn stalled(db: &Db, before: NaiveDateTime, limit: i64) -> ApiResult<Vec<Attempt>> {
    let found: Vec<(i64, Option<String>)> = with_conn!(db, |conn| {
        orders::table
            .filter(orders::checkout_state.is_not_null())
            .filter(orders::checkout_started_at.lt(before))
            .filter(orders::is_open.eq(true))
            .order(orders::checkout_started_at)
            .limit(limit)
            .select((orders::id, orders::checkout_reservation))
            .load(conn)
            .await
            .map_err(ApiError::from)
    })?;
    Ok(found
        .into_iter()
        .map(|(order_id, reservation)| Attempt {
            order_id,
            // Set with the state since v1.3; the migration names older ones.
            reservation: reservation.unwrap_or_else(|| shared::stock::legacy_reservation(order_id)),
        })
        .collect())
}

/// Takes a stalled attempt over for undoing it; false when another replica
/// took it, or a retry of the checkout revived it, first (one conditional
/// update decides, on every backend).
pub async fn claim_stalled(
    db: &Db,
    attempt: &Attempt,
    before: NaiveDateTime,
    now: NaiveDateTime,
) -> ApiResult<bool> {
    let Attempt {
        order_id,
        reservation,
    } = attempt.clone();
    with_conn!(db, |conn| {
        diesel::update(
            orders::table
                .find(order_id)
                .filter(orders::is_open.eq(true))
                .filter(orders::checkout_state.is_not_null())
                .filter(
                    orders::checkout_reservation
                        .eq(&reservation)
                        .or(orders::checkout_reservation.is_null()),
                )
                .filter(orders::checkout_started_at.lt(before)),
        )
        .set((
            orders::checkout_state.eq(RELEASING),
            orders::checkout_reservation.eq(&reservation),
            orders::checkout_started_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|n| n > 0)
        .map_err(ApiError::from)
    })
}

/// The stock of an undone attempt is back: the cart can change again.
pub async fn undone(db: &Db, attempt: &Attempt) -> ApiResult<()> {
    clear_mark(db, attempt.order_id, &attempt.reservation, RELEASING).await
}
