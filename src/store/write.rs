//! The write path. Writers take turns (one lock), so that every check a write makes (`plan.rs`)
//! — that what it refers to exists, that nothing still refers to what it deletes, that natural
//! keys stay unique, that the revision a client saw is still the latest — holds when the
//! backend applies the plan: the entities, every index, the counts and the revision history in
//! one transaction.

use super::durable::InLine;
use super::plan::{self, Marker};
use super::{Store, StoreError, Ticket};
use crate::domain::{Fact, NodeRef};
use serde::{Deserialize, Serialize};
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
    // Declared first, so dropped first: out of line before the lock goes.
    in_line: InLine<'s>,
    _lock: MutexGuard<'s, ()>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl<'s> WriteGuard<'s> {
    pub(super) fn new(store: &'s Store, lock: MutexGuard<'s, ()>, in_line: InLine<'s>) -> Self {
        WriteGuard {
            store,
            in_line,
            _lock: lock,
        }
    }

    /// The store, for the reads a writer makes before committing (its checks hold until then).
    pub fn store(&self) -> &Store {
        self.store
    }

    /// Applies `writes` in order, all in one transaction, or none of them; `marker` is set in
    /// the same transaction. Durable when it returns.
    pub fn commit(
        &self,
        writes: &[Write],
        by: &str,
        marker: Option<Marker>,
    ) -> Result<Vec<Outcome>, WriteError> {
        let (outcomes, ticket) = self.commit_visible(writes, by, marker)?;
        if let Some(ticket) = ticket {
            self.store.make_durable_now(ticket)?;
        }
        Ok(outcomes)
    }

    /// As `commit`, but returns once the write is visible: it is durable once
    /// `Store::make_durable` returns for the ticket (None: nothing was written). Waiting after
    /// the write lock is released lets concurrent writers share one sync.
    pub fn commit_visible(
        &self,
        writes: &[Write],
        by: &str,
        marker: Option<Marker>,
    ) -> Result<(Vec<Outcome>, Option<Ticket>), WriteError> {
        let plan = plan::plan(self.store, writes, by, now_ms(), marker)?;
        let ticket = match plan.is_empty() {
            true => None,
            false => Some(self.store.apply(&plan, &self.in_line)?),
        };
        Ok((plan.outcomes, ticket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NodeKind, Person, Source, Statement};
    use crate::store::tests::seeded;

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
        let relation = NodeRef::new(NodeKind::Relation, "kenya-recognizes-kosovo");
        // Found first, so that the delete has to forget that they were there.
        assert!(store.exists(&osmani).unwrap() && store.exists(&relation).unwrap());
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
        assert!(!store.exists(&relation).unwrap());
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
