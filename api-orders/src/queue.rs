//! A checkout and the other changes of one user's cart take turns within this
//! process, in front of the database.
//!
//! Cart changes share a turn (they go to the [cart writer](crate::writer),
//! which applies them in order); a checkout has the cart to itself
//! (`exclusive`): it waits for the changes already under way, and changes
//! that arrive during it wait for it to end instead of polling the database
//! for the end of the checkout's freeze.
//!
//! Correctness does not depend on this: the cart lock taken inside each
//! transaction (see `db::store::CartLock`), the checkout's freeze of the cart
//! and the constraints are what keep carts exact across replicas.

/// Turns on carts, by user id.
pub type CartQueue = server::KeyedTurns<i64>;
