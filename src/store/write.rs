//! The write path. Writers take turns (one lock), so that every check a write makes — that
//! what it refers to exists, that nothing still refers to what it deletes, that natural keys
//! stay unique, that the revision a client saw is still the latest — holds when its one sled
//! transaction commits the entities, every index, the counts and the revision history together.

use super::plan::{self, Change, Marker, Plan};
use super::*;
use crate::domain::Fact;
use crate::with_entity;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
#[cfg(test)]
use std::collections::BTreeMap;
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

fn encode_fact(fact: &Fact) -> Result<Vec<u8>, StoreError> {
    with_entity!(fact, e => codec::encode(e))
}

fn entries_of(fact: &Fact) -> Vec<(&'static str, Vec<u8>)> {
    with_entity!(fact, e => index_entries(e))
}

impl<'s> WriteGuard<'s> {
    pub(super) fn new(store: &'s Store, lock: MutexGuard<'s, ()>) -> Self {
        WriteGuard { store, _lock: lock }
    }

    /// The store, for the reads a writer makes before committing (its checks hold until then).
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Applies `writes` in order, all in one transaction, or none of them; `marker` is set in
    /// the same transaction.
    pub fn commit(
        &self,
        writes: &[Write],
        by: &str,
        marker: Option<Marker>,
    ) -> Result<Vec<Outcome>, WriteError> {
        let plan = plan::plan(self.store, writes, by, now_ms(), marker)?;
        if !plan.is_empty() {
            self.store.apply_plan(&plan)?;
        }
        Ok(plan.outcomes)
    }
}

impl Store {
    /// Writes a checked plan: entities, every index, the counts, the revisions and the
    /// sequence, in one transaction.
    fn apply_plan(&self, plan: &Plan) -> Result<(), StoreError> {
        let mut removals = Batch::default();
        let mut puts = Batch::default();
        let mut count_delta: HashMap<NodeKind, i64> = HashMap::new();
        let mut refcount_delta: HashMap<Vec<u8>, i64> = HashMap::new();
        for Change {
            node,
            old,
            new,
            revision,
        } in &plan.changes
        {
            let tree = tree_name(node.kind);
            let old_entries = old.as_ref().map(entries_of).unwrap_or_default();
            let new_entries = new.as_ref().map(entries_of).unwrap_or_default();
            count_references(&old_entries, &new_entries, &mut refcount_delta);
            if let Some(o) = old {
                for (t, k) in old_entries {
                    removals.remove(t, k);
                }
                for (t, k, _) in valued_entries(o) {
                    removals.remove(t, k);
                }
            }
            match new {
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
            *count_delta.entry(node.kind).or_default() += match revision.action {
                RevisionAction::Created => 1,
                RevisionAction::Deleted => -1,
                RevisionAction::Updated => 0,
            };
            puts.put(
                REVISIONS,
                revision_key(node, revision.number),
                codec::encode(revision)?,
            );
        }
        for (kind, delta) in count_delta {
            if delta != 0 {
                let count = (self.count_of(kind)? as i64 + delta).max(0) as u64;
                puts.put(META, count_key(kind), count.to_be_bytes().to_vec());
            }
        }
        for (prefix, delta) in refcount_delta {
            if delta != 0 {
                let count = (self.refcount(&prefix)? as i64 + delta).max(0) as u64;
                match count {
                    0 => puts.remove(REFCOUNTS, prefix),
                    n => puts.put(REFCOUNTS, prefix, n.to_be_bytes().to_vec()),
                }
            }
        }
        match plan.marker {
            Some(Marker::Seeded) => puts.put(META, META_SEEDED.to_vec(), b"1".to_vec()),
            None => {}
        }
        let next = self.sequence()? + 1;
        puts.put(META, META_SEQUENCE.to_vec(), next.to_be_bytes().to_vec());
        let mut batch = removals;
        batch.ops.extend(puts.ops);
        self.apply(&batch)?;
        self.memo
            .committed(plan.changes.iter().map(|change| &change.node));
        Ok(())
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
