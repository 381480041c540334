//! Writes: records resolved against the store (and the rest of their batch), committed in one
//! transaction, then announced to subscribers. The GraphQL mutations and the importer both
//! write through here, so they check and store facts the same way.

use crate::cache::Generations;
use crate::domain::{text, Fact, NodeKind, NodeRef};
use crate::facts::{FactError, Lookup, Record, Resolver};
use crate::search::SearchIndex;
use crate::store::{KeyRole, Outcome, Store, StoreError, Ticket, Write, WriteError, WriteGuard};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast;

pub use super::feed::Change;
use super::feed::{Commit, Follower};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// New entities; an empty key is generated from the name.
    Create,
    /// Replace existing ones, optionally only at an expected revision.
    Replace { expected_revision: Option<u64> },
    /// Create or replace; what is equal to the store stays unchanged (imports).
    Upsert,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteFailure {
    #[error(transparent)]
    Fact(#[from] FactError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{action} of a {kind} needs a key with the {needs} role; {author} is a {has}")]
    Forbidden {
        action: WriteAction,
        kind: NodeKind,
        needs: KeyRole,
        author: String,
        has: KeyRole,
    },
}

/// What a write does to one node, as far as who may do it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteAction {
    Create,
    Update,
    Delete,
    /// A delete that takes whatever refers to the node along.
    CascadeDelete,
}

impl std::fmt::Display for WriteAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WriteAction::Create => "creation",
            WriteAction::Update => "an update",
            WriteAction::Delete => "deletion",
            WriteAction::CascadeDelete => "a cascading deletion",
        })
    }
}

/// The role matrix, whole: who may do what to which kind of node. Countries are the gazetteer
/// every fact hangs on, and a cascade can take any number of facts with it: both are admin's.
/// Every write checks here before it touches the store, whichever API brought it.
pub fn required_role(action: WriteAction, kind: NodeKind) -> KeyRole {
    match (action, kind) {
        (WriteAction::CascadeDelete, _) => KeyRole::Admin,
        (_, NodeKind::Country) => KeyRole::Admin,
        (WriteAction::Create | WriteAction::Update | WriteAction::Delete, _) => KeyRole::Writer,
    }
}

/// Who a write is done for: the name revision histories record, and the role it holds.
#[derive(Clone, Debug)]
pub struct Author {
    pub name: String,
    pub role: KeyRole,
}

impl Author {
    /// The importer and the built-in dataset: the operator, with the whole store in hand.
    pub fn operator(name: &str) -> Self {
        Author {
            name: name.to_string(),
            role: KeyRole::Admin,
        }
    }

    fn may(&self, action: WriteAction, kind: NodeKind) -> Result<(), WriteFailure> {
        let needs = required_role(action, kind);
        if self.role >= needs {
            return Ok(());
        }
        Err(WriteFailure::Forbidden {
            action,
            kind,
            needs,
            author: self.name.clone(),
            has: self.role,
        })
    }
}

pub struct Writer {
    store: Arc<Store>,
    changes: broadcast::Sender<Change>,
    generations: Arc<Generations>,
    /// The change feed's followers, in the order they hear of a commit: the search index (where
    /// one is kept), the response cache's generations, then subscribers.
    followers: Vec<Arc<dyn Follower>>,
    /// None: a write returns once it is durable. Some: on the write queue's thread, a write
    /// returns once visible, and the latest one's ticket waits here for the queue to make the
    /// whole batch durable with one sync (`acknowledge_deferred`).
    deferred: Option<parking_lot::Mutex<Option<Ticket>>>,
}

/// Subscribers hear of each change after the indexes and caches have followed it.
struct Subscribers(broadcast::Sender<Change>);

impl Follower for Subscribers {
    fn follow(&self, commit: &Commit<'_>) {
        for change in commit.changes {
            // No subscriber is not an error.
            let _ = self.0.send(change.clone());
        }
    }
}

/// The store as seen by a batch being written: what it holds plus what the batch adds. It
/// lives under the write lock, so what it found in the store stays true until the batch commits:
/// found references and article texts are remembered (a batch of statements cites the same few
/// countries and articles again and again).
struct BatchLookup<'a> {
    store: &'a Store,
    added: HashMap<NodeKind, HashSet<String>>,
    texts: HashMap<String, Arc<str>>,
    countries: HashMap<String, String>,
    found: RefCell<HashSet<NodeRef>>,
    stored_texts: RefCell<HashMap<String, Arc<str>>>,
}

impl Lookup for BatchLookup<'_> {
    fn country(&self, code: &str) -> Option<String> {
        let upper = code.trim().to_ascii_uppercase();
        if let Some(code) = self.countries.get(&upper) {
            return Some(code.clone());
        }
        self.store.country_code(&upper).ok().flatten()
    }

    fn exists(&self, kind: NodeKind, key: &str) -> bool {
        if self.added.get(&kind).is_some_and(|k| k.contains(key)) {
            return true;
        }
        let node = NodeRef::new(kind, key);
        if self.found.borrow().contains(&node) {
            return true;
        }
        let exists = self.store.exists(&node).unwrap_or(false);
        if exists {
            self.found.borrow_mut().insert(node);
        }
        exists
    }

    fn source_text(&self, key: &str) -> Option<Arc<str>> {
        if let Some(text) = self.texts.get(key) {
            return Some(text.clone());
        }
        if let Some(text) = self.stored_texts.borrow().get(key) {
            return Some(text.clone());
        }
        let source = self
            .store
            .get::<crate::domain::Source>(key)
            .ok()
            .flatten()?;
        let text: Arc<str> = Arc::from(source.text);
        self.stored_texts
            .borrow_mut()
            .insert(key.to_string(), text.clone());
        Some(text)
    }
}

impl BatchLookup<'_> {
    fn add(&mut self, fact: &Fact) {
        let node = fact.node();
        match fact {
            Fact::Source(s) => {
                self.texts.insert(s.key.clone(), Arc::from(s.text.as_str()));
            }
            Fact::Country(c) => {
                self.countries.insert(c.code.clone(), c.code.clone());
                self.countries.insert(c.alpha3.clone(), c.code.clone());
            }
            _ => {}
        }
        self.added.entry(node.kind).or_default().insert(node.key);
    }
}

/// A readable key: folded words joined by dashes, at most 60 characters.
pub fn slug(basis: &str) -> String {
    let folded = text::fold(basis).replace(' ', "-");
    let mut slug: String = folded.chars().take(60).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "item".to_string()
    } else {
        slug
    }
}

impl Writer {
    pub fn new(store: Arc<Store>, search: Option<Arc<SearchIndex>>) -> Self {
        let (changes, _) = broadcast::channel(1024);
        let generations: Arc<Generations> = Arc::default();
        let mut followers: Vec<Arc<dyn Follower>> = Vec::new();
        if let Some(search) = search {
            followers.push(search);
        }
        followers.push(generations.clone());
        followers.push(Arc::new(Subscribers(changes.clone())));
        Writer {
            store,
            changes,
            generations,
            followers,
            deferred: None,
        }
    }

    /// This writer, with each write returning once visible rather than durable: the write
    /// queue makes its writes durable together.
    pub(super) fn deferring(&self) -> Writer {
        Writer {
            store: self.store.clone(),
            changes: self.changes.clone(),
            generations: self.generations.clone(),
            followers: self.followers.clone(),
            deferred: Some(parking_lot::Mutex::new(None)),
        }
    }

    /// Makes every write made through this (deferring) writer durable; returns at once if
    /// there were none.
    pub(super) fn acknowledge_deferred(&self) -> Result<(), StoreError> {
        match self
            .deferred
            .as_ref()
            .and_then(|latest| latest.lock().take())
        {
            // The queue applies nothing while it waits: a sync gathering more writers would
            // wait for nobody.
            Some(ticket) => self.store.make_durable_now(ticket),
            None => Ok(()),
        }
    }

    /// Write counters per kind of node, for caches of what was read.
    pub fn generations(&self) -> Arc<Generations> {
        self.generations.clone()
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// After a commit, with the write lock still held (so followers hear of commits in the
    /// store's order), and before the write is answered: the change feed.
    /// Returns once the write is durable: the writers waiting meanwhile share one sync.
    fn acknowledge(&self, ticket: Option<Ticket>) -> Result<(), WriteFailure> {
        match (ticket, &self.deferred) {
            (Some(ticket), Some(latest)) => {
                let mut latest = latest.lock();
                *latest = (*latest).max(Some(ticket));
                Ok(())
            }
            (Some(ticket), None) => {
                Ok(self.store.make_durable(ticket).map_err(WriteError::from)?)
            }
            (None, _) => Ok(()),
        }
    }

    /// Hands the commit of `writes` to the followers; a node it wrote is given to them as
    /// written, not read back.
    fn announce(&self, outcomes: &[Outcome], writes: &[Write]) {
        let sequence = match self.store.sequence() {
            Ok(sequence) => sequence,
            Err(e) => {
                // Followers that record a sequence (the search index) catch up on the next
                // start; the others take 0 as "unknown".
                tracing::error!(error = %e, "the commit sequence could not be read");
                0
            }
        };
        let changes = Change::of_commit(outcomes, sequence);
        let written: HashMap<NodeRef, &Fact> = writes
            .iter()
            .filter_map(|write| match write {
                Write::Create(fact) | Write::Upsert(fact) | Write::Update { fact, .. } => {
                    Some((fact.node(), fact))
                }
                Write::Delete { .. } => None,
            })
            .collect();
        // Followed even when nothing changed: the search index records the sequence it is at.
        let now = |node: &NodeRef| match written.get(node) {
            Some(fact) => Some((*fact).clone()),
            None => self.store.get_fact(node).ok().flatten(),
        };
        let commit = Commit {
            sequence,
            changes: &changes,
            now: &now,
        };
        for follower in &self.followers {
            follower.follow(&commit);
        }
    }

    fn unique_key(
        guard: &WriteGuard<'_>,
        lookup: &BatchLookup<'_>,
        kind: NodeKind,
        basis: &str,
    ) -> String {
        let base = slug(basis);
        let taken = |k: &str| {
            lookup.exists(kind, k) || guard.store().exists(&NodeRef::new(kind, k)).unwrap_or(true)
        };
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|k| !taken(k))
            .unwrap_or(base)
    }

    /// Resolves and commits `records` (each with the path its errors are reported under) in one
    /// transaction: all land, or none.
    pub fn write(
        &self,
        mut records: Vec<(String, Record)>,
        mode: Mode,
        author: &Author,
    ) -> Result<Vec<Outcome>, WriteFailure> {
        for (_, record) in &records {
            let kind = record.kind();
            match mode {
                Mode::Create => author.may(WriteAction::Create, kind)?,
                Mode::Replace { .. } => author.may(WriteAction::Update, kind)?,
                Mode::Upsert => {
                    author.may(WriteAction::Create, kind)?;
                    author.may(WriteAction::Update, kind)?;
                }
            }
        }
        let by = author.name.as_str();
        let guard = self.store.lock_writes();
        let mut lookup = BatchLookup {
            store: guard.store(),
            added: HashMap::new(),
            texts: HashMap::new(),
            countries: HashMap::new(),
            found: RefCell::default(),
            stored_texts: RefCell::default(),
        };
        let mut writes = Vec::with_capacity(records.len());
        for (path, record) in &mut records {
            let basis = record.key_basis();
            let kind = record.kind();
            let key = record.key_mut();
            if key.trim().is_empty() && mode == Mode::Create && kind != NodeKind::Country {
                *key = Self::unique_key(&guard, &lookup, kind, &basis);
            }
            let fact = Resolver::new(&lookup).resolve(record, path)?;
            lookup.add(&fact);
            writes.push(match mode {
                Mode::Create => Write::Create(fact),
                Mode::Replace { expected_revision } => Write::Update {
                    fact,
                    expected_revision,
                },
                Mode::Upsert => Write::Upsert(fact),
            });
        }
        let (outcomes, ticket) = guard.commit_visible(&writes, by, None)?;
        self.announce(&outcomes, &writes);
        drop(guard);
        self.acknowledge(ticket)?;
        Ok(outcomes)
    }

    pub fn delete(
        &self,
        node: NodeRef,
        cascade: bool,
        expected_revision: Option<u64>,
        author: &Author,
    ) -> Result<Vec<Outcome>, WriteFailure> {
        let action = if cascade {
            WriteAction::CascadeDelete
        } else {
            WriteAction::Delete
        };
        author.may(action, node.kind)?;
        let by = author.name.as_str();
        let guard = self.store.lock_writes();
        let delete = [Write::Delete {
            node,
            cascade,
            expected_revision,
        }];
        let (outcomes, ticket) = guard.commit_visible(&delete, by, None)?;
        self.announce(&outcomes, &delete);
        drop(guard);
        self.acknowledge(ticket)?;
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix as a table: every role against every action on every kind.
    #[test]
    fn the_role_matrix_gives_countries_and_cascades_to_admins_only() {
        let actions = [
            WriteAction::Create,
            WriteAction::Update,
            WriteAction::Delete,
            WriteAction::CascadeDelete,
        ];
        for kind in NodeKind::ALL.iter().copied() {
            for action in actions {
                for role in [KeyRole::Writer, KeyRole::Admin] {
                    let author = Author {
                        name: "key:t".into(),
                        role,
                    };
                    let admins_only =
                        kind == NodeKind::Country || action == WriteAction::CascadeDelete;
                    let allowed = role == KeyRole::Admin || !admins_only;
                    let verdict = author.may(action, kind);
                    assert_eq!(verdict.is_ok(), allowed, "{role} {action} {kind}");
                    if let Err(e) = verdict {
                        assert!(e.to_string().contains("admin role"), "{e}");
                    }
                }
            }
        }
    }

    #[test]
    fn slugs_are_readable_and_bounded() {
        assert_eq!(slug("Aleksandar Vučić"), "aleksandar-vucic");
        assert_eq!(slug("  —  "), "item");
        assert!(slug(&"word ".repeat(40)).len() <= 60);
        assert!(!slug(&"word ".repeat(40)).ends_with('-'));
    }
}
