//! A checkout and the other changes of one user's cart take turns within this
//! process, in front of the database.
//!
//! Cart changes share a turn (they go to the [cart writer](crate::writer),
//! which applies them in order); a checkout has the cart to itself: it waits
//! for the changes already under way, and changes that arrive during it wait
//! for it to end instead of polling the database for the end of the freeze.
//!
//! Correctness does not depend on this: the cart lock taken inside each
//! transaction (see `db::store::CartLock`), the checkout's freeze of the cart
//! and the constraints are what keep carts exact across replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

#[derive(Clone, Default)]
pub struct CartQueue {
    turns: Arc<Mutex<HashMap<i64, Arc<RwLock<()>>>>>,
}

/// The caller's turn on one user's cart; the next in line goes when it is dropped.
pub struct MyTurn {
    _guard: Guard,
    user_id: i64,
    queue: CartQueue,
}

enum Guard {
    Shared(#[allow(dead_code)] OwnedRwLockReadGuard<()>),
    Alone(#[allow(dead_code)] OwnedRwLockWriteGuard<()>),
}

impl CartQueue {
    fn entry(&self, user_id: i64) -> Arc<RwLock<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        turns.entry(user_id).or_default().clone()
    }

    /// For a cart change: waits while this process checks `user_id`'s cart
    /// out, and runs beside the user's other changes.
    pub async fn change(&self, user_id: i64) -> MyTurn {
        let guard = Guard::Shared(self.entry(user_id).read_owned().await);
        self.turn(guard, user_id)
    }

    /// For a checkout: waits until nothing else of this process is changing
    /// `user_id`'s cart, and keeps it so until dropped.
    pub async fn alone(&self, user_id: i64) -> MyTurn {
        let guard = Guard::Alone(self.entry(user_id).write_owned().await);
        self.turn(guard, user_id)
    }

    fn turn(&self, guard: Guard, user_id: i64) -> MyTurn {
        MyTurn {
            _guard: guard,
            user_id,
            queue: self.clone(),
        }
    }
}

impl Drop for MyTurn {
    /// Forgets the user's entry once nobody holds or awaits it, so the map
    /// only holds carts being changed right now.
    fn drop(&mut self) {
        let mut turns = self.queue.turns.lock().unwrap_or_else(|p| p.into_inner());
        // One reference in the map, one in our guard: nobody else holds or awaits it.
        if turns
            .get(&self.user_id)
            .is_some_and(|t| Arc::strong_count(t) <= 2)
        {
            turns.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn waits<F: std::future::Future>(future: F) -> bool {
        tokio::time::timeout(Duration::from_millis(50), future)
            .await
            .is_err()
    }

    #[tokio::test]
    async fn changes_share_a_turn_and_a_checkout_has_the_cart_alone() {
        let queue = CartQueue::default();
        let first = queue.change(1).await;
        assert!(!waits(queue.change(1)).await, "changes run side by side");
        assert!(!waits(queue.alone(2)).await, "other users do not wait");
        let checkout = tokio::spawn({
            let queue = queue.clone();
            async move {
                let _turn = queue.alone(1).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!checkout.is_finished(), "a checkout waits for the change");
        drop(first);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            waits(queue.change(1)).await,
            "a change waits for the checkout"
        );
        checkout.await.unwrap();
        assert!(!waits(queue.change(1)).await);
        assert!(
            queue.turns.lock().unwrap().is_empty(),
            "forgotten when idle"
        );
    }
}
