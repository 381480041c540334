//! The write path. Writers take turns (one lock), so that every check a write makes — that
//! what it refers to exists, that nothing still refers to what it deletes, that natural keys
//! stay unique, that the revision a client saw is still the latest — holds when its one sled
//! transaction commits the entities, every index, the counts and the revision history together.

use super::*;
use crate::domain::Fact;
use crate::with_entity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::MutexGuard;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Must not exist yet.
    Create(Fact),
    /// Must exist; with a revision, only while that is still its latest.
    Update {
        fact: Fact,
        expected_revision: Option<u64>,
    },
    /// Creates or replaces; a fact equal to the stored one changes nothing.
    Upsert(Fact),
    /// Must exist; with `cascade`, whatever refers to it is deleted too, recursively.
    Delete {
        node: NodeRef,
        cascade: bool,
        expected_revision: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevisionAction {
    Created,
    Updated,
    Deleted,
}

/// One change of one node: who made it, when, and which fields it touched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub number: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub by: String,
    pub action: RevisionAction,
    pub fields: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeAction {
    Created,
    Updated,
    Unchanged,
    Deleted,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub node: NodeRef,
    pub action: OutcomeAction,
    /// The node's latest revision after the write.
    pub revision: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0} does not exist")]
    NotFound(NodeRef),
    #[error("{0} already exists")]
    AlreadyExists(NodeRef),
    #[error("{0}")]
    Conflict(String),
    #[error("{node} is still referred to by {}", list(referrers))]
    Referenced {
        node: NodeRef,
        referrers: Vec<NodeRef>,
    },
    #[error("{node} refers to {missing}, which does not exist")]
    Dangling { node: NodeRef, missing: NodeRef },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(nodes: &[NodeRef]) -> String {
    nodes
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub struct WriteGuard<'s> {
    store: &'s Store,
    _lock: MutexGuard<'s, ()>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn revision_key(node: &NodeRef, number: u64) -> Vec<u8> {
    let mut k = format!("{node}\0").into_bytes();
    k.extend_from_slice(&number.to_be_bytes());
    k
}

fn references_of(fact: &Fact) -> Vec<NodeRef> {
    with_entity!(fact, e => all_references(e).into_iter().map(|(_, n)| n).collect())
}

fn encode_fact(fact: &Fact) -> Result<Vec<u8>, StoreError> {
    with_entity!(fact, e => codec::encode(e))
}

fn entries_of(fact: &Fact) -> Vec<(&'static str, Vec<u8>)> {
    with_entity!(fact, e => index_entries(e))
}

/// Top-level fields whose values differ, in the API's camelCase.
fn changed_fields(old: &Fact, new: &Fact) -> Vec<String> {
    let value = |f: &Fact| with_entity!(f, e => serde_json::to_value(e).unwrap_or_default());
    let (old, new) = (value(old), value(new));
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| camel(k))
        .collect()
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn provision_numbers(fact: Option<&Fact>) -> Vec<u32> {
    match fact {
        Some(Fact::Agreement(a)) => a.provisions.iter().map(|p| p.number).collect(),
        _ => Vec::new(),
    }
}

impl<'s> WriteGuard<'s> {
    pub(super) fn new(store: &'s Store, lock: MutexGuard<'s, ()>) -> Self {
        WriteGuard { store, _lock: lock }
    }

    /// The store, for the reads a writer makes before committing (its checks hold until then).
    pub fn store(&self) -> &Store {
        self.store
    }

    fn latest_revision(&self, node: &NodeRef) -> Result<u64, StoreError> {
        Ok(self
            .store
            .revision_span(node)?
            .map_or(0, |(_, last)| last.number))
    }

    /// Applies `writes` in order, all in one transaction, or none of them. `marker` is a meta
    /// key set in the same transaction (the seeded flag).
    pub fn commit(
        &self,
        writes: &[Write],
        by: &str,
        marker: Option<&[u8]>,
    ) -> Result<Vec<Outcome>, WriteError> {
        let store = self.store;
        // The state of every node this batch touches: Some(new) or None (deleted).
        let mut pending: BTreeMap<NodeRef, Option<Fact>> = BTreeMap::new();
        let mut originals: HashMap<NodeRef, Option<Fact>> = HashMap::new();
        let mut order: Vec<NodeRef> = Vec::new();

        let original = |node: &NodeRef,
                        originals: &mut HashMap<NodeRef, Option<Fact>>|
         -> Result<Option<Fact>, StoreError> {
            if let Some(f) = originals.get(node) {
                return Ok(f.clone());
            }
            let f = store.get_fact(node)?;
            originals.insert(node.clone(), f.clone());
            Ok(f)
        };

        for write in writes {
            match write {
                Write::Create(fact) | Write::Update { fact, .. } | Write::Upsert(fact) => {
                    let node = fact.node();
                    let current = match pending.get(&node) {
                        Some(state) => state.clone(),
                        None => original(&node, &mut originals)?,
                    };
                    match write {
                        Write::Create(_) if current.is_some() => {
                            return Err(WriteError::AlreadyExists(node))
                        }
                        Write::Update { .. } if current.is_none() => {
                            return Err(WriteError::NotFound(node))
                        }
                        Write::Update {
                            expected_revision: Some(expected),
                            ..
                        } => {
                            let latest = self.latest_revision(&node)?;
                            if latest != *expected {
                                return Err(WriteError::Conflict(format!(
                                    "{node} is at revision {latest}, not {expected}: someone else changed it; read it again"
                                )));
                            }
                        }
                        _ => {}
                    }
                    if !pending.contains_key(&node) {
                        order.push(node.clone());
                    }
                    pending.insert(node, Some(fact.clone()));
                }
                Write::Delete {
                    node,
                    cascade,
                    expected_revision,
                } => {
                    let exists = match pending.get(node) {
                        Some(state) => state.is_some(),
                        None => original(node, &mut originals)?.is_some(),
                    };
                    if !exists {
                        return Err(WriteError::NotFound(node.clone()));
                    }
                    if let Some(expected) = expected_revision {
                        let latest = self.latest_revision(node)?;
                        if latest != *expected {
                            return Err(WriteError::Conflict(format!(
                                "{node} is at revision {latest}, not {expected}: someone else changed it; read it again"
                            )));
                        }
                    }
                    let mut queue = VecDeque::from([node.clone()]);
                    while let Some(next) = queue.pop_front() {
                        if matches!(pending.get(&next), Some(None)) {
                            continue;
                        }
                        original(&next, &mut originals)?;
                        if !pending.contains_key(&next) {
                            order.push(next.clone());
                        }
                        pending.insert(next.clone(), None);
                        if *cascade {
                            for (_, referrer) in store.all_referrers(&next)? {
                                if referrer != next {
                                    queue.push_back(referrer);
                                }
                            }
                        }
                    }
                }
            }
        }

        // Everything a new state refers to must exist once the batch lands.
        let exists_after = |node: &NodeRef| -> Result<bool, StoreError> {
            if node.kind == NodeKind::Provision {
                let Some((agreement, number)) = Provision::split_key(&node.key) else {
                    return Ok(false);
                };
                let agreement = NodeRef::new(NodeKind::Agreement, agreement);
                return Ok(match pending.get(&agreement) {
                    Some(state) => provision_numbers(state.as_ref()).contains(&number),
                    None => store.exists(node)?,
                });
            }
            match pending.get(node) {
                Some(state) => Ok(state.is_some()),
                None => store.exists(node),
            }
        };
        // A batch cites the same few countries and articles again and again: check each once.
        let mut confirmed: HashSet<NodeRef> = HashSet::new();
        for (node, state) in &pending {
            if let Some(fact) = state {
                for target in references_of(fact) {
                    if confirmed.contains(&target) {
                        continue;
                    }
                    if !exists_after(&target)? {
                        return Err(WriteError::Dangling {
                            node: node.clone(),
                            missing: target,
                        });
                    }
                    confirmed.insert(target);
                }
            }
        }
        // Nothing outside the batch may still refer to what it deletes (provisions included).
        for (node, state) in &pending {
            let mut gone = Vec::new();
            match state {
                None => gone.push(node.clone()),
                Some(fact) if node.kind == NodeKind::Agreement => {
                    let kept = provision_numbers(Some(fact));
                    for n in provision_numbers(originals.get(node).and_then(|f| f.as_ref())) {
                        if !kept.contains(&n) {
                            gone.push(NodeRef::new(
                                NodeKind::Provision,
                                Provision::key(&node.key, n),
                            ));
                        }
                    }
                }
                Some(_) => {}
            }
            for target in gone {
                let mut blocking = Vec::new();
                for (_, referrer) in store.all_referrers(&target)? {
                    if target.kind == NodeKind::Provision
                        && !referrer_names(&referrer, &target, &pending, store)?
                    {
                        continue;
                    }
                    let still_refers = match pending.get(&referrer) {
                        Some(None) => false,
                        Some(Some(fact)) => {
                            references_of(fact).contains(&target)
                                || (target.kind == NodeKind::Agreement
                                    && references_of(fact).iter().any(|r| {
                                        r.kind == NodeKind::Provision
                                            && r.key.starts_with(&format!("{}/", target.key))
                                    }))
                        }
                        None => true,
                    };
                    if still_refers && referrer != *node {
                        blocking.push(referrer);
                    }
                }
                if !blocking.is_empty() {
                    blocking.dedup();
                    return Err(WriteError::Referenced {
                        node: target,
                        referrers: blocking,
                    });
                }
            }
        }
        // Natural keys: one source per URL.
        let mut urls: HashMap<String, NodeRef> = HashMap::new();
        for (node, state) in &pending {
            if let Some(Fact::Source(s)) = state {
                if let Some(url) = &s.url {
                    if let Some(other) = urls.insert(url.clone(), node.clone()) {
                        return Err(WriteError::Conflict(format!(
                            "{node} and {other} have the same URL {url}"
                        )));
                    }
                    if let Some(owner) = store.source_by_url(url)? {
                        let owner = NodeRef::new(NodeKind::Source, owner);
                        let owner_keeps_it = match pending.get(&owner) {
                            Some(None) => false,
                            Some(Some(Fact::Source(o))) => o.url.as_deref() == Some(url.as_str()),
                            _ => true,
                        };
                        if owner != *node && owner_keeps_it {
                            return Err(WriteError::Conflict(format!(
                                "source {} already has the URL {url}",
                                owner.key
                            )));
                        }
                    }
                }
            }
        }

        // Natural keys: a country code (alpha-2 or alpha-3) names one country. `country(code:)`
        // reads the shared code index, so a second country claiming SRB would take Serbia's
        // place there.
        let mut codes: HashMap<String, NodeRef> = HashMap::new();
        for (node, state) in &pending {
            if let Some(Fact::Country(c)) = state {
                for code in [&c.code, &c.alpha3] {
                    if let Some(other) = codes.insert(code.clone(), node.clone()) {
                        if other != *node {
                            return Err(WriteError::Conflict(format!(
                                "{node} and {other} both use the code {code}"
                            )));
                        }
                    }
                    if let Some(owner) = store.country_code(code)? {
                        let owner = NodeRef::new(NodeKind::Country, owner);
                        let owner_keeps_it = match pending.get(&owner) {
                            Some(None) => false,
                            Some(Some(Fact::Country(o))) => o.code == *code || o.alpha3 == *code,
                            _ => true,
                        };
                        if owner != *node && owner_keeps_it {
                            return Err(WriteError::Conflict(format!(
                                "the code {code} belongs to country {} already",
                                owner.key
                            )));
                        }
                    }
                }
            }
        }

        let mut removals = Batch::default();
        let mut puts = Batch::default();
        let mut outcomes = Vec::new();
        let mut count_delta: HashMap<NodeKind, i64> = HashMap::new();
        let mut refcount_delta: HashMap<Vec<u8>, i64> = HashMap::new();
        let at_ms = now_ms();
        for node in &order {
            let old = originals.get(node).cloned().flatten();
            let new = pending.get(node).cloned().flatten();
            let latest = self.latest_revision(node)?;
            let tree = tree_name(node.kind);
            let (action, fields) = match (&old, &new) {
                (None, None) => continue,
                (Some(o), Some(n)) => {
                    let encoded = encode_fact(n)?;
                    if store
                        .raw(node)?
                        .is_some_and(|raw| raw.as_ref() == encoded.as_slice())
                    {
                        outcomes.push(Outcome {
                            node: node.clone(),
                            action: OutcomeAction::Unchanged,
                            revision: latest,
                        });
                        continue;
                    }
                    (RevisionAction::Updated, changed_fields(o, n))
                }
                (None, Some(_)) => (RevisionAction::Created, Vec::new()),
                (Some(_), None) => (RevisionAction::Deleted, Vec::new()),
            };
            let old_entries = old.as_ref().map(entries_of).unwrap_or_default();
            let new_entries = new.as_ref().map(entries_of).unwrap_or_default();
            count_references(&old_entries, &new_entries, &mut refcount_delta);
            if let Some(o) = &old {
                for (t, k) in old_entries {
                    removals.remove(t, k);
                }
                for (t, k, _) in valued_entries(o) {
                    removals.remove(t, k);
                }
            }
            match &new {
                Some(n) => {
                    puts.put(tree, node.key.as_bytes(), encode_fact(n)?);
                    for (t, k) in new_entries {
                        puts.put(t, k, Vec::new());
                    }
                    for (t, k, v) in valued_entries(n) {
                        puts.put(t, k, v);
                    }
                }
                None => removals.remove(tree, node.key.as_bytes()),
            }
            *count_delta.entry(node.kind).or_default() += match action {
                RevisionAction::Created => 1,
                RevisionAction::Deleted => -1,
                RevisionAction::Updated => 0,
            };
            let revision = Revision {
                number: latest + 1,
                at_ms,
                by: by.to_string(),
                action,
                fields,
            };
            puts.put(
                REVISIONS,
                revision_key(node, revision.number),
                codec::encode(&revision)?,
            );
            outcomes.push(Outcome {
                node: node.clone(),
                action: match action {
                    RevisionAction::Created => OutcomeAction::Created,
                    RevisionAction::Updated => OutcomeAction::Updated,
                    RevisionAction::Deleted => OutcomeAction::Deleted,
                },
                revision: revision.number,
            });
        }
        for (kind, delta) in count_delta {
            if delta != 0 {
                let count = (store.count_of(kind)? as i64 + delta).max(0) as u64;
                puts.put(META, count_key(kind), count.to_be_bytes().to_vec());
            }
        }
        for (prefix, delta) in refcount_delta {
            if delta != 0 {
                let count = (store.refcount(&prefix)? as i64 + delta).max(0) as u64;
                match count {
                    0 => puts.remove(REFCOUNTS, prefix),
                    n => puts.put(REFCOUNTS, prefix, n.to_be_bytes().to_vec()),
                }
            }
        }
        if let Some(marker) = marker {
            puts.put(META, marker.to_vec(), b"1".to_vec());
        }
        if !removals.ops.is_empty() || !puts.ops.is_empty() {
            let next = store.sequence()? + 1;
            puts.put(META, META_SEQUENCE.to_vec(), next.to_be_bytes().to_vec());
        }
        let mut batch = removals;
        batch.ops.extend(puts.ops);
        if !batch.ops.is_empty() {
            store.apply(&batch)?;
            store.memo.committed(&order);
        }
        Ok(outcomes)
    }
}

/// Adds to `delta`, per `target \0 role \0` prefix, the references a node gains and loses.
fn count_references(
    old: &[(&'static str, Vec<u8>)],
    new: &[(&'static str, Vec<u8>)],
    delta: &mut HashMap<Vec<u8>, i64>,
) {
    let refs = |entries: &'_ [(&'static str, Vec<u8>)]| -> BTreeSet<Vec<u8>> {
        entries
            .iter()
            .filter(|(t, _)| *t == REFS)
            .map(|(_, k)| k.clone())
            .collect()
    };
    let (old, new) = (refs(old), refs(new));
    for (keys, others, sign) in [(&new, &old, 1), (&old, &new, -1)] {
        for key in keys.difference(others) {
            if let Some(prefix) = refs_key_prefix(key) {
                *delta.entry(prefix.to_vec()).or_default() += sign;
            }
        }
    }
}

/// Whether `referrer` (in its state after the batch) still names the provision `target`.
fn referrer_names(
    referrer: &NodeRef,
    target: &NodeRef,
    pending: &BTreeMap<NodeRef, Option<Fact>>,
    store: &Store,
) -> Result<bool, StoreError> {
    let state = match pending.get(referrer) {
        Some(state) => state.clone(),
        None => store.get_fact(referrer)?,
    };
    Ok(state.is_some_and(|f| references_of(&f).contains(target)))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::{Person, Source, Statement};
    use crate::ingest::dataset::{load, DatasetFiles};

    /// A store in a temp dir, seeded with the built-in dataset.
    pub(in crate::store) fn seeded() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .seed(&load(&DatasetFiles::builtin()).unwrap())
            .unwrap();
        (dir, store)
    }

    fn person(store: &Store, key: &str) -> Person {
        store.get::<Person>(key).unwrap().unwrap()
    }

    #[test]
    fn create_update_unchanged_delete_with_revisions_and_counts() {
        let (_dir, store) = seeded();
        let people = store.count::<Person>().unwrap();
        let mut p = person(&store, "ned-price");
        p.key = "new-person".into();
        let w = store.lock_writes();
        let out = w
            .commit(&[Write::Create(Fact::Person(p.clone()))], "tester", None)
            .unwrap();
        assert_eq!(out[0].action, OutcomeAction::Created);
        assert!(matches!(
            w.commit(&[Write::Create(Fact::Person(p.clone()))], "t", None),
            Err(WriteError::AlreadyExists(_))
        ));
        assert_eq!(store.count::<Person>().unwrap(), people + 1);
        assert_eq!(store.find_by_name::<Person>("ned price").unwrap().len(), 2);

        p.name = "Edward Price".into();
        let out = w
            .commit(
                &[Write::Update {
                    fact: Fact::Person(p.clone()),
                    expected_revision: Some(1),
                }],
                "editor",
                None,
            )
            .unwrap();
        assert_eq!(
            (out[0].action, out[0].revision),
            (OutcomeAction::Updated, 2)
        );
        assert_eq!(
            store.find_by_name::<Person>("edward").unwrap(),
            ["new-person"]
        );
        assert_eq!(
            store.find_by_name::<Person>("ned price").unwrap(),
            ["ned-price"],
            "old name tokens removed"
        );
        let stale = w.commit(
            &[Write::Update {
                fact: Fact::Person(p.clone()),
                expected_revision: Some(1),
            }],
            "late",
            None,
        );
        assert!(matches!(stale, Err(WriteError::Conflict(_))));
        let same = w
            .commit(&[Write::Upsert(Fact::Person(p.clone()))], "again", None)
            .unwrap();
        assert_eq!(same[0].action, OutcomeAction::Unchanged);

        let node = NodeRef::new(NodeKind::Person, "new-person");
        let revisions = store.revisions(&node).unwrap();
        assert_eq!(revisions.len(), 2);
        assert_eq!(revisions[1].by, "editor");
        assert_eq!(revisions[1].fields, ["name"]);
        w.commit(
            &[Write::Delete {
                node: node.clone(),
                cascade: false,
                expected_revision: None,
            }],
            "t",
            None,
        )
        .unwrap();
        assert_eq!(store.count::<Person>().unwrap(), people);
        assert!(store.find_by_name::<Person>("edward").unwrap().is_empty());
        assert_eq!(
            store.revisions(&node).unwrap().last().unwrap().action,
            RevisionAction::Deleted
        );
    }

    #[test]
    fn deletes_are_refused_while_referred_to_unless_cascading() {
        let (_dir, store) = seeded();
        let w = store.lock_writes();
        let osmani = NodeRef::new(NodeKind::Person, "vjosa-osmani");
        let err = w
            .commit(
                &[Write::Delete {
                    node: osmani.clone(),
                    cascade: false,
                    expected_revision: None,
                }],
                "t",
                None,
            )
            .unwrap_err();
        let WriteError::Referenced { referrers, .. } = err else {
            panic!("{err}")
        };
        assert!(referrers.contains(&NodeRef::new(NodeKind::Statement, "osmani-true-ally")));
        assert!(referrers.contains(&NodeRef::new(
            NodeKind::Event,
            "osmani-announces-kenya-missions"
        )));
        let statements = store.count::<Statement>().unwrap();
        let out = w
            .commit(
                &[Write::Delete {
                    node: osmani.clone(),
                    cascade: true,
                    expected_revision: None,
                }],
                "t",
                None,
            )
            .unwrap();
        assert!(out.len() >= 4, "{out:?}");
        assert!(!store.exists(&osmani).unwrap());
        assert!(store.count::<Statement>().unwrap() < statements);
        // The cascade went on to what referred to the deleted event.
        assert!(!store
            .exists(&NodeRef::new(NodeKind::Relation, "kenya-recognizes-kosovo"))
            .unwrap());
    }

    #[test]
    fn a_failing_batch_leaves_no_trace() {
        let (_dir, store) = seeded();
        let w = store.lock_writes();
        let mut ok = person(&store, "ned-price");
        ok.key = "fine".into();
        let mut bad = person(&store, "ned-price");
        bad.key = "broken".into();
        bad.posts[0].organization = Some("no-such-org".into());
        let err = w
            .commit(
                &[
                    Write::Create(Fact::Person(ok)),
                    Write::Create(Fact::Person(bad)),
                ],
                "t",
                None,
            )
            .unwrap_err();
        assert!(matches!(err, WriteError::Dangling { .. }), "{err}");
        assert!(!store
            .exists(&NodeRef::new(NodeKind::Person, "fine"))
            .unwrap());
        assert!(store.find_by_name::<Person>("ned").unwrap().len() == 1);
    }

    #[test]
    fn sources_keep_unique_urls_and_cannot_vanish_under_citations() {
        let (_dir, store) = seeded();
        let w = store.lock_writes();
        let mut a = store
            .get::<Source>("kosovo-kenya-missions")
            .unwrap()
            .unwrap();
        a.url = Some("https://example.org/a".into());
        w.commit(&[Write::Upsert(Fact::Source(a.clone()))], "t", None)
            .unwrap();
        let mut b = a.clone();
        b.key = "copy".into();
        assert!(matches!(
            w.commit(&[Write::Create(Fact::Source(b))], "t", None),
            Err(WriteError::Conflict(_))
        ));
        let cited = NodeRef::new(NodeKind::Source, "kosovo-kenya-missions");
        let err = w
            .commit(
                &[Write::Delete {
                    node: cited,
                    cascade: false,
                    expected_revision: None,
                }],
                "t",
                None,
            )
            .unwrap_err();
        assert!(matches!(err, WriteError::Referenced { .. }), "{err}");
    }
}

#[cfg(test)]
mod refcount_tests {
    use super::*;
    use crate::domain::Statement;
    use crate::ingest::dataset::{load, DatasetFiles};

    /// Every count in `refcounts` equals the number of `refs` entries under its prefix.
    fn assert_counts_match_index(store: &Store) {
        let mut counted: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        referrers::for_each(store.tree(REFERRERS).unwrap(), b"", |prefix, _| {
            *counted.entry(prefix.to_vec()).or_default() += 1;
            Ok(())
        })
        .unwrap();
        let kept: BTreeMap<Vec<u8>, u64> = store
            .tree(REFCOUNTS)
            .unwrap()
            .iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (
                    k.to_vec(),
                    u64::from_be_bytes(v.as_ref().try_into().unwrap()),
                )
            })
            .collect();
        assert_eq!(kept, counted);
    }

    #[test]
    fn counts_follow_creates_moves_and_deletes_and_pages_read_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .seed(&load(&DatasetFiles::builtin()).unwrap())
            .unwrap();
        assert_counts_match_index(&store);
        let xk = NodeRef::new(NodeKind::Country, "XK");
        let about_xk = store.referrer_count(&xk, Role::About).unwrap();
        let all = store.referrers(&xk, Role::About).unwrap();
        assert_eq!(about_xk as usize, all.len());
        assert!(all.len() >= 3, "the seed has statements about Kosovo");

        // Pages walk the same keys, in order, each read separately.
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store
                .referrer_page(&xk, Role::About, NodeKind::Statement, after.as_deref(), 2)
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = page.last().cloned();
            walked.extend(page.iter().cloned());
        }
        assert_eq!(walked, all);

        // Move one statement from Kosovo to Serbia, then delete another.
        let w = store.lock_writes();
        let mut moved: Statement = store.get(&all[0]).unwrap().unwrap();
        moved.about = vec![NodeRef::new(NodeKind::Country, "RS")];
        let rs_before = store
            .referrer_count(&NodeRef::new(NodeKind::Country, "RS"), Role::About)
            .unwrap();
        w.commit(&[Write::Upsert(Fact::Statement(moved))], "t", None)
            .unwrap();
        w.commit(
            &[Write::Delete {
                node: NodeRef::new(NodeKind::Statement, &all[1]),
                cascade: false,
                expected_revision: None,
            }],
            "t",
            None,
        )
        .unwrap();
        assert_eq!(
            store.referrer_count(&xk, Role::About).unwrap(),
            about_xk - 2
        );
        assert_eq!(
            store
                .referrer_count(&NodeRef::new(NodeKind::Country, "RS"), Role::About)
                .unwrap(),
            rs_before + 1
        );
        assert_counts_match_index(&store);
    }

    #[test]
    fn a_data_dir_without_counts_is_counted_once_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .seed(&load(&DatasetFiles::builtin()).unwrap())
                .unwrap();
            // As a data dir from before counts were kept.
            store.tree(REFCOUNTS).unwrap().clear().unwrap();
            store.tree(META).unwrap().remove(META_REFCOUNTS).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store
            .tree(META)
            .unwrap()
            .contains_key(META_REFCOUNTS)
            .unwrap());
        assert_counts_match_index(&store);
        assert!(
            store
                .referrer_count(&NodeRef::new(NodeKind::Country, "XK"), Role::About)
                .unwrap()
                > 0
        );
    }
}
