//! During a bulk load: which nodes the store has ever held, kept in memory, so that the load's
//! checks of new keys (is it there? what revision is it at?) need no sled read.
//!
//! Why: an import into a new data dir asks sled about every record it writes (the node as
//! stored, its last revision) and finds nothing each time; those reads were about a tenth of
//! the load's thread. The set holds a 64-bit hash per node that has an entity or a revision
//! (a deleted node keeps its history, so it stays), which answers "never held" exactly: a
//! node whose hash is missing has neither. A hash that is present, the node's own or another
//! one's, sends the question to sled as before, so a collision costs a read, never an answer.
//!
//! It is filled when the load begins by reading every entity key and every revision key, so it
//! is only used when the store is small then (an import into a new data dir holds the built-in
//! dataset); a larger store loads without it. Every commit of the load adds its nodes once its
//! transaction has landed; the load commits from one thread, under the store's write lock.

use super::{tree_name, SledStore, StoreError, REVISIONS};
use crate::domain::{NodeKind, NodeRef};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::str::FromStr;
use std::sync::atomic::Ordering;

/// Entity and revision keys a store may hold for the set to be filled at the start of a load.
pub(super) const MAX_SCANNED: usize = 100_000;

#[derive(Default)]
pub(super) struct KnownNodes {
    hashes: HashSet<u64>,
}

fn hash_of(node: &NodeRef) -> u64 {
    // Keys fixed: the same node hashes alike whoever adds or asks.
    let mut hasher = DefaultHasher::new();
    node.hash(&mut hasher);
    hasher.finish()
}

impl KnownNodes {
    pub(super) fn add(&mut self, node: &NodeRef) {
        self.hashes.insert(hash_of(node));
    }

    /// True when the store has never held `node` (no entity, no revision); false when it
    /// may have.
    pub(super) fn never_held(&self, node: &NodeRef) -> bool {
        !self.hashes.contains(&hash_of(node))
    }
}

impl SledStore {
    /// Whether the store is known never to have held `node` (only while a bulk load keeps the
    /// set; provisions live inside their agreements and are never answered here).
    pub(super) fn never_held(&self, node: &NodeRef) -> bool {
        if !self.knowing.load(Ordering::Acquire) || node.kind == NodeKind::Provision {
            return false;
        }
        self.lock_known()
            .as_ref()
            .is_some_and(|known| known.never_held(node))
    }

    /// Fills the set from the store, if it holds at most `max_scanned` entity and revision
    /// keys. The caller holds the write lock: no commit lands meanwhile.
    pub(super) fn start_knowing(&self, max_scanned: usize) -> Result<(), StoreError> {
        let mut known = KnownNodes::default();
        let mut scanned = 0usize;
        for &kind in NodeKind::ALL {
            let Some(tree) = self.trees.get(tree_name(kind)) else {
                continue; // provisions have no tree
            };
            for key in tree.iter().keys() {
                scanned += 1;
                if scanned > max_scanned {
                    return Ok(());
                }
                known.add(&NodeRef::new(kind, &super::utf8(&key?)?));
            }
        }
        for key in self.tree(REVISIONS)?.iter().keys() {
            scanned += 1;
            if scanned > max_scanned {
                return Ok(());
            }
            let key = key?;
            let node = key.split(|b| *b == 0).next().unwrap_or_default();
            let node = NodeRef::from_str(&super::utf8(node)?)
                .map_err(|e| StoreError::Codec(format!("a revision's key: {e}")))?;
            known.add(&node);
        }
        *self.lock_known() = Some(known);
        self.knowing.store(true, Ordering::Release);
        Ok(())
    }

    pub(super) fn stop_knowing(&self) {
        self.knowing.store(false, Ordering::Release);
        *self.lock_known() = None;
    }

    /// After a commit has landed: its nodes are held, or were.
    pub(super) fn add_known<'a>(&self, nodes: impl IntoIterator<Item = &'a NodeRef>) {
        if !self.knowing.load(Ordering::Acquire) {
            return;
        }
        if let Some(known) = self.lock_known().as_mut() {
            for node in nodes {
                known.add(node);
            }
        }
    }

    fn lock_known(&self) -> std::sync::MutexGuard<'_, Option<KnownNodes>> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::{Fact, Role, Statement};
    use crate::store::tests::seeded;
    use crate::store::Write;

    #[test]
    fn a_load_answers_for_nodes_never_held_and_asks_sled_for_the_rest() {
        let (_dir, store) = seeded();
        let xk = NodeRef::new(NodeKind::Country, "XK");
        let stored = store.referrers(&xk, Role::About).unwrap()[0].clone();
        store.defer_reference_index(1_000).unwrap();
        let sled = store.sled();
        assert!(sled.knowing.load(Ordering::Acquire));
        let stored_node = NodeRef::new(NodeKind::Statement, &stored);
        let new = NodeRef::new(NodeKind::Statement, "held-later");
        assert!(!sled.never_held(&stored_node) && !sled.never_held(&xk));
        assert!(sled.never_held(&new));
        assert!(store.exists(&stored_node).unwrap());
        assert!(!store.exists(&new).unwrap());
        assert!(store.revision_span(&new).unwrap().is_none());

        let writes = store.lock_writes();
        let mut statement: Statement = store.get(&stored).unwrap().unwrap();
        statement.key = new.key.clone();
        writes
            .commit(&[Write::Create(Fact::Statement(statement))], "t", None)
            .unwrap();
        assert!(!sled.never_held(&new));
        assert!(store.exists(&new).unwrap());
        writes
            .commit(
                &[Write::Delete {
                    node: new.clone(),
                    cascade: false,
                    expected_revision: None,
                }],
                "t",
                None,
            )
            .unwrap();
        // Gone, but its history stays, and so does the node in the set.
        assert!(!store.exists(&new).unwrap());
        let span = store.revision_span(&new).unwrap();
        assert_eq!(
            span.map(|(first, last)| (first.number, last.number)),
            Some((1, 2))
        );
        drop(writes);

        store.settle_reference_index().unwrap();
        assert!(!sled.knowing.load(Ordering::Acquire));
        assert!(!sled.never_held(&NodeRef::new(NodeKind::Statement, "never-written")));
    }

    #[test]
    fn a_store_past_the_scan_limit_is_loaded_without_the_set() {
        let (_dir, store) = seeded();
        let sled = store.sled();
        sled.start_knowing(3).unwrap();
        assert!(!sled.knowing.load(Ordering::Acquire));
        sled.start_knowing(MAX_SCANNED).unwrap();
        assert!(sled.knowing.load(Ordering::Acquire));
        sled.stop_knowing();
    }

    #[test]
    fn only_nodes_never_added_are_never_held() {
        let mut known = KnownNodes::default();
        let speaker = NodeRef::new(NodeKind::Person, "ned-price");
        known.add(&speaker);
        assert!(!known.never_held(&speaker));
        assert!(known.never_held(&NodeRef::new(NodeKind::Person, "gabi-ashkenazi")));
        // The kind is part of the node.
        assert!(known.never_held(&NodeRef::new(NodeKind::Organization, "ned-price")));
        assert_eq!(known.hashes.len(), 1);
    }
}
