//! The storage seam: what the layers above need from a backend, in domain types only (facts,
//! node references, index reads, revisions, key records), never trees, bytes or SQL.
//!
//! A backend stores entities, keeps the indexes it answers `IndexRead`s from, applies a checked
//! `Plan` in one transaction, and looks after itself (its page cache, compaction, bulk loads).
//! It does not check integrity: `plan.rs` does, above the seam, for every backend alike. Every
//! call blocks: callers on an async runtime make them off its workers.
//!
//! Invariants a backend keeps: a `Plan` lands whole or not at all; reads after `apply` returns
//! see it; it is durable once a `sync` that began after `apply` returned has returned (the
//! `Store` groups the syncs of concurrent writers, `durable.rs`); `sequence` counts the plans
//! applied. `save_api_key` and `mark_seeded_without_builtin` are durable when they return.
//! Calls that write (`apply`, `save_api_key`, `mark_seeded_without_builtin`, the bulk-load
//! ones and `copy_to`) come one at a time: the `Store` holds its write lock around them.

use super::{ApiKey, IndexAnswer, IndexRead, Plan, Revision, StoreError};
use crate::domain::{Fact, NodeKind, NodeRef, Role};
use std::collections::BTreeSet;
use std::path::Path;

pub trait Backend: Send + Sync + 'static {
    /// An entity by kind and key (a provision is not stored on its own: None).
    fn get(&self, node: &NodeRef) -> Result<Option<Fact>, StoreError>;
    /// The entities of one kind for the keys that exist, with their keys.
    fn get_many(&self, kind: NodeKind, keys: &[&str]) -> Result<Vec<(String, Fact)>, StoreError>;
    /// Whether an entity is stored under this kind and key.
    fn contains(&self, node: &NodeRef) -> Result<bool, StoreError>;
    /// Every entity of one kind, in key order, one at a time.
    fn for_each(
        &self,
        kind: NodeKind,
        visit: &mut dyn FnMut(Fact) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Answers an index read from the backend's own indexes.
    fn read_index(&self, read: &IndexRead) -> Result<IndexAnswer, StoreError>;
    /// Keys of the entities referring to `target` in `role`, in key order.
    fn referrers(&self, target: &NodeRef, role: Role) -> Result<Vec<String>, StoreError>;
    /// Every (role tag, referrer) referring to `target`; for an agreement, to its provisions too.
    fn all_referrers(&self, target: &NodeRef) -> Result<Vec<(String, NodeRef)>, StoreError>;
    /// Keys of the `kind` entities with a folded name token starting with `token`.
    fn name_candidates(&self, kind: NodeKind, token: &str) -> Result<BTreeSet<String>, StoreError>;
    /// The source holding a URL.
    fn source_by_url(&self, url: &str) -> Result<Option<String>, StoreError>;
    /// A node's revisions, oldest first.
    fn revisions(&self, node: &NodeRef) -> Result<Vec<Revision>, StoreError>;
    /// A node's first and latest revision.
    fn revision_span(&self, node: &NodeRef) -> Result<Option<(Revision, Revision)>, StoreError>;
    /// How many plans have been applied.
    fn sequence(&self) -> Result<u64, StoreError>;

    /// Writes a checked plan whole or not at all (after a crash too), visible once this
    /// returns, durable after the next `sync`.
    fn apply(&self, plan: &Plan) -> Result<(), StoreError>;
    /// Whether `apply` may run while a `sync` does without waiting on it (a sled transaction
    /// needs the lock sled's flush holds for its whole disk wait; other writes do not).
    fn applies_beside_sync(&self, _plan: &Plan) -> bool {
        false
    }
    /// Whether the store has had its first contents (see `Store::is_seeded`).
    fn is_seeded(&self) -> Result<bool, StoreError>;
    fn mark_seeded_without_builtin(&self) -> Result<(), StoreError>;

    fn api_key(&self, name: &str) -> Result<Option<ApiKey>, StoreError>;
    /// The key whose secret has this SHA-256, if it is not revoked.
    fn api_key_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError>;
    fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Creates or replaces a key; a revoked key no longer answers `api_key_by_hash`.
    fn save_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;

    /// Makes everything applied so far durable, through the drive's own write cache.
    fn sync(&self) -> Result<(), StoreError>;
    /// A bulk load begins: the backend may hold back index work until `end_bulk_load`
    /// (`max_held` bounds what it holds in memory), as long as reads stay exact.
    fn begin_bulk_load(&self, _max_held: usize) -> Result<(), StoreError> {
        Ok(())
    }
    fn end_bulk_load(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Derives every index again from the entities and compares.
    fn check(&self) -> Result<CheckReport, StoreError>;
    /// A consistent, compacted copy of everything in `into` (a dir that must not exist yet);
    /// returns the entries copied.
    fn copy_to(&self, into: &Path) -> Result<u64, StoreError>;
    fn size_on_disk(&self) -> Result<u64, StoreError>;

    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Damage past this many findings is counted, not listed.
const MAX_LISTED: usize = 200;

/// What a check found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Entities read.
    pub entities: u64,
    /// Index entries compared (references, name tokens, codes, URLs, counts).
    pub index_entries: u64,
    /// References and citations followed.
    pub links: u64,
    /// What is wrong, one line each (at most `MAX_LISTED`).
    pub damage: Vec<String>,
    /// How many findings there were in all.
    pub damage_count: u64,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.damage_count == 0
    }

    pub(crate) fn damage(&mut self, what: String) {
        self.damage_count += 1;
        if self.damage.len() < MAX_LISTED {
            self.damage.push(what);
        }
    }
}
