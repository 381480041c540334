//! Per-request batched reads. Sibling fields ask for keys; each DataLoader batch is one store
//! round trip, so a query costs round trips in proportion to its depth, not its rows.

use crate::cache::ReadSet;
use crate::domain::Kinds;
use crate::domain::{Entity, Role};
use crate::domain::{NodeKind, NodeRef};
use crate::store::{IndexAnswer, IndexRead, Revision, Store, StoreError};
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The store as one request sees it: every call is counted as one round trip, and records what
/// its answer depends on, derived from what it reads (the entities and name lookups one by one,
/// an index read's `kinds` as a whole), so that a cached response is dropped when one of them
/// changes. Resolvers never declare what they read.
#[derive(Clone)]
pub struct Reader {
    store: Arc<Store>,
    round_trips: Arc<AtomicU64>,
    reads: Arc<ReadSet>,
}

impl Reader {
    pub fn new(store: Arc<Store>) -> Self {
        Reader {
            store,
            round_trips: Arc::new(AtomicU64::new(0)),
            reads: Arc::default(),
        }
    }

    /// Runs one store call that reads nodes (or indexes kept by nodes) of `kinds`, counted.
    /// Private: each public read derives its kinds.
    fn call<T>(
        &self,
        kinds: Kinds,
        f: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.reads.add(kinds);
        f(&self.store)
    }

    /// `call`, made on tokio's blocking pool so that a read waiting on the disk holds no
    /// async worker.
    async fn call_off_worker<T: Send + 'static>(
        &self,
        kinds: Kinds,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.clone();
        tokio::task::spawn_blocking(move || reader.call(kinds, f))
            .await
            .unwrap_or_else(|e| Err(StoreError::Backend(format!("a read task failed: {e}"))))
    }

    /// An entity that is in memory: no round trip, no batch to wait for.
    pub fn cached<E: Entity>(&self, key: &str) -> Option<Arc<E>> {
        let hit = self.store.cached::<E>(key)?;
        self.reads.add_node(E::KIND, key);
        Some(hit)
    }

    /// An index answer that is in memory: no round trip, no batch to wait for.
    pub fn cached_index(&self, read: &IndexRead) -> Option<IndexAnswer> {
        let hit = self.store.cached_index(read)?;
        self.reads.add(read.kinds());
        Some(hit)
    }

    /// An index read: from memory when it is there, else one store call off the workers.
    pub async fn index(&self, read: &IndexRead) -> Result<IndexAnswer, StoreError> {
        if let Some(hit) = self.cached_index(read) {
            return Ok(hit);
        }
        let owned = read.clone();
        self.call_off_worker(read.kinds(), move |s| s.index(&owned))
            .await
    }

    /// Keys of the `E`s a name or alias matches from the start of a word (the name index).
    pub async fn find_by_name<E: Entity>(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let found = match self.store.cached_names::<E>(name) {
            Some(hit) => hit,
            None => {
                let name = name.to_string();
                self.call_off_worker(Kinds::NONE, move |s| s.find_by_name::<E>(&name))
                    .await?
            }
        };
        // The answer changes only if a node in it changes, or a node is written with a name
        // that has a word beginning with the lookup's first word.
        let folded = crate::domain::text::fold(name);
        self.reads
            .add_name(E::KIND, folded.split(' ').next().unwrap_or_default());
        for key in &found {
            self.reads.add_node(E::KIND, key);
        }
        Ok(found)
    }

    /// The alpha-2 code of the country with this alpha-2 or alpha-3 code, in any letter case.
    pub async fn country_code(&self, code: &str) -> Result<Option<String>, StoreError> {
        match IndexRead::country_code(code) {
            Some(read) => self.index(&read).await?.key(),
            None => Ok(None),
        }
    }

    /// Notes a read that does not go through the store (the search index).
    pub fn note_read(&self, kinds: Kinds) {
        self.reads.add(kinds);
    }

    /// Everything read so far, kinds and single nodes, for the response cache.
    pub fn read_set(&self) -> &ReadSet {
        &self.reads
    }

    /// The response holds what only its caller may see: the response cache must not keep it.
    pub fn mark_private(&self) {
        self.reads.mark_private();
    }

    pub fn is_private(&self) -> bool {
        self.reads.is_private()
    }

    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }
}

/// A key of entity type `E`.
pub struct Key<E>(pub String, PhantomData<fn() -> E>);

impl<E> Key<E> {
    pub fn new(key: impl Into<String>) -> Self {
        Key(key.into(), PhantomData)
    }
}

impl<E> Clone for Key<E> {
    fn clone(&self) -> Self {
        Key(self.0.clone(), PhantomData)
    }
}
impl<E> PartialEq for Key<E> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<E> Eq for Key<E> {}
impl<E> Hash for Key<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

/// The entities that refer to `target` in `role`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Referrers(pub NodeRef, pub Role);

/// One page of the `kind` entities that refer to `target` in `role`: keys strictly after
/// `after`, at most `limit` of them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReferrerPage {
    pub target: NodeRef,
    pub role: Role,
    pub kind: NodeKind,
    pub after: Option<String>,
    pub limit: usize,
}

impl ReferrerPage {
    /// The store's read of this page.
    pub fn read(&self) -> IndexRead {
        IndexRead::ReferrerPage {
            target: self.target.clone(),
            role: self.role,
            kind: self.kind,
            after: self.after.clone(),
            limit: self.limit,
        }
    }
}

/// How many entities refer to `target` in `role`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReferrerCount(pub NodeRef, pub Role);

impl Loader<ReferrerPage> for StoreLoader {
    type Value = Arc<Vec<String>>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ReferrerPage],
    ) -> Result<HashMap<ReferrerPage, Self::Value>, Self::Error> {
        let kinds = keys.iter().map(|k| k.kind).collect();
        self.each(keys, kinds, |s, k| {
            s.referrer_page(&k.target, k.role, k.kind, k.after.as_deref(), k.limit)
        })
        .await
    }
}

impl Loader<ReferrerCount> for StoreLoader {
    type Value = u64;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[ReferrerCount],
    ) -> Result<HashMap<ReferrerCount, u64>, Self::Error> {
        let kinds = keys
            .iter()
            .fold(Kinds::NONE, |acc, k| acc.and(k.1.referrer_kinds()));
        self.each(keys, kinds, |s, k| s.referrer_count(&k.0, k.1))
            .await
    }
}

/// The revision history of a node.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RevisionsOf(pub NodeRef);

impl Loader<RevisionsOf> for StoreLoader {
    type Value = Arc<Vec<Revision>>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[RevisionsOf],
    ) -> Result<HashMap<RevisionsOf, Self::Value>, Self::Error> {
        let kinds = keys.iter().map(|k| k.0.kind).collect();
        self.each(keys, kinds, |s, k| Ok(Arc::new(s.revisions(&k.0)?)))
            .await
    }
}

pub struct StoreLoader {
    reader: Reader,
}

impl StoreLoader {
    /// One store round trip reading `kinds`, answering each key with `read`, made off the
    /// async workers (a read may wait on the disk).
    async fn each<K, V>(
        &self,
        keys: &[K],
        kinds: Kinds,
        read: impl Fn(&Store, &K) -> Result<V, StoreError> + Send + 'static,
    ) -> Result<HashMap<K, V>, Arc<StoreError>>
    where
        K: Clone + Eq + std::hash::Hash + Send + 'static,
        V: Send + 'static,
    {
        let keys = keys.to_vec();
        self.reader
            .call_off_worker(kinds, move |s| {
                keys.into_iter()
                    .map(|k| {
                        let value = read(s, &k)?;
                        Ok((k, value))
                    })
                    .collect()
            })
            .await
            .map_err(Arc::new)
    }
}

impl<E: Entity> Loader<Key<E>> for StoreLoader {
    type Value = Arc<E>;
    type Error = Arc<StoreError>;

    /// Entities in memory answer at once; only the others are read, off the async workers.
    async fn load(&self, keys: &[Key<E>]) -> Result<HashMap<Key<E>, Arc<E>>, Self::Error> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match self.reader.cached::<E>(&key.0) {
                Some(hit) => {
                    found.insert(key.clone(), hit);
                }
                None => missing.push(key.0.clone()),
            }
        }
        if !missing.is_empty() {
            for key in &missing {
                self.reader.reads.add_node(E::KIND, key);
            }
            let read = self
                .reader
                .call_off_worker(Kinds::NONE, move |s| {
                    s.get_many_shared::<E>(missing.iter().map(String::as_str))
                })
                .await
                .map_err(Arc::new)?;
            found.extend(read.into_iter().map(|(k, v)| (Key::new(k), v)));
        }
        Ok(found)
    }
}

impl Loader<Referrers> for StoreLoader {
    type Value = Arc<Vec<String>>;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[Referrers],
    ) -> Result<HashMap<Referrers, Self::Value>, Self::Error> {
        let kinds = keys
            .iter()
            .fold(Kinds::NONE, |acc, k| acc.and(k.1.referrer_kinds()));
        self.each(keys, kinds, |s, k| Ok(Arc::new(s.referrers(&k.0, k.1)?)))
            .await
    }
}

pub type Loaders = DataLoader<StoreLoader, HashMapCache>;

pub fn loaders(reader: Reader, delay: Duration) -> Loaders {
    DataLoader::with_cache(
        StoreLoader { reader },
        tokio::spawn,
        HashMapCache::default(),
    )
    .delay(delay)
}
