//! The store as the layers above see it: typed reads of entities and indexes, a memo of both,
//! one writer at a time whose writes are checked (`plan.rs`) and then applied by a backend
//! (`backend.rs`, the seam). Nothing here names a backend's trees, bytes or SQL; the one
//! backend today is sled (`sled/`), chosen in `open`.

mod backend;
mod durable;
pub mod keys;
mod memo;
mod plan;
mod sled;
mod write;

pub use backend::{Backend, CheckReport};
pub use durable::Ticket;
pub use keys::{ApiKey, KeyError, KeyRole};
pub use memo::{IndexAnswer, IndexRead};
pub use plan::{Change, Marker, Plan};
pub use write::{Outcome, OutcomeAction, Revision, RevisionAction, Write, WriteError, WriteGuard};

use crate::domain::{text, Entity, Fact, Graph, NodeKind, NodeRef, Provision, Role};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage error: {0}")]
    Backend(String),
    #[error("corrupt value: {0}")]
    Codec(String),
    #[error(
        "the data dir was written in storage format {found}; this build reads format {expected}"
    )]
    UnsupportedFormat { found: u8, expected: u8 },
    #[error("the reference index could not be written; it is rebuilt from the entities when the data dir is next opened")]
    IndexLost,
    #[error("the data dir is in use (is the server running on it? stop it, or write through its API): {0}")]
    Locked(String),
}

/// Decodes a stored value as the store would (for the fuzz targets): Ok or an error, never a
/// panic.
#[doc(hidden)]
pub fn fuzz_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
    sled::fuzz_decode::<T>(bytes)
}

/// The embedded backend's page cache when no size is configured.
pub const DEFAULT_CACHE_BYTES: u64 = sled::DEFAULT_CACHE_BYTES;

/// Decoded entities kept in memory for reads.
const MEMO_ENTITIES: usize = 50_000;
/// Keys held by the index answers kept in memory (pages, counts, codes).
const MEMO_INDEX_KEYS: u64 = 200_000;

pub struct Store {
    backend: Arc<dyn Backend>,
    /// One writer at a time, so that a write's checks (references, referrers, natural keys)
    /// see the state its plan is applied on.
    writer: std::sync::Mutex<()>,
    memo: memo::Memo,
    syncs: durable::GroupSync,
}

fn wrong_kind<E: Entity>(fact: &Fact) -> StoreError {
    StoreError::Codec(format!(
        "a {} read where a {} was asked for",
        fact.node().kind,
        E::KIND
    ))
}

/// Whether a node exists in a backend; a provision exists when its agreement has that number.
pub(crate) fn node_exists(backend: &dyn Backend, node: &NodeRef) -> Result<bool, StoreError> {
    if node.kind != NodeKind::Provision {
        return backend.contains(node);
    }
    let Some((agreement, number)) = Provision::split_key(&node.key) else {
        return Ok(false);
    };
    Ok(
        match backend.get(&NodeRef::new(NodeKind::Agreement, agreement))? {
            Some(Fact::Agreement(a)) => a.provisions.iter().any(|p| p.number == number),
            _ => false,
        },
    )
}

/// The folded words of every name a plan writes or replaces, by kind: the name lookups they
/// could match go stale.
fn name_words(plan: &Plan) -> Vec<(NodeKind, String)> {
    let mut words = Vec::new();
    for change in &plan.changes {
        for fact in [&change.old, &change.new].into_iter().flatten() {
            let names: Vec<&str> = crate::with_entity!(fact, e => e.names());
            for name in names {
                for word in text::fold(name).split(' ').filter(|w| !w.is_empty()) {
                    words.push((change.node.kind, word.to_string()));
                }
            }
        }
    }
    words.sort_unstable();
    words.dedup();
    words
}

fn downcast<E: Entity>(fact: Fact) -> Result<E, StoreError> {
    E::try_from(fact).map_err(|fact| wrong_kind::<E>(&fact))
}

impl Store {
    /// Opens (or creates) the embedded store in `dir` with its default page cache.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the embedded store in `dir`, keeping at most `cache_bytes` of pages
    /// in memory. One `Store` per data dir: the backend locks it.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        Ok(Store::on(Arc::new(sled::SledStore::open(
            dir,
            cache_bytes,
        )?)))
    }

    /// A store over any backend.
    pub fn on(backend: Arc<dyn Backend>) -> Store {
        Store {
            backend,
            writer: std::sync::Mutex::new(()),
            memo: memo::Memo::new(MEMO_ENTITIES, MEMO_INDEX_KEYS),
            syncs: durable::GroupSync::default(),
        }
    }

    /// Whether the store has had its first contents: the built-in dataset, or none by choice
    /// (`import --no-builtin`). Either way nothing is ever seeded into it again.
    pub fn is_seeded(&self) -> Result<bool, StoreError> {
        self.backend.is_seeded()
    }

    /// Records that this store goes without the built-in dataset, for good: a data dir made by
    /// `import --no-builtin` keeps only what was imported, however it is opened later.
    pub fn mark_seeded_without_builtin(&self) -> Result<(), StoreError> {
        let _guard = self.lock_writes();
        self.backend.mark_seeded_without_builtin()
    }

    /// Whether the store holds any entity at all.
    pub fn holds_entities(&self) -> Result<bool, StoreError> {
        for kind in crate::domain::STORED {
            if self.backend.read_index(&IndexRead::Count(*kind))?.count()? > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes a whole graph and its indexes in one transaction: all of it lands, or none.
    pub fn seed(&self, graph: &Graph) -> Result<(), StoreError> {
        let guard = self.lock_writes();
        let writes: Vec<Write> = graph
            .clone()
            .into_facts()
            .into_iter()
            .map(Write::Upsert)
            .collect();
        guard
            .commit(&writes, "builtin dataset", Some(Marker::Seeded))
            .map_err(|e| match e {
                WriteError::Store(e) => e,
                other => StoreError::Codec(format!(
                    "the built-in dataset does not fit the store: {other}"
                )),
            })?;
        Ok(())
    }

    /// Takes the store's one write lock; reads go on meanwhile.
    pub fn lock_writes(&self) -> WriteGuard<'_> {
        let in_line = self.syncs.join_line();
        let lock = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        WriteGuard::new(self, lock, in_line)
    }

    /// Applies a checked plan (the caller holds the write lock), then forgets what it changed.
    /// The plan is visible, and durable once `make_durable` returns for its ticket.
    fn apply(&self, plan: &Plan, writer: &durable::InLine<'_>) -> Result<Ticket, StoreError> {
        let beside_sync = self.backend.applies_beside_sync(plan);
        let ((), ticket) = self.syncs.apply(writer, beside_sync, || {
            let applied = self.backend.apply(plan);
            // Forgotten even when the backend fails: it may fail after its writes landed (a
            // held-back index lost), and forgetting is always safe.
            self.memo
                .committed(plan.changes.iter().map(|change| &change.node), || {
                    name_words(plan)
                });
            applied
        })?;
        Ok(ticket)
    }

    /// Waits until the write of `ticket` is durable; call it without the write lock, so that
    /// the writers waiting meanwhile share one sync.
    pub fn make_durable(&self, ticket: Ticket) -> Result<(), StoreError> {
        self.syncs.wait(ticket, true, &|| self.backend.sync())
    }

    /// As `make_durable`, for a caller no writer could apply beside while it waits (it holds
    /// the write lock, or it is the write queue, the next writer): the sync starts at once,
    /// without gathering the writers in line or lingering for the next.
    pub fn make_durable_now(&self, ticket: Ticket) -> Result<(), StoreError> {
        self.syncs.wait(ticket, false, &|| self.backend.sync())
    }

    /// Any fact by reference (provisions are not stored on their own: None).
    pub fn get_fact(&self, node: &NodeRef) -> Result<Option<Fact>, StoreError> {
        self.backend.get(node)
    }

    /// Whether a node exists; a provision exists when its agreement has that number.
    pub fn exists(&self, node: &NodeRef) -> Result<bool, StoreError> {
        if node.kind == NodeKind::Provision {
            return node_exists(&*self.backend, node);
        }
        if self.memo.present(node) {
            return Ok(true);
        }
        let epoch = self.memo.epoch();
        let exists = self.backend.contains(node)?;
        if exists {
            self.memo.insert_present(epoch, node);
        }
        Ok(exists)
    }

    /// Every (role, referrer) that refers to `target`; for an agreement, also those that refer
    /// to its provisions.
    pub fn all_referrers(&self, target: &NodeRef) -> Result<Vec<(String, NodeRef)>, StoreError> {
        self.backend.all_referrers(target)
    }

    /// The source key stored for a URL.
    pub fn source_by_url(&self, url: &str) -> Result<Option<String>, StoreError> {
        self.backend.source_by_url(url.trim())
    }

    /// The change history of a node, oldest first.
    pub fn revisions(&self, node: &NodeRef) -> Result<Vec<Revision>, StoreError> {
        self.backend.revisions(node)
    }

    /// The first and the last revision of a node.
    pub fn revision_span(
        &self,
        node: &NodeRef,
    ) -> Result<Option<(Revision, Revision)>, StoreError> {
        self.backend.revision_span(node)
    }

    pub fn get<E: Entity>(&self, key: &str) -> Result<Option<E>, StoreError> {
        self.backend
            .get(&NodeRef::new(E::KIND, key))?
            .map(downcast)
            .transpose()
    }

    /// Entities for the keys that exist; missing keys are left out.
    pub fn get_many<'k, E: Entity>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<HashMap<String, E>, StoreError> {
        let keys: Vec<&str> = keys.into_iter().collect();
        self.backend
            .get_many(E::KIND, &keys)?
            .into_iter()
            .map(|(key, fact)| Ok((key, downcast(fact)?)))
            .collect()
    }

    /// An entity from memory, if a recent read left it there (no store access at all).
    pub fn cached<E: Entity>(&self, key: &str) -> Option<Arc<E>> {
        self.memo.get(key)
    }

    /// Entities for the keys that exist, shared, from memory where they are and from the
    /// backend otherwise (and then kept); missing keys are left out.
    pub fn get_many_shared<'k, E: Entity>(
        &self,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<HashMap<String, Arc<E>>, StoreError> {
        let epoch = self.memo.epoch();
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        for key in keys {
            match self.memo.get::<E>(key) {
                Some(hit) => {
                    out.insert(key.to_string(), hit);
                }
                None => missing.push(key),
            }
        }
        if !missing.is_empty() {
            let mut read = Vec::with_capacity(missing.len());
            for (key, fact) in self.backend.get_many(E::KIND, &missing)? {
                let value = Arc::new(downcast::<E>(fact)?);
                read.push((key.clone(), value.clone()));
                out.insert(key, value);
            }
            self.memo.insert(epoch, &read);
        }
        Ok(out)
    }

    /// The answer to an index read, from memory if an earlier read since the last commit left
    /// it there, else from the backend (and then kept).
    pub fn index(&self, read: &IndexRead) -> Result<IndexAnswer, StoreError> {
        if let Some(hit) = self.memo.index(read) {
            return Ok(hit);
        }
        let epoch = self.memo.epoch();
        let answer = self.backend.read_index(read)?;
        self.memo.insert_index(epoch, read.clone(), answer.clone());
        Ok(answer)
    }

    /// The answer to an index read if it is in memory (no store access at all).
    pub fn cached_index(&self, read: &IndexRead) -> Option<IndexAnswer> {
        self.memo.index(read)
    }

    /// Keys of one kind in key order, strictly after `after`, at most `limit`.
    pub fn keys<E: Entity>(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Arc<Vec<String>>, StoreError> {
        self.index(&IndexRead::Keys {
            kind: E::KIND,
            after: after.map(str::to_string),
            limit,
        })?
        .keys()
    }

    /// The number of commits made so far.
    pub fn sequence(&self) -> Result<u64, StoreError> {
        self.backend.sequence()
    }

    /// Calls `f` with every entity of one kind in key order, one at a time.
    pub fn for_each<E: Entity, Err: From<StoreError>>(
        &self,
        mut f: impl FnMut(E) -> Result<(), Err>,
    ) -> Result<(), Err> {
        // The backend's visitor speaks StoreError; the caller's own error is carried past it.
        let mut failure: Option<Err> = None;
        let walked = self
            .backend
            .for_each(E::KIND, &mut |fact| match f(downcast(fact)?) {
                Ok(()) => Ok(()),
                Err(e) => {
                    failure = Some(e);
                    Err(StoreError::Codec("stopped by the caller".into()))
                }
            });
        match (failure, walked) {
            (Some(e), _) => Err(e),
            (None, walked) => Ok(walked?),
        }
    }

    /// Every entity of one kind, in key order.
    pub fn all<E: Entity>(&self) -> Result<Vec<E>, StoreError> {
        let mut out = Vec::new();
        self.for_each::<E, StoreError>(|e| {
            out.push(e);
            Ok(())
        })?;
        Ok(out)
    }

    pub fn count<E: Entity>(&self) -> Result<usize, StoreError> {
        Ok(self.index(&IndexRead::Count(E::KIND))?.count()? as usize)
    }

    /// Keys of the entities that refer to `target` in `role`, in key order.
    pub fn referrers(&self, target: &NodeRef, role: Role) -> Result<Vec<String>, StoreError> {
        self.backend.referrers(target, role)
    }

    /// One page of the keys of the `kind` entities that refer to `target` in `role`, in key
    /// order, strictly after `after`.
    pub fn referrer_page(
        &self,
        target: &NodeRef,
        role: Role,
        kind: NodeKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Arc<Vec<String>>, StoreError> {
        self.index(&IndexRead::ReferrerPage {
            target: target.clone(),
            role,
            kind,
            after: after.map(str::to_string),
            limit,
        })?
        .keys()
    }

    /// How many entities refer to `target` in `role`.
    pub fn referrer_count(&self, target: &NodeRef, role: Role) -> Result<u64, StoreError> {
        self.index(&IndexRead::ReferrerCount(target.clone(), role))?
            .count()
    }

    /// Keys of entities of `kind` whose name or an alias contains `query` at a word start,
    /// ignoring case and diacritics.
    pub fn find_by_name<E: Entity>(&self, query: &str) -> Result<Vec<String>, StoreError> {
        let folded = text::fold(query);
        let Some(first) = folded.split(' ').next().filter(|t| !t.is_empty()) else {
            return Ok(Vec::new());
        };
        if let Some(keys) = self.memo.names(E::KIND, &folded) {
            return Ok(keys.to_vec());
        }
        let epoch = self.memo.epoch();
        let candidates = self.backend.name_candidates(E::KIND, first)?;
        let entities = self.get_many::<E>(candidates.iter().map(String::as_str))?;
        let mut keys: Vec<String> = entities
            .into_iter()
            .filter(|(_, e)| {
                e.names()
                    .iter()
                    .any(|n| text::folded_matches(&text::fold(n), &folded))
            })
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        self.memo
            .insert_names(epoch, E::KIND, folded.clone(), keys.clone());
        Ok(keys)
    }

    /// A name lookup's answer if it is in memory (no store access at all).
    pub fn cached_names<E: Entity>(&self, query: &str) -> Option<Vec<String>> {
        self.memo
            .names(E::KIND, &text::fold(query))
            .map(|keys| keys.to_vec())
    }

    /// Resolves an alpha-2 or alpha-3 code, any letter case, to the country key.
    pub fn country_code(&self, code: &str) -> Result<Option<String>, StoreError> {
        match IndexRead::country_code(code) {
            Some(read) => self.index(&read)?.key(),
            None => Ok(None),
        }
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.backend.sync()
    }

    /// A bulk load begins: the backend may hold index work back until `settle_reference_index`.
    /// Waits for any commit in flight.
    pub fn defer_reference_index(&self, max_held: usize) -> Result<(), StoreError> {
        let _no_commit_in_flight = self.lock_writes();
        self.backend.begin_bulk_load(max_held)
    }

    /// Ends a bulk load: whatever the backend held back is written.
    pub fn settle_reference_index(&self) -> Result<(), StoreError> {
        let _no_commit_in_flight = self.lock_writes();
        self.backend.end_bulk_load()
    }

    /// Derives every index again from the entities and compares (a read of everything: run it
    /// with the server stopped, or accept that writes landing meanwhile may show as findings).
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        self.backend.check()
    }

    /// A consistent copy of the whole store in `into` (a new directory), made while it serves:
    /// writes wait for the copy to finish, reads go on. Returns the entries copied.
    pub fn backup_to(&self, into: &Path) -> Result<u64, StoreError> {
        let _writes = self.lock_writes();
        self.backend.copy_to(into)
    }

    /// A compacted copy in `into`, for `diplograph compact` (the caller holds the only handle).
    pub fn copy_compacted(&self, into: &Path) -> Result<u64, StoreError> {
        self.backup_to(into)
    }

    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.backend.size_on_disk()
    }

    /// Plans applied, plans durable, syncs run.
    #[cfg(test)]
    pub(crate) fn sync_counts(&self) -> (u64, u64, u64) {
        self.syncs.counts()
    }

    #[cfg(test)]
    pub(crate) fn backend_any(&self) -> &dyn std::any::Any {
        self.backend.as_any()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::*;
    use crate::ingest::dataset::{load, DatasetFiles};

    /// A store in a temp dir, seeded with the built-in dataset.
    pub(crate) fn seeded() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = seeded_at(dir.path());
        (dir, store)
    }

    /// A store at `path`, seeded with the built-in dataset.
    pub(crate) fn seeded_at(path: &std::path::Path) -> Store {
        let store = Store::open(path).unwrap();
        store
            .seed(&load(&DatasetFiles::builtin()).unwrap())
            .unwrap();
        store
    }

    pub(crate) fn country(code: &str, alpha3: &str, name: &str) -> Country {
        Country {
            code: code.into(),
            alpha3: alpha3.into(),
            name: name.into(),
            official_name: None,
            aliases: vec![],
            demonyms: vec![],
            capital: None,
            region: None,
            subregion: None,
            un_member: true,
        }
    }

    fn graph() -> Graph {
        Graph {
            countries: vec![
                country("RS", "SRB", "Serbia"),
                country("XK", "XKX", "Kosovo"),
            ],
            people: vec![Person {
                key: "aleksandar-vucic".into(),
                name: "Aleksandar Vučić".into(),
                aliases: vec![],
                posts: vec![Post {
                    title: "President".into(),
                    country: Some("RS".into()),
                    organization: None,
                    start: None,
                    end: None,
                    sources: vec![],
                }],
            }],
            ..Graph::default()
        }
    }

    #[test]
    fn seeds_reads_and_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.is_seeded().unwrap());
        store.seed(&graph()).unwrap();
        assert!(store.is_seeded().unwrap());
        assert_eq!(store.count::<Country>().unwrap(), 2);
        assert_eq!(store.get::<Country>("XK").unwrap().unwrap().name, "Kosovo");
        assert_eq!(store.country_code("xkx").unwrap().as_deref(), Some("XK"));
        assert_eq!(store.country_code("zz").unwrap(), None);
        assert_eq!(
            store.find_by_name::<Person>("vucic").unwrap(),
            ["aleksandar-vucic"]
        );
        assert_eq!(
            store.find_by_name::<Person>("ALEKS").unwrap(),
            ["aleksandar-vucic"]
        );
        assert!(store.find_by_name::<Person>("cic").unwrap().is_empty());
        // Every word narrows the candidates, in any letter case and with spare spaces.
        assert_eq!(
            store.find_by_name::<Person>(" Aleksandar  VUC ").unwrap(),
            ["aleksandar-vucic"]
        );
        assert!(store
            .find_by_name::<Person>("aleksandar vulin")
            .unwrap()
            .is_empty());
        assert!(store.find_by_name::<Person>("   ").unwrap().is_empty());
        let rs = NodeRef::new(NodeKind::Country, "RS");
        assert_eq!(
            store.referrers(&rs, Role::PostCountry).unwrap(),
            ["aleksandar-vucic"]
        );
        assert_eq!(
            store.keys::<Country>(Some("RS"), 10).unwrap().as_slice(),
            ["XK"]
        );
    }

    #[test]
    fn reopening_keeps_data_and_seeding_twice_duplicates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.seed(&graph()).unwrap();
            store.seed(&graph()).unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store.is_seeded().unwrap());
        assert_eq!(store.all::<Country>().unwrap().len(), 2);
        let rs = NodeRef::new(NodeKind::Country, "RS");
        assert_eq!(store.referrers(&rs, Role::PostCountry).unwrap().len(), 1);
    }
}
