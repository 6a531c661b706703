//! One cart change at a time per user within this process, in front of the
//! database.
//!
//! Correctness does not depend on this: the cart lock taken inside each
//! transaction (see `db::store::CartLock`) and the constraints are what keep
//! carts exact across replicas. This queue only keeps a burst of requests for
//! one cart from holding every pooled database connection while they wait on
//! that lock in turn; they wait here instead, holding nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as Turn, OwnedMutexGuard};

#[derive(Clone, Default)]
pub struct CartQueue {
    turns: Arc<Mutex<HashMap<i64, Arc<Turn<()>>>>>,
}

/// The caller's turn for one user's cart; the next in line goes when it is dropped.
pub struct MyTurn {
    _guard: OwnedMutexGuard<()>,
    user_id: i64,
    queue: CartQueue,
}

impl CartQueue {
    /// Waits until no other request of this process is changing `user_id`'s cart.
    pub async fn turn(&self, user_id: i64) -> MyTurn {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
            turns.entry(user_id).or_default().clone()
        };
        let guard = turn.lock_owned().await;
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
        // One reference in the map, one in our guard: nobody else is waiting.
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
    use super::*;

    #[tokio::test]
    async fn turns_of_one_user_are_taken_one_at_a_time_and_then_forgotten() {
        let queue = CartQueue::default();
        let first = queue.turn(1).await;
        let other_user =
            tokio::time::timeout(std::time::Duration::from_millis(50), queue.turn(2)).await;
        assert!(other_user.is_ok(), "other users do not wait");
        drop(other_user);
        let waiting = tokio::spawn({
            let queue = queue.clone();
            async move {
                let _turn = queue.turn(1).await;
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "the same user waits");
        drop(first);
        waiting.await.unwrap();
        assert!(queue.turns.lock().unwrap().is_empty());
    }
}
