//! The sled backend. Nothing outside this module sees trees, keys or bytes.
//!
//! Layout: one tree per entity kind (key = the entity's key, value = a versioned encoding, see
//! `codec.rs`), plus index trees: `referrers` (target \0 role \0 bound → a sorted chunk of
//! referrers Kind:key, see `referrers.rs`), `names` (kind \0 folded token \0 key),
//! `refcounts` (target \0 role \0 → how many referrers, so a page of referrers never scans
//! them all), `codes` (alpha-2 or alpha-3 → alpha-2) and `urls` (source URL → key);
//! `revisions` (node \0 big-endian number → who, when, what), `keys` and `key_hashes` (API
//! keys), and `meta` (storage format, per-kind counts, the seeded marker, the sequence). A plan
//! is applied whole (`apply.rs`): a small one key by key behind a journal, logged first in the
//! write-ahead log (`wal.rs`), a large one in one sled transaction.

mod apply;
mod check;
mod codec;
mod deferred;
mod journal;
mod keys;
mod known;
mod referrers;
mod wal;

use crate::domain::{all_references, text, Entity, Fact, NodeKind, NodeRef, Role};
use crate::store::{
    ApiKey, Backend, CheckReport, IndexAnswer, IndexRead, Plan, Revision, StoreError,
};
use referrers::REFERRERS;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> StoreError {
        StoreError::Backend(e.to_string())
    }
}

const META: &str = "meta";
/// Reference entries (target \0 role \0 referrer) in a `Batch`: `apply` packs them into
/// `referrers`. Also the tree that held them one entry each, in storage format 1.
const REFS: &str = "refs";
const REFCOUNTS: &str = "refcounts";
const NAMES: &str = "names";
const CODES: &str = "codes";
const URLS: &str = "urls";
const REVISIONS: &str = "revisions";
const META_FORMAT: &[u8] = b"format";
/// The layout of the trees (values carry their own version, `codec`). 2: references packed
/// into chunks. 3: entities in codec version 2, where fields can be added. Older data dirs are
/// upgraded when opened.
const STORE_FORMAT: u8 = 3;
const META_SEEDED: &[u8] = b"seeded";
/// The seeded marker's value in a store made without the built-in dataset.
const META_SEEDED_NONE: &[u8] = b"none";
/// How many commits the store has made: the search index records the one it caught up with.
const META_SEQUENCE: &[u8] = b"sequence";
/// Set once `refcounts` agrees with `refs` (data dirs from before it existed are counted once).
const META_REFCOUNTS: &[u8] = b"refcounts";

/// The tree holding a kind's entities (a provision lives inside its agreement).
fn tree_name(kind: NodeKind) -> &'static str {
    kind.plural()
}

fn count_key(kind: NodeKind) -> Vec<u8> {
    format!("count:{}", tree_name(kind)).into_bytes()
}

fn refs_prefix(target: &NodeRef, role: Role) -> Vec<u8> {
    format!("{target}\0{}\0", role.tag()).into_bytes()
}

/// The `target \0 role \0` part of a `refs` key.
fn refs_key_prefix(key: &[u8]) -> Option<&[u8]> {
    let first = key.iter().position(|b| *b == 0)?;
    let second = key[first + 1..].iter().position(|b| *b == 0)?;
    Some(&key[..first + second + 2])
}

fn names_prefix(kind: NodeKind, token: &str) -> Vec<u8> {
    format!("{kind}\0{token}").into_bytes()
}

fn utf8(bytes: &[u8]) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| StoreError::Codec(e.to_string()))
}

/// Decodes a stored value as the store would (for the fuzz targets): Ok or an error, never a
/// panic.
#[doc(hidden)]
pub fn fuzz_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> bool {
    codec::decode::<T>(bytes).is_ok()
}

/// Entries a compacting copy writes between flushes.
const COMPACT_BATCH: usize = 10_000;
/// The page cache of a compacting copy's target: it is written once, in order. sled's memory
/// grows well past its cache setting: compacting the scale-100 store peaked at 1.14 GiB of RSS
/// with 64 MiB here, 0.87 GiB with 16 MiB.
const COMPACT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// sled's page cache when no size is configured.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Every tree the store uses besides one per stored kind (`tree_name`).
const INDEX_TREES: &[&str] = &[
    META,
    REFERRERS,
    REFCOUNTS,
    NAMES,
    CODES,
    URLS,
    REVISIONS,
    keys::KEYS,
    keys::KEY_HASHES,
];

/// Every tree the store uses; opened once, since `open_tree` takes a lock on each call.
fn all_trees() -> impl Iterator<Item = &'static str> {
    let kinds = crate::domain::STORED.iter().map(|k| tree_name(*k));
    INDEX_TREES.iter().copied().chain(kinds)
}

pub struct SledStore {
    db: sled::Db,
    trees: HashMap<&'static str, sled::Tree>,
    /// Reference-index edits held back during a bulk load (`deferred.rs`), and whether there
    /// is such a load, so that reads need not lock to find out.
    deferred: std::sync::Mutex<Option<deferred::Deferred>>,
    deferring: std::sync::atomic::AtomicBool,
    /// The nodes ever held, during a bulk load into a small store (`known.rs`), and whether
    /// they are kept, so that reads need not lock to find out.
    known: std::sync::Mutex<Option<known::KnownNodes>>,
    knowing: std::sync::atomic::AtomicBool,
    /// sled's log file (`db` in the data dir), for `fdatasync`.
    log: Option<std::fs::File>,
    /// Journaled plans, written to it before they are applied (`wal.rs`); held from a plan's
    /// record until the plan is applied, and by a full sync from sled's flush until the log
    /// has started over.
    wal: parking_lot::Mutex<wal::WriteAheadLog>,
    /// The log's file, to `fdatasync` without holding the log.
    wal_file: std::fs::File,
    /// Something not in the log was written (a transaction) since the last full sync: the
    /// next sync must flush sled.
    full_sync_due: std::sync::atomic::AtomicBool,
    /// Held shared by every read, alone while a journaled plan's operations are applied: no
    /// read sees a plan half applied (a sled transaction gives the same with sled's own lock).
    visibility: parking_lot::RwLock<()>,
    /// A journaled plan could not be finished: no write is planned on a half-applied store
    /// until opening it finishes that plan.
    journal_pending: std::sync::atomic::AtomicBool,
    /// Tests cut this many applications of a journal short, after `cut_at` operations.
    #[cfg(test)]
    cuts: std::sync::atomic::AtomicUsize,
    #[cfg(test)]
    cut_at: std::sync::atomic::AtomicUsize,
    /// Tests make sled refuse the next journal entry.
    #[cfg(test)]
    refuse_journal: std::sync::atomic::AtomicBool,
}

/// Writes computed before a transaction starts, because sled may run the closure more than
/// once. `None` removes the key.
#[derive(Default)]
struct Batch {
    ops: Vec<Op>,
}

/// Tree, key, and the value to set (`None`: remove the key).
type Op = (&'static str, Vec<u8>, Option<Vec<u8>>);

impl Batch {
    fn put(&mut self, tree: &'static str, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.ops.push((tree, key.into(), Some(value)));
    }

    fn remove(&mut self, tree: &'static str, key: impl Into<Vec<u8>>) {
        self.ops.push((tree, key.into(), None));
    }
}

/// The `refs` keys (target \0 role \0 Kind:key) of an entity's references.
fn reference_keys<E: Entity>(item: &E) -> Vec<Vec<u8>> {
    let me = NodeRef::new(E::KIND, item.key()).to_string();
    all_references(item)
        .into_iter()
        .map(|(role, target)| {
            let mut k = refs_prefix(&target, role);
            k.extend_from_slice(me.as_bytes());
            k
        })
        .collect()
}

/// The index keys an entity owns: its reverse references, name tokens, codes and URL.
fn index_entries<E: Entity>(item: &E) -> Vec<(&'static str, Vec<u8>)> {
    let key = item.key();
    let mut out: Vec<(&'static str, Vec<u8>)> = reference_keys(item)
        .into_iter()
        .map(|k| (REFS, k))
        .collect();
    let mut tokens = BTreeSet::new();
    for name in item.names() {
        tokens.extend(text::fold(name).split(' ').map(str::to_string));
    }
    for token in tokens.into_iter().filter(|t| !t.is_empty()) {
        let mut k = names_prefix(E::KIND, &token);
        k.push(0);
        k.extend_from_slice(key.as_bytes());
        out.push((NAMES, k));
    }
    out
}

/// Index entries whose value is not empty: country codes and source URLs.
fn valued_entries(fact: &Fact) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    match fact {
        Fact::Country(c) => vec![
            (
                CODES,
                c.code.as_bytes().to_vec(),
                c.code.as_bytes().to_vec(),
            ),
            (
                CODES,
                c.alpha3.as_bytes().to_vec(),
                c.code.as_bytes().to_vec(),
            ),
        ],
        Fact::Source(s) => s
            .url
            .iter()
            .map(|u| (URLS, u.as_bytes().to_vec(), s.key.as_bytes().to_vec()))
            .collect(),
        _ => Vec::new(),
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, keeping at most `cache_bytes` of pages in memory.
    /// One per process: sled locks the dir.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        // A store closed a moment ago (a CLI command, then the server) may still hold sled's
        // lock while its flusher winds down: wait a little before calling the dir busy.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let db = loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(cache_bytes)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(io))
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    if std::time::Instant::now() >= deadline {
                        return Err(StoreError::Locked(io.to_string()));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(other) => return Err(other.into()),
            }
        };
        let trees = all_trees()
            .map(|name| Ok((name, db.open_tree(name)?)))
            .collect::<Result<HashMap<_, _>, sled::Error>>()?;
        // Opened for its descriptor only: fdatasync through any descriptor of a file flushes
        // that file.
        let log = match std::fs::File::open(dir.join("db")) {
            Ok(file) => Some(file),
            Err(e) => {
                tracing::warn!(error = %e, "sled's log file was not found: syncs rely on sled's flush alone");
                None
            }
        };
        let (wal, logged) = wal::WriteAheadLog::open(dir)?;
        let wal_file = wal.handle()?;
        let store = SledStore {
            db,
            log,
            wal: parking_lot::Mutex::new(wal),
            wal_file,
            full_sync_due: std::sync::atomic::AtomicBool::new(true),
            trees,
            deferred: std::sync::Mutex::new(None),
            deferring: std::sync::atomic::AtomicBool::new(false),
            known: std::sync::Mutex::new(None),
            knowing: std::sync::atomic::AtomicBool::new(false),
            visibility: parking_lot::RwLock::new(()),
            journal_pending: std::sync::atomic::AtomicBool::new(false),
            #[cfg(test)]
            cuts: std::sync::atomic::AtomicUsize::new(0),
            #[cfg(test)]
            cut_at: std::sync::atomic::AtomicUsize::new(0),
            #[cfg(test)]
            refuse_journal: std::sync::atomic::AtomicBool::new(false),
        };
        let meta = store.tree(META)?;
        match meta.get(META_FORMAT)?.as_deref() {
            None => {
                meta.insert(META_FORMAT, &[STORE_FORMAT])?;
            }
            Some([STORE_FORMAT]) => {}
            Some([1]) => {
                store.upgrade_from_format_1()?;
                store.upgrade_from_format_2()?;
            }
            Some([2]) => store.upgrade_from_format_2()?,
            Some(other) => {
                return Err(StoreError::UnsupportedFormat {
                    found: other.first().copied().unwrap_or(0),
                    expected: STORE_FORMAT,
                })
            }
        }
        // A plan cut short by a crash is finished before anything reads the store, and then
        // the plans acknowledged since sled's last flush are applied again.
        store.finish_journaled_plan()?;
        store.replay_write_ahead_log(logged)?;
        if meta.contains_key(deferred::META_INDEX_PENDING)? {
            store.rebuild_reference_index()?;
        }
        // An upgrade stopped after it recorded the new format leaves the old tree behind.
        if store.db.tree_names().iter().any(|n| n == REFS.as_bytes()) {
            store.db.drop_tree(REFS)?;
        }
        if !meta.contains_key(META_REFCOUNTS)? {
            store.count_all_referrers()?;
        }
        Ok(store)
    }

    /// Packs the one-entry-per-reference index of a format-1 data dir into chunks. The new
    /// format is recorded only once the chunks are flushed: a stopped upgrade starts over.
    fn upgrade_from_format_1(&self) -> Result<(), StoreError> {
        let old = self.db.open_tree(REFS)?;
        let packed = referrers::migrate(&old, self.tree(REFERRERS)?)?;
        self.db.flush()?;
        self.tree(META)?.insert(META_FORMAT, &[2])?;
        self.db.flush()?;
        tracing::info!(
            references = packed,
            "upgraded the data dir to storage format 2"
        );
        Ok(())
    }

    /// Rewrites every entity written in the postcard format (codec version 1), which could not
    /// be read once its kind gained a field, in the current one. Index values stay as they are
    /// (the codec reads both). Rewriting a value twice is harmless, so a stopped upgrade simply
    /// runs again.
    fn upgrade_from_format_2(&self) -> Result<(), StoreError> {
        let mut rewritten = 0u64;
        crate::for_every_kind!(E => {
            rewritten += self.rewrite_postcard_values::<E>()?;
        });
        self.db.flush()?;
        self.tree(META)?.insert(META_FORMAT, &[STORE_FORMAT])?;
        self.db.flush()?;
        tracing::info!(
            entities = rewritten,
            "upgraded the data dir to storage format {STORE_FORMAT}"
        );
        Ok(())
    }

    fn rewrite_postcard_values<E: Entity>(&self) -> Result<u64, StoreError> {
        let tree = self.tree(tree_name(E::KIND))?;
        let mut rewritten = 0;
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for entry in tree.iter() {
            let (key, value) = entry?;
            if !codec::is_postcard(&value) {
                continue;
            }
            let entity: E = codec::decode(&value)?;
            batch.insert(key, codec::encode(&entity)?);
            rewritten += 1;
            pending += 1;
            if pending == COMPACT_BATCH {
                tree.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        tree.apply_batch(batch)?;
        Ok(rewritten)
    }

    fn tree(&self, name: &str) -> Result<&sled::Tree, StoreError> {
        self.trees
            .get(name)
            .ok_or_else(|| StoreError::Codec(format!("no tree named {name}")))
    }

    /// Whether the store has had its first contents: the built-in dataset, or none by choice
    /// (`import --no-builtin`). Either way nothing is ever seeded into it again.
    fn is_seeded(&self) -> Result<bool, StoreError> {
        Ok(self.tree(META)?.contains_key(META_SEEDED)?)
    }

    /// Records that this store goes without the built-in dataset, for good: a data dir made by
    /// `import --no-builtin` keeps only what was imported, however it is opened later.
    fn mark_seeded_without_builtin(&self) -> Result<(), StoreError> {
        let meta = self.tree(META)?;
        if !meta.contains_key(META_SEEDED)? {
            meta.insert(META_SEEDED, META_SEEDED_NONE)?;
            self.db.flush()?;
        }
        Ok(())
    }

    /// Applies a batch across every tree it touches, whole or not at all, its reference
    /// entries packed into the chunks they land in.
    ///
    /// While a bulk load defers the reference index, its ops (references and counts) are held
    /// back once the rest has landed. The caller holds the write lock, so deferral cannot start
    /// or end meanwhile.
    fn write_batch(&self, batch: &Batch, journal_as: Option<u64>) -> Result<(), StoreError> {
        let deferring = self.is_deferring();
        let packed = match deferring {
            true => Vec::new(),
            false => referrers::pack(self.tree(REFERRERS)?, batch)?,
        };
        let ops: Vec<&Op> = batch
            .ops
            .iter()
            .filter(|(tree, _, _)| *tree != REFS && !(deferring && *tree == REFCOUNTS))
            .chain(&packed)
            .collect();
        match journal_as {
            Some(sequence) => {
                let ops: Vec<_> = ops.into_iter().map(journal::op_ref).collect();
                self.apply_journaled(&ops, Some(sequence))?
            }
            None => self.apply_in_transaction(&ops)?,
        }
        if deferring {
            self.hold_index_ops(batch)?;
        }
        Ok(())
    }

    /// Whether a plan is applied behind a journal (`journal.rs`) rather than in a transaction:
    /// a small one, outside a bulk load (whose held-back index edits are not journaled).
    fn journals(&self, plan: &Plan) -> bool {
        !self.is_deferring() && plan.changes.len() <= journal::JOURNALED_CHANGES_AT_MOST
    }

    /// `ops` in one sled transaction.
    fn apply_in_transaction(&self, ops: &[&Op]) -> Result<(), StoreError> {
        let mut names: Vec<&'static str> = ops.iter().map(|(t, _, _)| *t).collect();
        names.sort_unstable();
        names.dedup();
        let trees = names
            .iter()
            .map(|n| self.tree(n))
            .collect::<Result<Vec<_>, _>>()?;
        let position: HashMap<&str, usize> =
            names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        trees
            .as_slice()
            .transaction(|tx| {
                for (tree, key, value) in ops {
                    match value {
                        Some(v) => tx[position[tree]].insert(key.as_slice(), v.as_slice())?,
                        None => tx[position[tree]].remove(key.as_slice())?,
                    };
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                TransactionError::Storage(e) => e.into(),
                TransactionError::Abort(()) => StoreError::Codec("transaction aborted".into()),
            })?;
        // Set once applied, so that the sync that covers this plan (begun after) sees it.
        self.full_sync_due
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// `ops` key by key behind a journal entry (`journal.rs`), first written to the
    /// write-ahead log with the sequence they bring the store to (unless they come from it).
    /// If they fail part way they are tried once more from the journal; if that fails too,
    /// the store takes no more writes until it is opened again, which finishes them.
    fn apply_journaled(
        &self,
        ops: &[journal::OpRef<'_>],
        log_as: Option<u64>,
    ) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        if self.journal_pending.load(Ordering::Acquire) {
            return Err(StoreError::Backend(
                "an earlier write could not be finished: restart the server (reopen the store) \
                 to finish it before writing again"
                    .into(),
            ));
        }
        let meta = self.tree(META)?;
        let mut wal = self.wal.lock();
        let logged_from = wal.end();
        let encoded = journal::encode(ops);
        if let Some(sequence) = log_as {
            wal.append(sequence, &encoded)?;
        }
        if let Err(e) = self.test_refusal().and_then(|()| {
            meta.insert(journal::META_JOURNAL, encoded)?;
            Ok(())
        }) {
            // Nothing of the plan is applied: it must not come back from the log either. If it
            // cannot be taken back, opening the store again will apply it: no write is planned
            // on a store that is not what it will be.
            if log_as.is_some() {
                if let Err(again) = wal.take_back_to(logged_from) {
                    self.journal_pending.store(true, Ordering::Release);
                    tracing::error!(error = %e, again = %again, "a refused write stays logged");
                }
            }
            return Err(e);
        }
        let applied = self.apply_ops(ops.iter().copied()).and_then(|()| {
            meta.remove(journal::META_JOURNAL)?;
            Ok(())
        });
        match applied {
            Ok(()) => Ok(()),
            Err(first) => match self.finish_journaled_plan() {
                Ok(()) => Ok(()),
                Err(again) => {
                    self.journal_pending.store(true, Ordering::Release);
                    tracing::error!(error = %first, again = %again, "a write was cut short");
                    Err(first)
                }
            },
        }
    }

    /// Applies operations holding the visibility lock alone.
    fn apply_ops<'o>(
        &self,
        ops: impl Iterator<Item = (&'o str, &'o [u8], Option<&'o [u8]>)>,
    ) -> Result<(), StoreError> {
        let _alone = self.visibility.write();
        let cut = self.test_cut();
        for (i, (tree, key, value)) in ops.enumerate() {
            if cut == Some(i) {
                return Err(StoreError::Backend("cut short by a test".into()));
            }
            let tree = self.tree(tree)?;
            match value {
                Some(v) => tree.insert(key, v)?,
                None => tree.remove(key)?,
            };
        }
        Ok(())
    }

    /// Where a test cuts this application of a journal short, if it does.
    #[cfg(test)]
    fn test_cut(&self) -> Option<usize> {
        use std::sync::atomic::Ordering;
        let cut = self.cuts.load(Ordering::Relaxed) > 0;
        if cut {
            self.cuts.fetch_sub(1, Ordering::Relaxed);
        }
        cut.then(|| self.cut_at.load(Ordering::Relaxed))
    }

    #[cfg(not(test))]
    fn test_cut(&self) -> Option<usize> {
        None
    }

    /// Whether a test has sled refuse this journal entry.
    #[cfg(test)]
    fn test_refusal(&self) -> Result<(), StoreError> {
        match self
            .refuse_journal
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            true => Err(StoreError::Backend("refused by a test".into())),
            false => Ok(()),
        }
    }

    #[cfg(not(test))]
    fn test_refusal(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Applies again the logged plans that follow the sequence sled recovered, in order; then,
    /// once sled holds them durably, starts the log over.
    fn replay_write_ahead_log(&self, logged: Vec<wal::Record>) -> Result<(), StoreError> {
        if logged.is_empty() {
            return self.wal.lock().start_over();
        }
        let replay = wal::to_replay(logged, self.sequence()?);
        if !replay.is_empty() {
            tracing::info!(
                plans = replay.len(),
                "applying again the writes logged since sled's last flush"
            );
        }
        for record in &replay {
            let ops: Vec<_> = record.ops.iter().map(journal::owned_op_ref).collect();
            self.apply_journaled(&ops, None)?;
        }
        self.full_sync()
    }

    /// sled's flush, then `fdatasync` of its log (which sled's flush, by `sync_file_range`,
    /// leaves in the drive's volatile cache); then the write-ahead log, all of it now durable
    /// in sled, starts over. Holding the log, so no plan is written to it meanwhile.
    fn full_sync(&self) -> Result<(), StoreError> {
        use std::sync::atomic::Ordering;
        let mut wal = self.wal.lock();
        self.full_sync_due.store(false, Ordering::Release);
        let synced = self
            .db
            .flush()
            .map_err(StoreError::from)
            .and_then(|_| match &self.log {
                Some(log) => log
                    .sync_data()
                    .map_err(|e| StoreError::Backend(format!("fdatasync of the log: {e}"))),
                None => Ok(()),
            });
        if synced.is_err() {
            self.full_sync_due.store(true, Ordering::Release);
        }
        synced?;
        match self.log {
            Some(_) => wal.start_over(),
            // sled's flush alone may leave its log in the drive's cache: the records stay.
            None => Ok(()),
        }
    }

    /// Applies the journal a plan left, if any, and removes it.
    fn finish_journaled_plan(&self) -> Result<(), StoreError> {
        let meta = self.tree(META)?;
        if let Some(bytes) = meta.get(journal::META_JOURNAL)? {
            let ops = journal::decode(&bytes)?;
            tracing::warn!(
                operations = ops.len(),
                "finishing a write that was cut short"
            );
            self.apply_ops(
                ops.iter()
                    .map(|(tree, key, value)| (tree.as_str(), key.as_slice(), value.as_deref())),
            )?;
            meta.remove(journal::META_JOURNAL)?;
            self.db.flush()?;
        }
        self.journal_pending
            .store(false, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Any fact by reference (provisions are not stored on their own: None).
    pub fn get_fact(&self, node: &NodeRef) -> Result<Option<Fact>, StoreError> {
        if self.never_held(node) {
            return Ok(None);
        }
        macro_rules! get_any_kind {
            (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
                match node.kind {
                    $(NodeKind::$kind => self.get(&node.key)?.map(Fact::$kind),)*
                    NodeKind::Provision => None,
                }
            };
        }
        Ok(crate::with_kinds!(get_any_kind))
    }

    /// Whether a node exists; a provision exists when its agreement has that number.
    fn contains(&self, node: &NodeRef) -> Result<bool, StoreError> {
        if self.never_held(node) {
            return Ok(false);
        }
        Ok(self
            .tree(tree_name(node.kind))?
            .contains_key(node.key.as_bytes())?)
    }

    /// Every (role, referrer) that refers to `target`; for an agreement, also those that refer
    /// to its provisions.
    pub fn all_referrers(&self, target: &NodeRef) -> Result<Vec<(String, NodeRef)>, StoreError> {
        self.write_held_edits()?;
        let mut prefixes = vec![format!("{target}\0")];
        if target.kind == NodeKind::Agreement {
            prefixes.push(format!(
                "{}/",
                NodeRef::new(NodeKind::Provision, &target.key)
            ));
        }
        let mut out = Vec::new();
        for prefix in prefixes {
            referrers::for_each(
                self.tree(REFERRERS)?,
                prefix.as_bytes(),
                |owner, referrer| {
                    // owner: target \0 role \0
                    let role = owner
                        .rsplit(|b| *b == 0)
                        .nth(1)
                        .map(utf8)
                        .transpose()?
                        .unwrap_or_default();
                    if let Ok(node) = referrer.parse::<NodeRef>() {
                        out.push((role, node));
                    }
                    Ok(())
                },
            )?;
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The source key stored for a URL.
    pub fn source_by_url(&self, url: &str) -> Result<Option<String>, StoreError> {
        self.tree(URLS)?
            .get(url.trim().as_bytes())?
            .map(|v| utf8(&v))
            .transpose()
    }

    /// The change history of a node, oldest first.
    pub fn revisions(&self, node: &NodeRef) -> Result<Vec<Revision>, StoreError> {
        let prefix = format!("{node}\0");
        self.tree(REVISIONS)?
            .scan_prefix(prefix.as_bytes())
            .values()
            .map(|v| codec::decode(&v?))
            .collect()
    }

    /// The first and the last revision of a node.
    pub fn revision_span(
        &self,
        node: &NodeRef,
    ) -> Result<Option<(Revision, Revision)>, StoreError> {
        if self.never_held(node) {
            return Ok(None);
        }
        let prefix = format!("{node}\0");
        let tree = self.tree(REVISIONS)?;
        let mut iter = tree.scan_prefix(prefix.as_bytes()).values();
        let Some(first) = iter.next() else {
            return Ok(None);
        };
        let first: Revision = codec::decode(&first?)?;
        let last = match iter.next_back() {
            Some(v) => codec::decode(&v?)?,
            None => first.clone(),
        };
        Ok(Some((first, last)))
    }

    pub fn get<E: Entity>(&self, key: &str) -> Result<Option<E>, StoreError> {
        self.tree(tree_name(E::KIND))?
            .get(key.as_bytes())?
            .map(|v| codec::decode(&v))
            .transpose()
    }

    fn read_index(&self, read: &IndexRead) -> Result<IndexAnswer, StoreError> {
        let answer = match read {
            IndexRead::ReferrerPage {
                target,
                role,
                kind,
                after,
                limit,
            } => IndexAnswer::Keys(Arc::new(self.scan_referrers(
                target,
                *role,
                *kind,
                after.as_deref(),
                *limit,
            )?)),
            IndexRead::ReferrerCount(target, role) => {
                IndexAnswer::Count(self.refcount(&refs_prefix(target, *role))?)
            }
            IndexRead::Keys { kind, after, limit } => {
                IndexAnswer::Keys(Arc::new(self.scan_keys(*kind, after.as_deref(), *limit)?))
            }
            IndexRead::Count(kind) => IndexAnswer::Count(self.count_of(*kind)? as u64),
            IndexRead::CountryCode(upper) => IndexAnswer::Key(
                self.tree(CODES)?
                    .get(upper.as_bytes())?
                    .map(|v| utf8(&v))
                    .transpose()?,
            ),
        };
        Ok(answer)
    }

    fn scan_keys(
        &self,
        kind: NodeKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let tree = self.tree(tree_name(kind))?;
        let iter = match after {
            Some(a) => {
                let mut start = a.as_bytes().to_vec();
                start.push(0);
                tree.range(start..)
            }
            None => tree.iter(),
        };
        iter.keys().take(limit).map(|k| utf8(&k?)).collect()
    }

    /// The number of commits made so far.
    pub fn sequence(&self) -> Result<u64, StoreError> {
        Ok(self
            .tree(META)?
            .get(META_SEQUENCE)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Calls `f` with every entity of one kind in key order, one at a time.
    pub fn for_each<E: Entity, Err: From<StoreError>>(
        &self,
        mut f: impl FnMut(E) -> Result<(), Err>,
    ) -> Result<(), Err> {
        for value in self.tree(tree_name(E::KIND))?.iter().values() {
            let value = value.map_err(StoreError::from)?;
            f(codec::decode(&value)?)?;
        }
        Ok(())
    }

    fn count_of(&self, kind: NodeKind) -> Result<usize, StoreError> {
        Ok(self
            .tree(META)?
            .get(count_key(kind))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(|b| u64::from_be_bytes(b) as usize)
            .unwrap_or(0))
    }

    /// Keys of the entities that refer to `target` in `role`, in key order.
    pub fn referrers(&self, target: &NodeRef, role: Role) -> Result<Vec<String>, StoreError> {
        self.write_held_edits()?;
        let prefix = refs_prefix(target, role);
        let mut keys: Vec<String> = Vec::new();
        referrers::for_each(self.tree(REFERRERS)?, &prefix, |_, referrer| {
            // Stored as Kind:key; callers of one role know the kind.
            keys.push(match referrer.split_once(':') {
                Some((_, key)) => key.to_string(),
                None => referrer,
            });
            Ok(())
        })?;
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// One page of the keys of the `kind` entities that refer to `target` in `role`, in key
    /// order, strictly after `after`: reads only the chunks of referrers the page spans.
    fn scan_referrers(
        &self,
        target: &NodeRef,
        role: Role,
        kind: NodeKind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.write_held_edits()?;
        referrers::page(
            self.tree(REFERRERS)?,
            &refs_prefix(target, role),
            &format!("{kind}:"),
            after,
            limit,
        )
    }

    /// How many entities refer to `target` in `role`: one read, kept by every write.
    fn refcount(&self, prefix: &[u8]) -> Result<u64, StoreError> {
        if let Some(held) = self.held_count(prefix) {
            return Ok(held);
        }
        Ok(self
            .tree(REFCOUNTS)?
            .get(prefix)?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Keys of entities of `kind` whose name or an alias contains `query` at a word start,
    /// ignoring case and diacritics.
    fn name_candidates(&self, kind: NodeKind, token: &str) -> Result<BTreeSet<String>, StoreError> {
        let prefix = names_prefix(kind, token);
        let mut candidates = BTreeSet::new();
        for key in self.tree(NAMES)?.scan_prefix(&prefix).keys() {
            let key = key?;
            // Layout: kind \0 token \0 entity key; the token itself may extend the prefix.
            if let Some(pos) = key[prefix.len()..].iter().position(|b| *b == 0) {
                candidates.insert(utf8(&key[prefix.len() + pos + 1..])?);
            }
        }
        Ok(candidates)
    }

    /// Writes every tree, in key order, into a new store in `into` (a dir that must not exist
    /// yet), and checks that each tree there holds as many entries as here. sled then lays each
    /// page out once, where writes in arrival order left it rewritten and half-empty segments
    /// behind (the scale-10 data set: 458 MiB as imported, about 250 MiB copied). Writes must
    /// be stopped meanwhile: the caller holds the only handle on this store. Returns the number
    /// of entries copied. Edits a bulk load holds back are written first.
    pub fn copy_compacted(&self, into: &Path) -> Result<u64, StoreError> {
        self.write_held_edits()?;
        let target = sled::Config::new()
            .path(into)
            .create_new(true)
            .cache_capacity(COMPACT_CACHE_BYTES)
            .open()?;
        let mut copied = 0;
        for name in self.db.tree_names() {
            let source = self.db.open_tree(&name)?;
            let tree = target.open_tree(&name)?;
            let mut batch = sled::Batch::default();
            let mut in_batch = 0;
            let mut in_tree = 0;
            for entry in source.iter() {
                let (key, value) = entry?;
                batch.insert(key, value);
                in_batch += 1;
                in_tree += 1;
                // Flushing each batch lets sled settle its segments as it goes; one huge
                // batch, or none, left the copy larger (measured: 320-420 MiB against 250).
                if in_batch == COMPACT_BATCH {
                    tree.apply_batch(std::mem::take(&mut batch))?;
                    target.flush()?;
                    in_batch = 0;
                }
            }
            tree.apply_batch(batch)?;
            target.flush()?;
            if tree.len() != in_tree {
                return Err(StoreError::Codec(format!(
                    "the copy of tree {} holds {} entries, not {in_tree}",
                    String::from_utf8_lossy(&name),
                    tree.len()
                )));
            }
            copied += in_tree as u64;
        }
        Ok(copied)
    }
}

impl Backend for SledStore {
    fn get(&self, node: &NodeRef) -> Result<Option<Fact>, StoreError> {
        let _seen = self.visibility.read_recursive();
        self.get_fact(node)
    }

    fn get_many(&self, kind: NodeKind, keys: &[&str]) -> Result<Vec<(String, Fact)>, StoreError> {
        let _seen = self.visibility.read_recursive();
        let tree = self.tree(tree_name(kind))?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = tree.get(key.as_bytes())? {
                out.push((key.to_string(), decode_fact(kind, &value)?));
            }
        }
        Ok(out)
    }

    fn contains(&self, node: &NodeRef) -> Result<bool, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::contains(self, node)
    }

    fn for_each(
        &self,
        kind: NodeKind,
        visit: &mut dyn FnMut(Fact) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for value in self.tree(tree_name(kind))?.iter().values() {
            visit(decode_fact(kind, &value?)?)?;
        }
        Ok(())
    }

    fn read_index(&self, read: &IndexRead) -> Result<IndexAnswer, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::read_index(self, read)
    }

    fn referrers(&self, target: &NodeRef, role: Role) -> Result<Vec<String>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::referrers(self, target, role)
    }

    fn all_referrers(&self, target: &NodeRef) -> Result<Vec<(String, NodeRef)>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::all_referrers(self, target)
    }

    fn name_candidates(&self, kind: NodeKind, token: &str) -> Result<BTreeSet<String>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::name_candidates(self, kind, token)
    }

    fn source_by_url(&self, url: &str) -> Result<Option<String>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::source_by_url(self, url)
    }

    fn revisions(&self, node: &NodeRef) -> Result<Vec<Revision>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::revisions(self, node)
    }

    fn revision_span(&self, node: &NodeRef) -> Result<Option<(Revision, Revision)>, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::revision_span(self, node)
    }

    fn sequence(&self) -> Result<u64, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::sequence(self)
    }

    fn apply(&self, plan: &Plan) -> Result<(), StoreError> {
        self.apply_plan(plan)
    }

    fn applies_beside_sync(&self, plan: &Plan) -> bool {
        self.journals(plan)
    }

    fn is_seeded(&self) -> Result<bool, StoreError> {
        let _seen = self.visibility.read_recursive();
        SledStore::is_seeded(self)
    }

    fn mark_seeded_without_builtin(&self) -> Result<(), StoreError> {
        SledStore::mark_seeded_without_builtin(self)
    }

    fn api_key(&self, name: &str) -> Result<Option<ApiKey>, StoreError> {
        keys::get(self, name)
    }

    fn api_key_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError> {
        keys::by_hash(self, hash)
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        keys::all(self)
    }

    fn save_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        keys::save(self, key)
    }

    /// One `fdatasync` of the write-ahead log while only logged plans were written since the
    /// last full sync and the log is short; a full sync otherwise. Deciding holds the log, so
    /// a full sync running (a plan applied before it may be durable only once it ends) is
    /// waited for.
    fn sync(&self) -> Result<(), StoreError> {
        let wal = self.wal.lock();
        if self
            .full_sync_due
            .load(std::sync::atomic::Ordering::Acquire)
            || wal.is_long()
        {
            drop(wal);
            return self.full_sync();
        }
        drop(wal);
        self.wal_file.sync_data().map_err(|e| {
            // The kernel may since have marked the records clean without writing them, and
            // the next fdatasync would not say so: the next sync flushes sled, which holds them.
            self.full_sync_due
                .store(true, std::sync::atomic::Ordering::Release);
            StoreError::Backend(format!("fdatasync of the write-ahead log: {e}"))
        })
    }

    fn begin_bulk_load(&self, max_held: usize) -> Result<(), StoreError> {
        self.defer_reference_index(max_held)
    }

    fn end_bulk_load(&self) -> Result<(), StoreError> {
        self.settle_reference_index()
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        SledStore::check(self)
    }

    fn copy_to(&self, into: &Path) -> Result<u64, StoreError> {
        self.copy_compacted(into)
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    #[cfg(test)]
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Decodes a stored value of `kind` (the tree it was read from).
fn decode_fact(kind: NodeKind, bytes: &[u8]) -> Result<Fact, StoreError> {
    macro_rules! decode_any_kind {
        (() $($kind:ident { key: $key:ident, plural: $plural:ident, record: $record:ident, with_source: $with_source:ident }),* $(,)?) => {
            match kind {
                $(NodeKind::$kind => Ok(Fact::$kind(codec::decode(bytes)?)),)*
                NodeKind::Provision => Err(StoreError::Codec("provisions are stored in their agreements".into())),
            }
        };
    }
    crate::with_kinds!(decode_any_kind)
}
#[cfg(test)]
impl crate::store::Store {
    /// The sled backend under a store `Store::open` made (tests only).
    pub(crate) fn sled(&self) -> &SledStore {
        self.backend_any()
            .downcast_ref::<SledStore>()
            .expect("a store on sled")
    }
}

#[cfg(test)]
impl SledStore {
    /// The storage format the data dir records.
    pub(crate) fn recorded_format(&self) -> Option<u8> {
        let meta = self.tree(META).ok()?;
        meta.get(META_FORMAT).ok()??.first().copied()
    }

    /// Whether the tree of format 1's one-entry-per-reference index is still there.
    pub(crate) fn holds_format_1_references(&self) -> bool {
        self.db.tree_names().iter().any(|n| n == REFS.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_format_2_data_dir_has_its_entities_rewritten_in_the_evolvable_codec_when_opened() {
        use crate::domain::{Membership, Statement};
        use crate::ingest::dataset::{load, DatasetFiles};
        let dir = tempfile::tempdir().unwrap();
        let (statements, memberships);
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .seed(&load(&DatasetFiles::builtin()).unwrap())
                .unwrap();
            statements = store.all::<Statement>().unwrap();
            memberships = store.all::<Membership>().unwrap();
            // Every entity as builds before format 3 wrote it.
            fn to_postcard<E: Entity>(store: &Store) {
                let tree = store.sled().tree(tree_name(E::KIND)).unwrap();
                for entry in tree.iter() {
                    let (key, value) = entry.unwrap();
                    let entity: E = codec::decode(&value).unwrap();
                    tree.insert(key, codec::encode_postcard(&entity)).unwrap();
                }
            }
            crate::for_every_kind!(E => {
                to_postcard::<E>(&store);
            });
            store
                .sled()
                .tree(META)
                .unwrap()
                .insert(META_FORMAT, &[2])
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.sled().recorded_format(), Some(STORE_FORMAT));
        crate::for_every_kind!(E => {
            let tree = store.sled().tree(tree_name(E::KIND)).unwrap();
            assert!(!tree.is_empty(), "{}", E::KIND);
            for value in tree.iter().values() {
                assert!(!codec::is_postcard(&value.unwrap()), "{}", E::KIND);
            }
        });
        assert_eq!(store.all::<Statement>().unwrap(), statements);
        assert_eq!(store.all::<Membership>().unwrap(), memberships);
        assert!(store.check().unwrap().is_clean());
    }

    #[test]
    fn a_format_1_data_dir_is_upgraded_when_opened_and_a_later_one_refused() {
        use crate::ingest::dataset::{load, DatasetFiles};
        let dir = tempfile::tempdir().unwrap();
        let targets: Vec<NodeRef> = ["XK", "RS", "US", "DE"]
            .iter()
            .map(|c| NodeRef::new(NodeKind::Country, *c))
            .collect();
        let expected: Vec<_>;
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .seed(&load(&DatasetFiles::builtin()).unwrap())
                .unwrap();
            expected = targets
                .iter()
                .map(|t| store.all_referrers(t).unwrap())
                .collect();
            assert!(expected.iter().map(Vec::len).sum::<usize>() > 10);
            // Rewrite it as format 1 kept it: one `refs` entry per reference.
            let old = store.sled().db.open_tree(REFS).unwrap();
            referrers::for_each(
                store.sled().tree(REFERRERS).unwrap(),
                b"",
                |prefix, referrer| {
                    old.insert([prefix, referrer.as_bytes()].concat(), b"")?;
                    Ok(())
                },
            )
            .unwrap();
            store.sled().tree(REFERRERS).unwrap().clear().unwrap();
            store
                .sled()
                .tree(META)
                .unwrap()
                .insert(META_FORMAT, &[1])
                .unwrap();
            store.flush().unwrap();
        }
        {
            let store = Store::open(dir.path()).unwrap();
            let got: Vec<_> = targets
                .iter()
                .map(|t| store.all_referrers(t).unwrap())
                .collect();
            assert_eq!(got, expected);
            assert_eq!(store.sled().recorded_format(), Some(STORE_FORMAT));
            assert!(!store.sled().holds_format_1_references());
            store
                .sled()
                .tree(META)
                .unwrap()
                .insert(META_FORMAT, &[STORE_FORMAT + 1])
                .unwrap();
            store.flush().unwrap();
        }
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::UnsupportedFormat { found, expected: STORE_FORMAT }) if found == STORE_FORMAT + 1
        ));
    }
}
