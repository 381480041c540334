//! The change feed: every commit, as the list of what it changed, handed in commit order to
//! whatever follows the store (the search index, the response cache's generations, the
//! subscriptions) before the write is answered. A new follower is one `Follower` more, not a
//! new call in the write path.

use crate::domain::{Fact, NodeRef};
use crate::store::{Outcome, OutcomeAction};

/// One node a commit changed.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The store's commit sequence after the commit that made the change.
    pub sequence: u64,
    pub node: NodeRef,
    pub action: OutcomeAction,
    /// The node's revision after the change (a deletion counts as one).
    pub revision: u64,
}

impl Change {
    /// What a commit whose outcomes are `outcomes` changed (the unchanged left out), the
    /// store at `sequence` after it.
    pub fn of_commit(outcomes: &[Outcome], sequence: u64) -> Vec<Change> {
        outcomes
            .iter()
            .filter(|o| o.action != OutcomeAction::Unchanged)
            .map(|o| Change {
                sequence,
                node: o.node.clone(),
                action: o.action,
                revision: o.revision,
            })
            .collect()
    }
}

/// The changes of one commit, with a view of the store as the commit left it.
pub struct Commit<'a> {
    pub sequence: u64,
    pub changes: &'a [Change],
    /// The node as it is now; None once deleted.
    pub now: &'a dyn Fn(&NodeRef) -> Option<Fact>,
}

/// Follows the store's commits. Called under the write lock, so in commit order, and before the
/// write is answered: a follower must not block for long, and must not fail the write (it logs
/// and catches up later, as the search index does on the next start).
pub trait Follower: Send + Sync {
    fn follow(&self, commit: &Commit<'_>);
}
