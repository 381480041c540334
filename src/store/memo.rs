//! Decoded entities kept in memory across requests, so that the rows most queries touch (the
//! popular countries, agreements and people) skip sled's lookup and the value's decoding.
//!
//! Never stale: a commit, once its transaction has landed, bumps the epoch and evicts the nodes
//! it changed, while no reader is between checking the epoch and inserting; a reader inserts a
//! value only if no commit bumped the epoch since before it read that value from sled.

use super::Entity;
use crate::domain::{NodeKind, NodeRef};
use quick_cache::sync::Cache;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

type Shared = Arc<dyn Any + Send + Sync>;

pub struct Memo {
    entries: Cache<(NodeKind, String), Shared>,
    epoch: AtomicU64,
    /// Readers hold it to check the epoch and insert; a commit holds it to bump and evict.
    turn: RwLock<()>,
}

/// A read's epoch, taken before it reads sled.
#[derive(Clone, Copy)]
pub struct Epoch(u64);

impl Memo {
    pub fn new(capacity: usize) -> Self {
        Memo {
            entries: Cache::new(capacity.max(1)),
            epoch: AtomicU64::new(0),
            turn: RwLock::new(()),
        }
    }

    pub fn get<E: Entity>(&self, key: &str) -> Option<Arc<E>> {
        let shared = self.entries.get(&(E::KIND, key.to_string()))?;
        shared.downcast::<E>().ok()
    }

    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// Keeps values read from sled since `epoch`, unless a commit has landed meanwhile.
    pub fn insert<E: Entity>(&self, epoch: Epoch, values: &[(String, Arc<E>)]) {
        let _turn = self.turn.read().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::SeqCst) != epoch.0 {
            return;
        }
        for (key, value) in values {
            let shared: Shared = value.clone();
            self.entries.insert((E::KIND, key.clone()), shared);
        }
    }

    /// After a commit landed: what it changed is evicted, and reads begun before it keep nothing.
    pub fn committed<'n>(&self, changed: impl IntoIterator<Item = &'n NodeRef>) {
        let _turn = self.turn.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for node in changed {
            // Provisions live inside their agreement, which is in the batch too.
            self.entries.remove(&(node.kind, node.key.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Country;

    fn country(name: &str) -> Arc<Country> {
        Arc::new(crate::store::tests::country("XK", "XKX", name))
    }

    #[test]
    fn a_value_read_before_a_commit_is_not_kept_and_commits_evict() {
        let memo = Memo::new(10);
        let before = memo.epoch();
        memo.committed(&[NodeRef::new(NodeKind::Country, "XK")]);
        memo.insert(before, &[("XK".to_string(), country("old"))]);
        assert!(
            memo.get::<Country>("XK").is_none(),
            "read before the commit"
        );

        memo.insert(memo.epoch(), &[("XK".to_string(), country("new"))]);
        assert_eq!(memo.get::<Country>("XK").unwrap().name, "new");
        memo.committed(&[NodeRef::new(NodeKind::Country, "XK")]);
        assert!(memo.get::<Country>("XK").is_none(), "evicted by the commit");
    }
}
