//! Turns taken per key within one process: shared turns run side by side, an
//! exclusive turn runs alone; a key is remembered only while someone holds or
//! awaits its turn.
//!
//! The orders service's `CartQueue` (a checkout has its cart to itself, cart
//! changes share) and the products service's page cache (one request fills
//! an expired page, the others wait for it) are both this.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

type Turns<K> = Arc<Mutex<HashMap<K, Arc<RwLock<()>>>>>;

/// Cheap to clone: clones share the turns.
#[derive(Debug)]
pub struct KeyedTurns<K> {
    turns: Turns<K>,
}

impl<K> Clone for KeyedTurns<K> {
    fn clone(&self) -> Self {
        Self {
            turns: self.turns.clone(),
        }
    }
}

impl<K> Default for KeyedTurns<K> {
    fn default() -> Self {
        Self {
            turns: Arc::default(),
        }
    }
}

/// A turn on one key; the next in line goes when it is dropped.
#[must_use = "the turn ends when dropped"]
pub struct Turn<K: Eq + Hash> {
    // Dropped before `Drop::drop` looks at the count: see there.
    guard: Option<Guard>,
    key: Option<K>,
    turns: Turns<K>,
}

enum Guard {
    Shared(#[allow(dead_code)] OwnedRwLockReadGuard<()>),
    Exclusive(#[allow(dead_code)] OwnedRwLockWriteGuard<()>),
}

impl<K: Eq + Hash + Clone> KeyedTurns<K> {
    fn lock(&self, key: &K) -> Arc<RwLock<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        turns.entry(key.clone()).or_default().clone()
    }

    /// Waits while someone has `key` exclusively; runs beside other shared turns.
    pub async fn shared(&self, key: K) -> Turn<K> {
        let guard = Guard::Shared(self.lock(&key).read_owned().await);
        self.turn(guard, key)
    }

    /// Waits until nobody else has a turn on `key`, and keeps it so until dropped.
    pub async fn exclusive(&self, key: K) -> Turn<K> {
        let guard = Guard::Exclusive(self.lock(&key).write_owned().await);
        self.turn(guard, key)
    }

    fn turn(&self, guard: Guard, key: K) -> Turn<K> {
        Turn {
            guard: Some(guard),
            key: Some(key),
            turns: self.turns.clone(),
        }
    }

    /// Keys remembered now (held or awaited).
    pub fn len(&self) -> usize {
        self.turns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash> Drop for Turn<K> {
    /// Forgets the key once nobody holds or awaits its turn, so the map only
    /// holds keys in use right now.
    fn drop(&mut self) {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        self.guard.take();
        let Some(key) = self.key.take() else { return };
        // The map's reference is the only one left: nobody else holds or awaits it.
        if turns.get(&key).is_some_and(|t| Arc::strong_count(t) == 1) {
            turns.remove(&key);
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
    async fn shared_turns_run_together_and_an_exclusive_one_alone() {
        let turns = KeyedTurns::default();
        let first = turns.shared(1).await;
        assert!(
            !waits(turns.shared(1)).await,
            "shared turns run side by side"
        );
        assert!(!waits(turns.exclusive(2)).await, "other keys do not wait");
        let alone = tokio::spawn({
            let turns = turns.clone();
            async move {
                let _turn = turns.exclusive(1).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !alone.is_finished(),
            "an exclusive turn waits for the shared one"
        );
        drop(first);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(waits(turns.shared(1)).await, "a shared turn waits for it");
        alone.await.unwrap();
        assert!(!waits(turns.shared(1)).await);
        assert!(
            turns.is_empty(),
            "forgotten when nobody holds or awaits a turn"
        );
    }
}
