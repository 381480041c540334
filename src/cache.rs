//! Caches in front of query execution: parsed documents by query text, and whole encoded
//! responses by normalized query, operation name and variables.
//!
//! A cached response remembers what it read, as of when its execution began: the kinds it read
//! as a whole (index reads, or many nodes) with each kind's write generation, and the few
//! single nodes and name lookups it made, as hashed slots. A commit bumps the generations of
//! the kinds it changed and stamps the slots of the nodes it wrote and of their names' word
//! prefixes, after the commit and before the write is answered, so a lookup afterwards finds
//! the response stale and runs the query again. A response computed while a write landed was
//! stamped with the older generations, so it can be stored but never served. Knows neither
//! sled nor HTTP.

use crate::domain::{Kinds, NodeKind, NodeRef};
use async_graphql::parser::types::ExecutableDocument;
use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

const KINDS: usize = NodeKind::ALL.len();

/// How many nodes and name words a response may depend on one by one; past that it depends on
/// their kinds (a nested query reads hundreds of nodes: checking each at every hit would cost
/// more than running it again now and then).
const FINE_AT_MOST: usize = 32;

/// Slots of the nodes and name words a commit changed, by hash: two that share a slot only
/// make a response stale more often than needed, never less.
const SLOTS: usize = 4096;

fn slot(kind: NodeKind, what: u8, key: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    (kind as u8, what, key).hash(&mut hasher);
    (hasher.finish() % SLOTS as u64) as u32
}

/// The slot of one node.
fn node_slot(kind: NodeKind, key: &str) -> u32 {
    slot(kind, 0, key)
}

/// The slot of name lookups of `kind` whose first word is `word`.
fn word_slot(kind: NodeKind, word: &str) -> u32 {
    slot(kind, 1, word)
}

/// What a request read, gathered as it runs (reads may come from several tasks): kinds whose
/// every change matters, and single nodes and name words (`fine`) for the others.
#[derive(Debug, Default)]
pub struct ReadSet {
    kinds: AtomicU32,
    fine: std::sync::Mutex<Fine>,
    /// It read something only its caller may see (API keys): never cached, as the cache is
    /// shared by every caller.
    private: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct Fine {
    slots: Vec<u32>,
    kinds: u32,
}

impl ReadSet {
    pub fn add(&self, kinds: Kinds) {
        self.kinds.fetch_or(kinds.bits(), Ordering::Relaxed);
    }

    /// It read one node (or found it missing): only a change of that node matters.
    pub fn add_node(&self, kind: NodeKind, key: &str) {
        self.add_fine(kind, node_slot(kind, key));
    }

    /// It looked `kind` up by a name whose first (folded) word is `word`: only a node written
    /// with a name that has a word beginning so can add to the answer (those in it are added
    /// as nodes).
    pub fn add_name(&self, kind: NodeKind, word: &str) {
        self.add_fine(kind, word_slot(kind, word));
    }

    fn add_fine(&self, kind: NodeKind, slot: u32) {
        let bit = Kinds::of(kind).bits();
        if self.kinds.load(Ordering::Relaxed) & bit != 0 {
            return;
        }
        let mut fine = self.fine.lock().unwrap_or_else(|p| p.into_inner());
        if fine.slots.len() >= FINE_AT_MOST {
            self.kinds.fetch_or(fine.kinds | bit, Ordering::Relaxed);
            return;
        }
        fine.kinds |= bit;
        fine.slots.push(slot);
    }

    pub fn kinds(&self) -> Kinds {
        Kinds::from_bits(self.kinds.load(Ordering::Relaxed))
    }

    /// The slots of the nodes and words read one by one, of kinds not read as a whole.
    pub fn fine(&self) -> Box<[u32]> {
        let kinds = self.kinds.load(Ordering::Relaxed);
        let fine = self.fine.lock().unwrap_or_else(|p| p.into_inner());
        if fine.kinds & !kinds == 0 {
            return Box::default();
        }
        let mut slots = fine.slots.clone();
        slots.sort_unstable();
        slots.dedup();
        slots.into()
    }

    pub fn mark_private(&self) {
        self.private.store(true, Ordering::Relaxed);
    }

    pub fn is_private(&self) -> bool {
        self.private.load(Ordering::Relaxed)
    }
}

/// A write counter per kind of node, and per slot of nodes and name words the commit sequence
/// (a clock of its own) that last changed one.
#[derive(Debug)]
pub struct Generations {
    kinds: [AtomicU64; KINDS],
    clock: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            kinds: Default::default(),
            clock: AtomicU64::new(0),
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// The generations as they were at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    kinds: [u64; KINDS],
    clock: u64,
}

impl Generations {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            clock: self.clock.load(Ordering::SeqCst),
            kinds: std::array::from_fn(|i| self.kinds[i].load(Ordering::SeqCst)),
        }
    }

    /// Called after a commit changed nodes of `kinds`.
    pub fn bump(&self, kinds: Kinds) {
        for (i, counter) in self.kinds.iter().enumerate() {
            if kinds.bits() & (1 << i) != 0 {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Called after a commit changed these nodes, now named so (old names need not be
    /// marked: a lookup that found a node depends on that node).
    fn mark<'n>(&self, nodes: impl IntoIterator<Item = (&'n NodeRef, Vec<String>)>) {
        let now = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        for (node, names) in nodes {
            self.slots[node_slot(node.kind, &node.key) as usize].store(now, Ordering::SeqCst);
            for name in names {
                for word in crate::domain::text::fold(&name).split(' ') {
                    for (end, _) in word.char_indices().skip(1).chain([(word.len(), ' ')]) {
                        let prefix = &word[..end];
                        self.slots[word_slot(node.kind, prefix) as usize]
                            .store(now, Ordering::SeqCst);
                    }
                }
            }
        }
    }

    /// Whether no node of `kinds`, and nothing in `fine`'s slots, changed since `snapshot`.
    fn unchanged_since(&self, snapshot: &Snapshot, kinds: Kinds, fine: &[u32]) -> bool {
        (0..KINDS)
            .filter(|i| kinds.bits() & (1 << i) != 0)
            .all(|i| self.kinds[i].load(Ordering::SeqCst) == snapshot.kinds[i])
            && fine
                .iter()
                .all(|&s| self.slots[s as usize].load(Ordering::SeqCst) <= snapshot.clock)
    }
}

/// A commit makes every cached response that read a changed kind, or a changed node, or
/// looked up a name that a node written now answers to, stale.
impl crate::ingest::feed::Follower for Generations {
    fn follow(&self, commit: &crate::ingest::feed::Commit<'_>) {
        self.mark(commit.changes.iter().map(|c| {
            let names = (commit.now)(&c.node)
                .map(|fact| {
                    crate::with_entity!(&fact, e => crate::domain::Entity::names(e).iter().map(|n| n.to_string()).collect())
                })
                .unwrap_or_default();
            (&c.node, names)
        }));
        self.bump(commit.changes.iter().map(|c| c.node.kind).collect());
    }
}

struct Entry {
    body: Bytes,
    reads: Kinds,
    fine: Box<[u32]>,
    snapshot: Snapshot,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<String, Arc<Entry>> for ByBytes {
    fn weight(&self, key: &String, entry: &Arc<Entry>) -> u64 {
        (key.len() + entry.body.len() + std::mem::size_of::<Entry>()) as u64
    }
}

/// Encoded responses of read queries, by request.
pub struct ResponseCache {
    entries: Option<Cache<String, Arc<Entry>, ByBytes>>,
    generations: Arc<Generations>,
}

impl ResponseCache {
    /// At most `max_bytes` of responses and keys; 0 turns the cache off.
    pub fn new(max_bytes: u64, generations: Arc<Generations>) -> Self {
        let entries = (max_bytes > 0).then(|| {
            // quick_cache sizes its tables from an item estimate; assume ~8 KiB a response.
            let estimated = (max_bytes / 8192).clamp(16, 1 << 20) as usize;
            Cache::with_weighter(estimated, max_bytes, ByBytes)
        });
        ResponseCache {
            entries,
            generations,
        }
    }

    pub fn enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// Taken before a query starts reading; stored with its response.
    pub fn snapshot(&self) -> Snapshot {
        self.generations.snapshot()
    }

    /// The cache key of a request: its query with insignificant white space and comments
    /// taken out, its operation name and its variables.
    pub fn key(query: &str, operation: Option<&str>, variables: &str) -> String {
        let mut key = normalize(query);
        key.push('\0');
        key.push_str(operation.unwrap_or(""));
        key.push('\0');
        key.push_str(variables);
        key
    }

    /// The stored response, unless a write has changed what it read since.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(key)?;
        if self
            .generations
            .unchanged_since(&entry.snapshot, entry.reads, &entry.fine)
        {
            Some(entry.body.clone())
        } else {
            entries.remove(key);
            None
        }
    }

    /// Keeps a response that read `reads`, stamped with the generations from before it ran.
    pub fn insert(&self, key: String, body: Bytes, reads: &ReadSet, snapshot: Snapshot) {
        let Some(entries) = &self.entries else {
            return;
        };
        let (kinds, fine) = (reads.kinds(), reads.fine());
        // Already stale: a write landed while it ran. Not worth the space.
        if !self.generations.unchanged_since(&snapshot, kinds, &fine) {
            return;
        }
        entries.insert(
            key,
            Arc::new(Entry {
                body,
                reads: kinds,
                fine,
                snapshot,
            }),
        );
    }
}

/// Parsed documents by exact query text: the GraphQL parser is a tenth of a nested query's
/// time, and clients send the same few queries again and again. Each document also remembers
/// the (operation name, variables) it passed validation with, so that the same request again
/// runs without the full validation: nothing else it depends on (the schema, the limits) can
/// change while the server runs.
pub struct QueryCache {
    documents: Option<Cache<String, Arc<Parsed>>>,
}

/// Requests remembered as valid per document; more are validated every time.
const VALIDATED_PER_DOCUMENT: usize = 16;

/// A parsed document, and the requests on it known to be valid.
pub struct Parsed {
    pub document: ExecutableDocument,
    /// (operation name, variables as JSON) of requests that passed validation.
    validated: std::sync::RwLock<Vec<(Option<String>, String)>>,
}

impl Parsed {
    fn new(document: ExecutableDocument) -> Self {
        Parsed {
            document,
            validated: Default::default(),
        }
    }

    /// Whether a request with this operation name and these variables passed validation.
    pub fn is_validated(&self, operation: Option<&str>, variables: &str) -> bool {
        self.validated
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(o, v)| o.as_deref() == operation && v == variables)
    }

    /// Remembers that a request passed validation (when there is room).
    pub fn mark_validated(&self, operation: Option<&str>, variables: String) {
        let mut validated = self.validated.write().unwrap_or_else(|p| p.into_inner());
        let known = validated
            .iter()
            .any(|(o, v)| o.as_deref() == operation && *v == variables);
        if !known && validated.len() < VALIDATED_PER_DOCUMENT {
            validated.push((operation.map(str::to_string), variables));
        }
    }
}

impl QueryCache {
    /// At most `capacity` documents; 0 turns the cache off.
    pub fn new(capacity: usize) -> Self {
        QueryCache {
            documents: (capacity > 0).then(|| Cache::new(capacity)),
        }
    }

    /// Whether documents are kept (and with them what passed validation).
    pub fn enabled(&self) -> bool {
        self.documents.is_some()
    }

    /// The parsed document, or None when the query does not parse (execution reports why).
    pub fn parse(&self, query: &str) -> Option<Arc<Parsed>> {
        if let Some(doc) = self.documents.as_ref().and_then(|d| d.get(query)) {
            return Some(doc);
        }
        let doc = Arc::new(Parsed::new(async_graphql::parser::parse_query(query).ok()?));
        if let Some(documents) = &self.documents {
            documents.insert(query.to_string(), doc.clone());
        }
        Some(doc)
    }
}

/// The query with comments dropped and white space (commas included, which GraphQL ignores)
/// kept only where it separates two names or numbers; string literals stay as they are.
pub fn normalize(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut chars = query.chars().peekable();
    let mut pending_space = false;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
                pending_space = true;
            }
            c if c.is_whitespace() || c == ',' || c == '\u{feff}' => pending_space = true,
            '"' => {
                pending_space = false;
                out.push('"');
                // Block strings ("""...""") and plain strings are copied verbatim.
                let block = chars.peek() == Some(&'"') && {
                    let mut ahead = chars.clone();
                    ahead.next();
                    ahead.peek() == Some(&'"')
                };
                if block {
                    out.push_str("\"\"");
                    chars.next();
                    chars.next();
                    let mut quotes = 0;
                    for c in chars.by_ref() {
                        out.push(c);
                        if c == '"' {
                            quotes += 1;
                            if quotes == 3 {
                                break;
                            }
                        } else {
                            quotes = 0;
                        }
                    }
                } else {
                    let mut escaped = false;
                    for c in chars.by_ref() {
                        out.push(c);
                        if escaped {
                            escaped = false;
                        } else if c == '\\' {
                            escaped = true;
                        } else if c == '"' {
                            break;
                        }
                    }
                }
            }
            c => {
                if pending_space && out.chars().last().is_some_and(word) && word(c) {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizing_keeps_meaning_and_drops_layout() {
        let a = "query Q($c: String!) {\n  country(code: $c) { # the country\n name,  alpha3 }\n}";
        let b = "query Q($c:String!){country(code:$c){name alpha3}}";
        assert_eq!(normalize(a), normalize(b));
        assert_eq!(normalize(b), b);
        // Names stay apart; strings keep their spaces, commas and hashes.
        assert_eq!(normalize("{ a  b }"), "{a b}");
        assert_eq!(
            normalize(r#"{ search(query: "a,  b # c \" d") { x } }"#),
            r#"{search(query:"a,  b # c \" d"){x}}"#
        );
        assert_eq!(
            normalize("{ s(q: \"\"\"x  \"y\"  z\"\"\") }"),
            "{s(q:\"\"\"x  \"y\"  z\"\"\")}"
        );
        assert_ne!(normalize("{ a(n: 1 2) }"), normalize("{ a(n: 12) }"));
    }

    #[test]
    fn a_write_to_a_kind_read_makes_the_response_stale_and_others_do_not() {
        let generations = Arc::new(Generations::default());
        let cache = ResponseCache::new(1 << 20, generations.clone());
        let key = ResponseCache::key("{ x }", None, "{}");
        let reads = ReadSet::default();
        reads.add(Kinds::of(NodeKind::Country).and(Kinds::of(NodeKind::Provision)));
        cache.insert(
            key.clone(),
            Bytes::from_static(b"1"),
            &reads,
            cache.snapshot(),
        );
        assert_eq!(cache.get(&key).as_deref(), Some(&b"1"[..]));
        generations.bump(Kinds::of(NodeKind::Statement));
        assert!(cache.get(&key).is_some(), "statements were not read");
        generations.bump(Kinds::of(NodeKind::Agreement));
        assert!(cache.get(&key).is_none(), "a provision's agreement changed");

        // A response whose execution overlapped a write is never served.
        let before = cache.snapshot();
        generations.bump(Kinds::of(NodeKind::Country));
        cache.insert(key.clone(), Bytes::from_static(b"2"), &reads, before);
        assert!(cache.get(&key).is_none());
    }

    fn person(key: &str) -> NodeRef {
        NodeRef::new(NodeKind::Person, key)
    }

    #[test]
    fn a_response_that_read_a_few_nodes_is_stale_only_when_they_or_a_name_it_looked_up_change() {
        let generations = Arc::new(Generations::default());
        let cache = ResponseCache::new(1 << 20, generations.clone());
        let key = ResponseCache::key("{ people }", None, "{}");
        let fill = || {
            // People named "Person 12…", looked up by name, and a country read as a whole.
            let reads = ReadSet::default();
            reads.add_name(NodeKind::Person, "person");
            reads.add_node(NodeKind::Person, "person-12");
            reads.add(Kinds::of(NodeKind::Country));
            cache.insert(
                key.clone(),
                Bytes::from_static(b"1"),
                &reads,
                cache.snapshot(),
            );
            assert!(cache.get(&key).is_some());
        };
        fill();
        let (writer, twelve, new) = (person("bench-writer-1"), person("person-12"), person("new"));
        generations.mark([(&writer, vec!["Bench Writer 1".to_string()])]);
        generations.bump(Kinds::of(NodeKind::Person));
        assert!(cache.get(&key).is_some(), "another person, another name");
        generations.mark([(&twelve, vec!["Someone Else".to_string()])]);
        assert!(cache.get(&key).is_none(), "a person it read changed");
        fill();
        generations.mark([(&new, vec!["Personne Nouvelle".to_string()])]);
        assert!(
            cache.get(&key).is_none(),
            "a name word begins with the looked-up word"
        );
        fill();
        generations.bump(Kinds::of(NodeKind::Country));
        assert!(
            cache.get(&key).is_none(),
            "a kind it read as a whole changed"
        );

        // Past a few nodes of a kind, the kind as a whole.
        let many = ReadSet::default();
        for i in 0..=FINE_AT_MOST {
            many.add_node(NodeKind::Person, &format!("p{i}"));
        }
        assert!(many.kinds().contains(NodeKind::Person));
        assert!(many.fine().is_empty());
    }

    #[test]
    fn an_off_cache_keeps_nothing_and_documents_are_parsed_once() {
        let cache = ResponseCache::new(0, Arc::default());
        cache.insert(
            "k".into(),
            Bytes::new(),
            &ReadSet::default(),
            cache.snapshot(),
        );
        assert!(cache.get("k").is_none());
        let queries = QueryCache::new(10);
        let first = queries.parse("{ a }").unwrap();
        assert!(Arc::ptr_eq(&first, &queries.parse("{ a }").unwrap()));
        assert!(queries.parse("{ a ").is_none());
    }

    #[test]
    fn kinds_collect_and_provisions_are_agreements() {
        let kinds: Kinds = [NodeKind::Statement, NodeKind::Provision]
            .into_iter()
            .collect();
        assert!(kinds.contains(NodeKind::Agreement));
        assert!(!kinds.contains(NodeKind::Country));
        assert!(Kinds::ALL.contains(NodeKind::Source));
    }
}
