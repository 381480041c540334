//! Reference-index upkeep held back during a bulk load, and the rebuild that makes it safe.
//!
//! Why: an import commits a couple of thousand records at a time, and every batch refers to the
//! same popular targets (a few countries are in most facts). Each batch rewrote their last
//! chunk of referrers and their count: at scale 10, 175,531 chunk writes and 173,593 count
//! writes for an index that ends with about 38,000 of each. Held back, a chunk or a count is
//! written once per flush of the held edits. (The chunks alone were 68% of the bytes an import
//! wrote, their counts another 5%.)
//!
//! Safe: the meta key `index_pending` is set, and flushed, before the first edit is held back,
//! and removed only once the last one is written. A store opened with it set (the import was
//! killed) rebuilds the reference index and its counts from the entities. Reads of the index
//! write the held edits first; reads of a count see the held count.
//!
//! Edits held up to the limit are written by a thread of their own while the next batches
//! commit (one flush at a time); the last ones, at the end, by the load's own thread.

use super::{
    reference_keys, referrers, Batch, Entity, SledStore, StoreError, META, META_REFCOUNTS,
    REFCOUNTS, REFS,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Set while edits of the reference index may be held back in memory only.
pub(super) const META_INDEX_PENDING: &[u8] = b"index_pending";
/// Reference entries a rebuild stages per sled batch.
const REBUILD_BATCH: usize = 10_000;

/// The edits held back: what the next write of the index must apply.
pub(super) struct Deferred {
    /// `refs` keys (target \0 role \0 referrer) → present; the last edit of a key wins.
    refs: BTreeMap<Vec<u8>, bool>,
    /// `target \0 role \0` → its count after the held edits (0: remove it).
    counts: HashMap<Vec<u8>, u64>,
    /// Held edits that make the store write them out, to keep memory flat.
    max_refs: usize,
    /// A write of held edits failed: they are gone, and only a rebuild restores the index.
    lost: bool,
    /// The edits held before these, still being written out by a thread of their own.
    in_flight: Option<InFlight>,
}

/// Held edits written out on a thread of their own while the load goes on. A load commits
/// from one thread, so the other core has the time: writing the edits took 19% of an
/// import's thread at scale 10.
struct InFlight {
    /// Their counts, read in place of sled's until the thread is joined: sled may not have
    /// them yet. (Chunks need no such view: every read of them joins the thread first.)
    counts: Arc<HashMap<Vec<u8>, u64>>,
    writer: Option<JoinHandle<Result<(), StoreError>>>,
}

impl InFlight {
    /// Waits for the thread; its edits are in sled once this returns `Ok`.
    fn join(mut self) -> Result<(), StoreError> {
        match self.writer.take().map(JoinHandle::join) {
            Some(Ok(written)) => written,
            Some(Err(_panicked)) => Err(StoreError::IndexLost),
            None => Ok(()),
        }
    }
}

impl Drop for InFlight {
    /// A store dropped unsettled still waits for the thread, which holds its trees: the data
    /// dir stays locked until it ends.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Writes reference edits into the chunks they land in, then the counts. No transaction: the
/// pending marker covers a write cut short. One entry at a time, because a sled batch takes
/// the lock every commit needs for as long as it runs.
fn write_edits(
    referrer_tree: &sled::Tree,
    count_tree: &sled::Tree,
    refs: BTreeMap<Vec<u8>, bool>,
    counts: &HashMap<Vec<u8>, u64>,
) -> Result<(), StoreError> {
    let edits = Batch {
        ops: refs
            .into_iter()
            .map(|(key, present)| (REFS, key, present.then(Vec::new)))
            .collect(),
    };
    for (_, key, value) in referrers::pack(referrer_tree, &edits)? {
        match value {
            Some(v) => referrer_tree.insert(key, v)?,
            None => referrer_tree.remove(key)?,
        };
    }
    for (prefix, count) in counts {
        match count {
            0 => count_tree.remove(prefix)?,
            n => count_tree.insert(prefix.as_slice(), n.to_be_bytes().as_slice())?,
        };
    }
    Ok(())
}

impl Deferred {
    /// Takes over the index ops of a batch that has landed.
    fn hold(&mut self, batch: &Batch) {
        for (tree, key, value) in &batch.ops {
            if *tree == REFS {
                self.refs.insert(key.clone(), value.is_some());
            } else if *tree == REFCOUNTS {
                let count = value
                    .as_deref()
                    .and_then(|v| <[u8; 8]>::try_from(v).ok())
                    .map_or(0, u64::from_be_bytes);
                self.counts.insert(key.clone(), count);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.refs.is_empty() && self.counts.is_empty()
    }

    /// Waits for the edits in flight, if any; a failed write of them loses the index.
    fn finish_in_flight(&mut self) -> Result<(), StoreError> {
        let Some(in_flight) = self.in_flight.take() else {
            return Ok(());
        };
        let written = in_flight.join();
        self.lost |= written.is_err();
        written
    }
}

impl SledStore {
    /// Holds back the upkeep of the reference index (referrer chunks and counts) until
    /// `settle_reference_index`, writing it out whenever `max_refs` reference edits are held.
    /// For bulk loads, where no one else reads: reads through this store still see every
    /// commit. Until settled, a reopened store rebuilds the index from the entities. A small
    /// store also keeps the nodes it has held in memory meanwhile (`known.rs`).
    pub fn defer_reference_index(&self, max_refs: usize) -> Result<(), StoreError> {
        // A commit holds back its index ops only if deferral is on both before and after its
        // transaction: no commit may be in flight while it is switched (the store's write lock
        // is held).
        let mut deferred = self.lock_deferred();
        if deferred.is_some() {
            return Ok(());
        }
        self.start_knowing(super::known::MAX_SCANNED)?;
        let marked = (|| {
            self.tree(META)?
                .insert(META_INDEX_PENDING, b"1".as_slice())?;
            self.db.flush()?;
            Ok::<_, StoreError>(())
        })();
        if let Err(e) = marked {
            self.stop_knowing();
            return Err(e);
        }
        *deferred = Some(Deferred {
            refs: BTreeMap::new(),
            counts: HashMap::new(),
            max_refs: max_refs.max(1),
            lost: false,
            in_flight: None,
        });
        self.deferring.store(true, Ordering::Release);
        Ok(())
    }

    /// Writes the held edits and ends the deferral. On failure the data dir keeps its marker,
    /// and the index is rebuilt when it is next opened.
    pub fn settle_reference_index(&self) -> Result<(), StoreError> {
        let mut deferred = self.lock_deferred();
        let Some(mut held) = deferred.take() else {
            return Ok(());
        };
        self.deferring.store(false, Ordering::Release);
        self.stop_knowing();
        self.write_held(&mut held)?;
        if held.lost {
            return Err(StoreError::IndexLost);
        }
        self.tree(META)?.remove(META_INDEX_PENDING)?;
        self.db.flush()?;
        Ok(())
    }

    fn lock_deferred(&self) -> std::sync::MutexGuard<'_, Option<Deferred>> {
        self.deferred
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// While deferring: takes over the index ops of a batch that has just landed, and writes
    /// them out once enough are held. The caller holds the write lock.
    pub(super) fn hold_index_ops(&self, batch: &Batch) -> Result<(), StoreError> {
        let mut deferred = self.lock_deferred();
        let Some(held) = deferred.as_mut() else {
            return Ok(());
        };
        held.hold(batch);
        if held.refs.len() >= held.max_refs {
            self.write_held_behind(held)?;
        }
        Ok(())
    }

    /// Whether reference-index ops are being held back (the caller leaves them out of sled).
    pub(super) fn is_deferring(&self) -> bool {
        self.deferring.load(Ordering::Acquire)
    }

    /// The held count of a `target \0 role \0` prefix, if a held edit set it.
    pub(super) fn held_count(&self, prefix: &[u8]) -> Option<u64> {
        if !self.deferring.load(Ordering::Acquire) {
            return None;
        }
        let deferred = self.lock_deferred();
        let held = deferred.as_ref()?;
        held.counts
            .get(prefix)
            .or_else(|| held.in_flight.as_ref()?.counts.get(prefix))
            .copied()
    }

    /// Brings the index in sled level with every commit, before a read of it.
    pub(super) fn write_held_edits(&self) -> Result<(), StoreError> {
        if !self.deferring.load(Ordering::Acquire) {
            return Ok(());
        }
        match self.lock_deferred().as_mut() {
            Some(held) => self.write_held(held),
            None => Ok(()),
        }
    }

    /// Writes the held edits, after any still in flight, and waits for them.
    fn write_held(&self, held: &mut Deferred) -> Result<(), StoreError> {
        held.finish_in_flight()?;
        if held.is_empty() {
            return Ok(());
        }
        let written = write_edits(
            self.tree(referrers::REFERRERS)?,
            self.tree(REFCOUNTS)?,
            std::mem::take(&mut held.refs),
            &std::mem::take(&mut held.counts),
        );
        held.lost |= written.is_err();
        written
    }

    /// Hands the held edits to a thread that writes them while the next commits land, after
    /// waiting for the ones before them.
    fn write_held_behind(&self, held: &mut Deferred) -> Result<(), StoreError> {
        held.finish_in_flight()?;
        let refs = std::mem::take(&mut held.refs);
        let counts = Arc::new(std::mem::take(&mut held.counts));
        let (referrer_tree, count_tree) = (
            self.tree(referrers::REFERRERS)?.clone(),
            self.tree(REFCOUNTS)?.clone(),
        );
        let thread_counts = Arc::clone(&counts);
        let writer = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || write_edits(&referrer_tree, &count_tree, refs, &thread_counts));
        match writer {
            Ok(writer) => {
                held.in_flight = Some(InFlight {
                    counts,
                    writer: Some(writer),
                });
                Ok(())
            }
            // The closure, and the edits in it, are gone with the failed spawn.
            Err(_) => {
                held.lost = true;
                Err(StoreError::IndexLost)
            }
        }
    }

    /// The marker of an unsettled deferral was found on open: derives the reference index and
    /// its counts again from every entity. A rebuild cut short starts over.
    pub(super) fn rebuild_reference_index(&self) -> Result<(), StoreError> {
        // It takes a while on a large store (4.9 s at scale 10, search index included), so
        // the operator hears why before the wait.
        tracing::warn!(
            "an import into this data dir was cut short: rebuilding its reference index from the entities"
        );
        let staged = self.db.open_tree(REFS)?;
        staged.clear()?;
        let mut references = 0;
        crate::for_every_kind!(E => {
            references += self.stage_references::<E>(&staged)?;
        });
        referrers::migrate(&staged, self.tree(referrers::REFERRERS)?)?;
        self.count_all_referrers()?;
        self.db.drop_tree(REFS)?;
        self.tree(META)?.remove(META_INDEX_PENDING)?;
        self.db.flush()?;
        tracing::info!(references, "rebuilt the reference index");
        Ok(())
    }

    /// Writes one `refs` entry per reference of every `E` into `staged`.
    fn stage_references<E: Entity>(&self, staged: &sled::Tree) -> Result<u64, StoreError> {
        let mut batch = sled::Batch::default();
        let (mut in_batch, mut staged_count) = (0, 0);
        self.for_each::<E, StoreError>(|entity| {
            for key in reference_keys(&entity) {
                batch.insert(key, b"".as_slice());
                in_batch += 1;
                staged_count += 1;
            }
            if in_batch >= REBUILD_BATCH {
                staged.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
            Ok(())
        })?;
        staged.apply_batch(batch)?;
        Ok(staged_count)
    }

    /// Fills `refcounts` from the reference index: after a rebuild, or for a data dir written
    /// before counts were kept.
    pub(super) fn count_all_referrers(&self) -> Result<(), StoreError> {
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        referrers::for_each(self.tree(referrers::REFERRERS)?, b"", |prefix, _| {
            *counts.entry(prefix.to_vec()).or_default() += 1;
            Ok(())
        })?;
        let tree = self.tree(REFCOUNTS)?;
        tree.clear()?;
        let mut batch = sled::Batch::default();
        for (i, (prefix, n)) in counts.into_iter().enumerate() {
            batch.insert(prefix, n.to_be_bytes().to_vec());
            if (i + 1) % REBUILD_BATCH == 0 {
                tree.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        tree.apply_batch(batch)?;
        self.tree(META)?.insert(META_REFCOUNTS, b"1".as_slice())?;
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::domain::{Fact, NodeKind, NodeRef};
    use crate::ingest::dataset::{load, DatasetFiles};
    use crate::store::Store;
    use crate::store::Write;

    type Index = (Vec<(Vec<u8>, String)>, Vec<(Vec<u8>, Vec<u8>)>);

    /// Every (target-role prefix, referrer) in order, and every count.
    fn index_of(store: &Store) -> Index {
        let mut references = Vec::new();
        referrers::for_each(
            store.sled().tree(referrers::REFERRERS).unwrap(),
            b"",
            |p, r| {
                references.push((p.to_vec(), r));
                Ok(())
            },
        )
        .unwrap();
        let counts = store
            .sled()
            .tree(REFCOUNTS)
            .unwrap()
            .iter()
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        (references, counts)
    }

    fn xk() -> NodeRef {
        NodeRef::new(NodeKind::Country, "XK")
    }

    fn seed_builtin(store: &Store) {
        let graph = load(&DatasetFiles::builtin()).unwrap();
        store.seed(&graph).unwrap();
    }

    /// The index a plain store has once seeded.
    fn plain_seeded_index() -> Index {
        let dir = tempfile::tempdir().unwrap();
        let plain = Store::open(dir.path()).unwrap();
        seed_builtin(&plain);
        index_of(&plain)
    }

    /// A store in `dir`, seeded with every reference edit still held.
    fn seeded_holding_every_edit(dir: &std::path::Path) -> Store {
        let store = Store::open(dir).unwrap();
        store.defer_reference_index(1_000_000).unwrap();
        seed_builtin(&store);
        store
    }

    /// Whether the data dir carries the marker of an unsettled deferral.
    fn pending(store: &Store) -> bool {
        store
            .sled()
            .tree(META)
            .unwrap()
            .contains_key(META_INDEX_PENDING)
            .unwrap()
    }

    /// The built-in data set, then one statement moved from Kosovo to Serbia and another
    /// deleted (its check reads the referrers of what it deletes). Returns what was read of
    /// Kosovo's statements after each step.
    fn write_and_read(store: &Store) -> Vec<(u64, Vec<String>)> {
        let mut seen = Vec::new();
        let mut read = |store: &Store| {
            seen.push((
                store.referrer_count(&xk(), Role::About).unwrap(),
                store.referrers(&xk(), Role::About).unwrap(),
            ))
        };
        seed_builtin(store);
        read(store);
        let about = store.referrers(&xk(), Role::About).unwrap();
        let w = store.lock_writes();
        let mut moved: crate::domain::Statement = store.get(&about[0]).unwrap().unwrap();
        moved.about = vec![NodeRef::new(NodeKind::Country, "RS")];
        w.commit(&[Write::Upsert(Fact::Statement(moved))], "t", None)
            .unwrap();
        read(store);
        w.commit(
            &[Write::Delete {
                node: NodeRef::new(NodeKind::Statement, &about[1]),
                cascade: false,
                expected_revision: None,
            }],
            "t",
            None,
        )
        .unwrap();
        read(store);
        seen
    }

    fn plain() -> (Vec<(u64, Vec<String>)>, Index) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (write_and_read(&store), index_of(&store))
    }

    #[test]
    fn held_edits_are_read_back_and_settle_into_the_same_index() {
        let (reads, index) = plain();
        assert!(reads[0].0 >= 3 && reads[2].0 == reads[0].0 - 2, "{reads:?}");
        // Held until the end, and written out after nearly every edit.
        for max_refs in [1_000_000, 3] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            store.defer_reference_index(max_refs).unwrap();
            assert!(pending(&store));
            assert_eq!(write_and_read(&store), reads, "held up to {max_refs}");
            store.settle_reference_index().unwrap();
            assert!(
                index_of(&store) == index,
                "held up to {max_refs}: the index differs"
            );
            assert!(!pending(&store));
        }
    }

    /// The built-in data set, then 120 commits of one statement each, alternately about
    /// Kosovo and Serbia, every fourth taking back one of Kosovo's earlier ones. Returns
    /// Kosovo's and Serbia's counts after each commit.
    fn many_commits(store: &Store) -> Vec<(u64, u64)> {
        let rs = NodeRef::new(NodeKind::Country, "RS");
        seed_builtin(store);
        let first = store.referrers(&xk(), Role::About).unwrap()[0].clone();
        let template: crate::domain::Statement = store.get(&first).unwrap().unwrap();
        let w = store.lock_writes();
        let mut counts = Vec::new();
        for i in 0..120 {
            let mut statement = template.clone();
            statement.key = format!("load-{i}");
            statement.about = vec![if i % 2 == 0 { xk() } else { rs.clone() }];
            let mut writes = vec![Write::Upsert(Fact::Statement(statement))];
            if i % 4 == 3 {
                writes.push(Write::Delete {
                    node: NodeRef::new(NodeKind::Statement, format!("load-{}", i - 3)),
                    cascade: false,
                    expected_revision: None,
                });
            }
            w.commit(&writes, "t", None).unwrap();
            counts.push((
                store.referrer_count(&xk(), Role::About).unwrap(),
                store.referrer_count(&rs, Role::About).unwrap(),
            ));
        }
        counts
    }

    #[test]
    fn edits_written_behind_the_commits_give_the_plain_counts_and_index() {
        let dir = tempfile::tempdir().unwrap();
        let plain = Store::open(dir.path()).unwrap();
        let counts = many_commits(&plain);
        assert_eq!(counts.last(), Some(&(counts[0].0 + 29, counts[0].1 + 60)));
        let index = index_of(&plain);
        // A write behind every few commits, each while the next ones land.
        for max_refs in [2, 5] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            store.defer_reference_index(max_refs).unwrap();
            assert_eq!(many_commits(&store), counts, "held up to {max_refs}");
            store.settle_reference_index().unwrap();
            assert!(
                index_of(&store) == index,
                "held up to {max_refs}: the index differs"
            );
        }
    }

    #[test]
    fn counts_in_flight_are_read_from_memory_until_their_thread_is_joined() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        seed_builtin(&store);
        let prefix = super::super::refs_prefix(&xk(), Role::About);
        // Not `referrer_count`: its answers are kept in memory.
        let written = store.sled().refcount(&prefix).unwrap();
        store.defer_reference_index(1_000_000).unwrap();
        // A writer that has not reached sled yet: it waits until told to end, writing nothing.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            let _ = wait.recv();
            Ok(())
        });
        store.sled().lock_deferred().as_mut().unwrap().in_flight = Some(InFlight {
            counts: Arc::new(HashMap::from([(prefix.clone(), written + 7)])),
            writer: Some(writer),
        });
        assert_eq!(store.sled().refcount(&prefix).unwrap(), written + 7);
        release.send(()).unwrap();
        store
            .sled()
            .lock_deferred()
            .as_mut()
            .unwrap()
            .finish_in_flight()
            .unwrap();
        assert_eq!(store.sled().refcount(&prefix).unwrap(), written);
    }

    #[test]
    fn a_write_behind_that_fails_keeps_the_marker_and_the_next_open_rebuilds() {
        let index = plain_seeded_index();
        let dir = tempfile::tempdir().unwrap();
        {
            let store = seeded_holding_every_edit(dir.path());
            // The held edits go to a writer that fails without writing them.
            let failing = std::thread::spawn(|| Err(StoreError::Codec("disk gone".into())));
            {
                let mut deferred = store.sled().lock_deferred();
                let held = deferred.as_mut().unwrap();
                held.refs.clear();
                held.counts.clear();
                held.in_flight = Some(InFlight {
                    counts: Arc::default(),
                    writer: Some(failing),
                });
            }
            assert!(store.settle_reference_index().is_err());
            assert!(pending(&store));
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(index_of(&store) == index, "the rebuilt index differs");
    }

    #[test]
    fn counts_read_while_edits_are_held_leave_sled_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let store = seeded_holding_every_edit(dir.path());
        assert!(store.referrer_count(&xk(), Role::About).unwrap() >= 3);
        assert_eq!(
            index_of(&store),
            (Vec::new(), Vec::new()),
            "nothing written yet"
        );
    }

    #[test]
    fn a_data_dir_left_with_held_edits_rebuilds_its_index_when_opened() {
        let index = plain_seeded_index();
        let dir = tempfile::tempdir().unwrap();
        {
            let store = seeded_holding_every_edit(dir.path());
            // Killed here: the held edits never reach sled, and a chunk is left over.
            store
                .sled()
                .tree(referrers::REFERRERS)
                .unwrap()
                .insert(b"Country:XK\0about\0", b"stale".as_slice())
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(index_of(&store) == index, "the rebuilt index differs");
        assert!(!pending(&store));
        assert!(!store.sled().holds_format_1_references());
        drop(store);
        // Rebuilt once: the next open finds nothing to do.
        let store = Store::open(dir.path()).unwrap();
        assert!(
            index_of(&store) == index,
            "the index changed on a second open"
        );
    }
}
