//! Decoded entities and index answers kept in memory across requests, so that the rows and
//! pages most queries touch (the popular countries, their relations, agreements and people)
//! skip sled's lookups, range scans and decoding.
//!
//! Never stale: a commit, once its transaction has landed, bumps the epoch, records it as the
//! last change of each kind it wrote, and evicts the nodes it changed. A value read since epoch
//! `e` is kept only if no kind it depends on changed after `e`, and an index answer is served
//! only while none of the kinds it depends on (`IndexRead::kinds`) has changed since it was
//! read: a write of people leaves the pages of relations and statements in memory. Which pages
//! of a kind a write shifts is not worked out: every index answer of that kind goes.
//!
//! Name lookups are narrower: a lookup's answer depends only on the entities with a name word
//! starting with the lookup's first word, so a commit drops the answers whose first word begins
//! a word of a name it wrote (old or new), and no others.

use super::{Entity, Role, StoreError};
use crate::domain::{Kinds, NodeKind, NodeRef};
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use std::any::Any;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

type Shared = Arc<dyn Any + Send + Sync>;

/// A read of an index whose answer can be kept until the next commit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndexRead {
    /// Keys of `kind` entities referring to `target` in `role`, after `after`, at most `limit`.
    ReferrerPage {
        target: NodeRef,
        role: Role,
        kind: NodeKind,
        after: Option<String>,
        limit: usize,
    },
    ReferrerCount(NodeRef, Role),
    /// Keys of one kind in key order, after `after`, at most `limit`.
    Keys {
        kind: NodeKind,
        after: Option<String>,
        limit: usize,
    },
    Count(NodeKind),
    /// An upper-case alpha-2 or alpha-3 code.
    CountryCode(String),
}

impl IndexRead {
    /// The kinds of node whose writes can change this read's answer: a cached response that
    /// made the read goes stale with them.
    pub fn kinds(&self) -> Kinds {
        match self {
            IndexRead::ReferrerCount(_, role) => role.referrer_kinds(),
            IndexRead::ReferrerPage { kind, .. }
            | IndexRead::Keys { kind, .. }
            | IndexRead::Count(kind) => Kinds::of(*kind),
            IndexRead::CountryCode(_) => Kinds::of(NodeKind::Country),
        }
    }

    /// The lookup of a code in any letter case; None for a blank one.
    pub fn country_code(code: &str) -> Option<IndexRead> {
        let upper = code.trim().to_ascii_uppercase();
        (!upper.is_empty()).then_some(IndexRead::CountryCode(upper))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum IndexAnswer {
    Keys(Arc<Vec<String>>),
    Count(u64),
    Key(Option<String>),
}

impl IndexAnswer {
    /// The keys of a page; an answer of another shape means the memo is corrupt.
    pub fn keys(self) -> Result<Arc<Vec<String>>, StoreError> {
        match self {
            IndexAnswer::Keys(keys) => Ok(keys),
            other => Err(mismatch(other)),
        }
    }

    pub fn count(self) -> Result<u64, StoreError> {
        match self {
            IndexAnswer::Count(n) => Ok(n),
            other => Err(mismatch(other)),
        }
    }

    pub fn key(self) -> Result<Option<String>, StoreError> {
        match self {
            IndexAnswer::Key(key) => Ok(key),
            other => Err(mismatch(other)),
        }
    }
}

fn mismatch(answer: IndexAnswer) -> StoreError {
    StoreError::Codec(format!("an index answer of the wrong shape: {answer:?}"))
}

/// Index answers are weighed by the keys they hold, so that long pages count for more.
#[derive(Clone)]
struct ByKeys;

impl Weighter<IndexRead, (IndexAnswer, u64)> for ByKeys {
    fn weight(&self, _: &IndexRead, (answer, _): &(IndexAnswer, u64)) -> u64 {
        match answer {
            IndexAnswer::Keys(keys) => 1 + keys.len() as u64,
            _ => 1,
        }
    }
}

/// Looks an entity up by a borrowed key: hashes and compares as `(NodeKind, String)` does.
struct Borrowed<'k>(NodeKind, &'k str);

impl Hash for Borrowed<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl Equivalent<(NodeKind, String)> for Borrowed<'_> {
    fn equivalent(&self, key: &(NodeKind, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// Name lookups held at most; past it the memo starts over.
const MAX_NAME_ANSWERS: usize = 10_000;

/// The keys found by name lookups that share a first word, by whole folded query.
type LookupsOfWord = HashMap<String, Arc<Vec<String>>>;

/// Answers of name lookups by kind, then by the lookup's first folded word, then by the whole
/// folded query: a commit drops them by word.
#[derive(Default)]
struct NameAnswers {
    by_word: HashMap<NodeKind, HashMap<String, LookupsOfWord>>,
    held: usize,
}

impl NameAnswers {
    /// Drops the answers of lookups whose first word begins `word`.
    fn forget_prefixes_of(&mut self, kind: NodeKind, word: &str) {
        let Some(by_word) = self.by_word.get_mut(&kind) else {
            return;
        };
        for end in (1..=word.len()).filter(|end| word.is_char_boundary(*end)) {
            if let Some(dropped) = by_word.remove(&word[..end]) {
                self.held -= dropped.len();
            }
        }
    }
}

pub struct Memo {
    entries: Cache<(NodeKind, String), Shared>,
    /// Nodes found to exist (provisions aside: they live inside their agreement), kept and
    /// evicted as entities are. Checks of references ask for the same few countries, articles
    /// and people again and again.
    present: Cache<(NodeKind, String), ()>,
    /// Each answer with the epoch it was read at.
    indexes: Cache<IndexRead, (IndexAnswer, u64), ByKeys>,
    epoch: AtomicU64,
    /// Per kind (bit `kind as usize` of `Kinds`), the epoch of the last commit that wrote it.
    changed_at: [AtomicU64; 32],
    names: RwLock<NameAnswers>,
    /// Readers hold it to check and insert an entity; a commit holds it to bump and evict.
    turn: RwLock<()>,
}

/// A read's epoch, taken before it reads sled.
#[derive(Clone, Copy)]
pub struct Epoch(u64);

impl Memo {
    /// Holds up to `capacity` entities, and index answers holding up to `index_keys` keys.
    pub fn new(capacity: usize, index_keys: u64) -> Self {
        let index_keys = index_keys.max(1);
        Memo {
            entries: Cache::new(capacity.max(1)),
            present: Cache::new(capacity.max(1)),
            indexes: Cache::with_weighter((index_keys / 8).max(1) as usize, index_keys, ByKeys),
            epoch: AtomicU64::new(0),
            changed_at: std::array::from_fn(|_| AtomicU64::new(0)),
            names: RwLock::default(),
            turn: RwLock::new(()),
        }
    }

    /// Whether none of `kinds` was written by a commit after `epoch`.
    fn unchanged_since(&self, kinds: Kinds, epoch: u64) -> bool {
        let mut bits = kinds.bits();
        while bits != 0 {
            let kind = bits.trailing_zeros() as usize;
            if self.changed_at[kind].load(Ordering::SeqCst) > epoch {
                return false;
            }
            bits &= bits - 1;
        }
        true
    }

    pub fn get<E: Entity>(&self, key: &str) -> Option<Arc<E>> {
        let shared = self.entries.get(&Borrowed(E::KIND, key))?;
        shared.downcast::<E>().ok()
    }

    /// Whether a read since the last commit that changed `node` found it.
    pub fn present(&self, node: &NodeRef) -> bool {
        self.present.get(&Borrowed(node.kind, &node.key)).is_some()
    }

    /// Keeps that `node` was found by a read begun at `epoch`, unless a commit writing its
    /// kind has landed meanwhile.
    pub fn insert_present(&self, epoch: Epoch, node: &NodeRef) {
        let _turn = self.turn.read().unwrap_or_else(|p| p.into_inner());
        if self.unchanged_since(Kinds::of(node.kind), epoch.0) {
            self.present.insert((node.kind, node.key.clone()), ());
        }
    }

    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::SeqCst))
    }

    /// An answer still valid: none of the kinds it depends on was written since it was read.
    /// (A stale one is left for the cache to evict, or for the next insert to replace.)
    pub fn index(&self, read: &IndexRead) -> Option<IndexAnswer> {
        let (answer, epoch) = self.indexes.get(read)?;
        self.unchanged_since(read.kinds(), epoch).then_some(answer)
    }

    /// Keeps an index answer read from the backend since `epoch`, unless a commit writing a
    /// kind it depends on has landed meanwhile. No lock: an answer stamped before a commit is
    /// refused by `index` once that commit has recorded its kinds.
    pub fn insert_index(&self, epoch: Epoch, read: IndexRead, answer: IndexAnswer) {
        if self.unchanged_since(read.kinds(), epoch.0) {
            self.indexes.insert(read, (answer, epoch.0));
        }
    }

    /// Keeps values read from the backend since `epoch`, unless a commit writing their kind has
    /// landed meanwhile.
    pub fn insert<E: Entity>(&self, epoch: Epoch, values: &[(String, Arc<E>)]) {
        let _turn = self.turn.read().unwrap_or_else(|p| p.into_inner());
        if !self.unchanged_since(Kinds::of(E::KIND), epoch.0) {
            return;
        }
        for (key, value) in values {
            let shared: Shared = value.clone();
            self.entries.insert((E::KIND, key.clone()), shared);
        }
    }

    /// The keys a name lookup (its query folded) found, unless a commit since wrote a name
    /// it could match.
    pub fn names(&self, kind: NodeKind, folded: &str) -> Option<Arc<Vec<String>>> {
        let first = folded.split(' ').next()?;
        let names = self.names.read().unwrap_or_else(|p| p.into_inner());
        names.by_word.get(&kind)?.get(first)?.get(folded).cloned()
    }

    /// Keeps a name lookup's answer read since `epoch`, unless a commit writing its kind has
    /// landed meanwhile.
    pub fn insert_names(&self, epoch: Epoch, kind: NodeKind, folded: String, keys: Vec<String>) {
        let _turn = self.turn.read().unwrap_or_else(|p| p.into_inner());
        if !self.unchanged_since(Kinds::of(kind), epoch.0) {
            return;
        }
        let Some(first) = folded.split(' ').next().filter(|w| !w.is_empty()) else {
            return;
        };
        let first = first.to_string();
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        if names.held >= MAX_NAME_ANSWERS {
            *names = NameAnswers::default();
        }
        let added = names
            .by_word
            .entry(kind)
            .or_default()
            .entry(first)
            .or_default()
            .insert(folded, Arc::new(keys))
            .is_none();
        names.held += usize::from(added);
    }

    /// After a commit landed: what it changed is evicted, reads of its kinds begun before it
    /// keep nothing, and the name lookups its `name_words` (the folded words of the names it
    /// wrote, old and new) could match are dropped.
    pub fn committed<'n>(
        &self,
        changed: impl IntoIterator<Item = &'n NodeRef>,
        name_words: impl FnOnce() -> Vec<(NodeKind, String)>,
    ) {
        let _turn = self.turn.write().unwrap_or_else(|p| p.into_inner());
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        for node in changed {
            let kind = Kinds::of(node.kind).bits().trailing_zeros() as usize;
            self.changed_at[kind].store(epoch, Ordering::SeqCst);
            // Provisions live inside their agreement, which is in the batch too.
            let key = (node.kind, node.key.clone());
            self.entries.remove(&key);
            self.present.remove(&key);
        }
        // Under the turn, so that no lookup is kept between this look and the forgetting; the
        // words are worked out only when some lookup is held (a bulk load holds none).
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        if names.held > 0 {
            for (kind, word) in name_words() {
                names.forget_prefixes_of(kind, &word);
            }
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
        let memo = Memo::new(10, 100);
        let before = memo.epoch();
        memo.committed(&[NodeRef::new(NodeKind::Country, "XK")], Vec::new);
        memo.insert(before, &[("XK".to_string(), country("old"))]);
        assert!(
            memo.get::<Country>("XK").is_none(),
            "read before the commit"
        );

        memo.insert(memo.epoch(), &[("XK".to_string(), country("new"))]);
        assert_eq!(memo.get::<Country>("XK").unwrap().name, "new");
        memo.committed(&[NodeRef::new(NodeKind::Country, "XK")], Vec::new);
        assert!(memo.get::<Country>("XK").is_none(), "evicted by the commit");
    }

    #[test]
    fn a_node_found_is_present_until_a_commit_changes_it() {
        let memo = Memo::new(10, 100);
        let xk = NodeRef::new(NodeKind::Country, "XK");
        let rs = NodeRef::new(NodeKind::Country, "RS");
        let before = memo.epoch();
        memo.committed(std::slice::from_ref(&xk), Vec::new);
        memo.insert_present(before, &xk);
        assert!(!memo.present(&xk), "found before a commit of countries");

        memo.insert_present(memo.epoch(), &xk);
        memo.insert_present(memo.epoch(), &rs);
        assert!(memo.present(&xk) && memo.present(&rs));
        memo.committed(std::slice::from_ref(&xk), Vec::new);
        assert!(!memo.present(&xk), "evicted by a commit that changed it");
        assert!(memo.present(&rs), "kept: the commit did not change it");
    }

    #[test]
    fn index_answers_last_until_a_commit_writes_a_kind_they_depend_on() {
        let memo = Memo::new(10, 100);
        let read = IndexRead::Count(NodeKind::Country);
        let xk = NodeRef::new(NodeKind::Country, "XK");
        let before = memo.epoch();
        memo.committed(std::slice::from_ref(&xk), Vec::new);
        memo.insert_index(before, read.clone(), IndexAnswer::Count(1));
        assert_eq!(memo.index(&read), None, "read before a commit of countries");

        memo.insert_index(memo.epoch(), read.clone(), IndexAnswer::Count(2));
        assert_eq!(memo.index(&read), Some(IndexAnswer::Count(2)));
        memo.committed(&[NodeRef::new(NodeKind::Person, "someone")], Vec::new);
        assert_eq!(
            memo.index(&read),
            Some(IndexAnswer::Count(2)),
            "a commit of people leaves counts of countries"
        );
        let before = memo.epoch();
        memo.committed(&[NodeRef::new(NodeKind::Person, "someone-else")], Vec::new);
        memo.insert_index(before, read.clone(), IndexAnswer::Count(2));
        assert_eq!(memo.index(&read), Some(IndexAnswer::Count(2)));

        // Stamped before a commit of countries, served after it: refused.
        let stamped = memo.epoch();
        memo.insert_index(stamped, read.clone(), IndexAnswer::Count(3));
        memo.committed(&[xk], Vec::new);
        assert_eq!(memo.index(&read), None);
        // Referrer counts depend on the referring kinds, not the target's.
        let about = IndexRead::ReferrerCount(NodeRef::country("XK"), Role::About);
        memo.insert_index(memo.epoch(), about.clone(), IndexAnswer::Count(7));
        memo.committed(&[NodeRef::new(NodeKind::Country, "RS")], Vec::new);
        assert_eq!(memo.index(&about), Some(IndexAnswer::Count(7)));
        memo.committed(&[NodeRef::new(NodeKind::Statement, "s")], Vec::new);
        assert_eq!(memo.index(&about), None);
    }

    #[test]
    fn a_name_lookup_is_dropped_only_by_a_commit_writing_a_name_it_could_match() {
        let memo = Memo::new(10, 100);
        let keep = |query: &str, keys: &[&str]| {
            let keys = keys.iter().map(|k| k.to_string()).collect();
            memo.insert_names(memo.epoch(), NodeKind::Person, query.to_string(), keys);
        };
        keep("person 12", &["person-12"]);
        keep("ned price", &["ned-price"]);
        keep("ned", &["ned-price", "ned-other"]);
        let found = |query: &str| memo.names(NodeKind::Person, query).map(|k| k.to_vec());
        assert_eq!(found("person 12").unwrap(), ["person-12"]);

        // Another person, named with other words: every lookup stays.
        let written = NodeRef::new(NodeKind::Person, "bench-writer-3-1234");
        let words = |names: &[&str]| -> Vec<(NodeKind, String)> {
            names
                .iter()
                .map(|w| (NodeKind::Person, w.to_string()))
                .collect()
        };
        memo.committed([&written], || words(&["bench", "writer", "3", "1234"]));
        assert!(found("person 12").is_some() && found("ned").is_some());

        // A word that a lookup's first word begins ("nedra" for "ned"): those lookups go.
        memo.committed([&written], || words(&["nedra"]));
        assert!(found("ned").is_none() && found("ned price").is_none());
        assert!(found("person 12").is_some());
        // A word of another kind's names drops nothing of people.
        memo.committed([&NodeRef::new(NodeKind::Organization, "p")], || {
            vec![(NodeKind::Organization, "person".to_string())]
        });
        assert!(found("person 12").is_some());

        // Read before a commit of its kind landed: not kept.
        let before = memo.epoch();
        memo.committed([&written], Vec::new);
        memo.insert_names(before, NodeKind::Person, "aleks".into(), vec![]);
        assert!(found("aleks").is_none());
    }
}
