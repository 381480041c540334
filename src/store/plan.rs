//! Integrity planning: turns a batch of writes into the changes it makes, checked against the
//! store's state — what a new state refers to exists once the batch lands, nothing outside the
//! batch still refers to what it deletes (cascading deletes follow referrers), natural keys stay
//! unique, an expected revision is still the latest. It reads through the store's typed API
//! only, so every backend applies the same rules; a backend applies the `Plan` in one
//! transaction, with its own indexes. The caller holds the write lock, so the checks still hold
//! when the plan is applied.

use super::{
    Outcome, OutcomeAction, Revision, RevisionAction, Store, StoreError, Write, WriteError,
};
use crate::domain::{all_references, Fact, NodeKind, NodeRef, Provision, Source};
use crate::with_entity;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

/// A meta flag a commit sets in the same transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The store has had its first contents (the built-in dataset).
    Seeded,
}

/// What a checked batch changes, in the order it first touched each node.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// One per node the batch touched, unchanged ones included, in order.
    pub outcomes: Vec<Outcome>,
    pub marker: Option<Marker>,
}

impl Plan {
    /// Whether applying it writes anything.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.marker.is_none()
    }
}

/// One node's change: its state before and after (None: absent), and the revision recorded.
#[derive(Debug)]
pub struct Change {
    pub node: NodeRef,
    pub old: Option<Fact>,
    pub new: Option<Fact>,
    pub revision: Revision,
}

fn references_of(fact: &Fact) -> Vec<NodeRef> {
    with_entity!(fact, e => all_references(e).into_iter().map(|(_, n)| n).collect())
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

fn latest_revision(store: &Store, node: &NodeRef) -> Result<u64, StoreError> {
    Ok(store
        .revision_span(node)?
        .map_or(0, |(_, last)| last.number))
}

/// Checks `writes`, applied in order, against the store, and returns what they change. `at_ms`
/// and `by` are recorded in each revision.
pub fn plan(
    store: &Store,
    writes: &[Write],
    by: &str,
    at_ms: u64,
    marker: Option<Marker>,
) -> Result<Plan, WriteError> {
    let mut planner = Planner {
        store,
        pending: BTreeMap::new(),
        originals: HashMap::new(),
        order: Vec::new(),
    };
    for write in writes {
        planner.stage(write)?;
    }
    planner.check_references_exist()?;
    planner.check_nothing_refers_to_what_goes()?;
    planner.check_unique_urls()?;
    planner.check_unique_country_codes()?;
    planner.into_plan(by, at_ms, marker)
}

/// A batch being planned: the state each node it touches will have.
struct Planner<'s> {
    store: &'s Store,
    /// The state of every node this batch touches: Some(new) or None (deleted).
    pending: BTreeMap<NodeRef, Option<Fact>>,
    /// Their stored states, read once.
    originals: HashMap<NodeRef, Option<Fact>>,
    /// The nodes in the order the batch first touched them.
    order: Vec<NodeRef>,
}

impl Planner<'_> {
    fn original(&mut self, node: &NodeRef) -> Result<Option<Fact>, StoreError> {
        if let Some(f) = self.originals.get(node) {
            return Ok(f.clone());
        }
        let f = self.store.get_fact(node)?;
        self.originals.insert(node.clone(), f.clone());
        Ok(f)
    }

    /// The node's state so far in the batch, or as stored.
    fn current(&mut self, node: &NodeRef) -> Result<Option<Fact>, StoreError> {
        match self.pending.get(node) {
            Some(state) => Ok(state.clone()),
            None => self.original(node),
        }
    }

    fn set(&mut self, node: NodeRef, state: Option<Fact>) {
        if !self.pending.contains_key(&node) {
            self.order.push(node.clone());
        }
        self.pending.insert(node, state);
    }

    fn expect_revision(&self, node: &NodeRef, expected: Option<u64>) -> Result<(), WriteError> {
        let Some(expected) = expected else {
            return Ok(());
        };
        let latest = latest_revision(self.store, node)?;
        if latest != expected {
            return Err(WriteError::Conflict(format!(
                "{node} is at revision {latest}, not {expected}: someone else changed it; read it again"
            )));
        }
        Ok(())
    }

    /// Applies one write to the batch's state: existence and revision checks, and a cascading
    /// delete's closure over referrers.
    fn stage(&mut self, write: &Write) -> Result<(), WriteError> {
        match write {
            Write::Create(fact) | Write::Update { fact, .. } | Write::Upsert(fact) => {
                let node = fact.node();
                let current = self.current(&node)?;
                match write {
                    Write::Create(_) if current.is_some() => {
                        return Err(WriteError::AlreadyExists(node))
                    }
                    Write::Update { .. } if current.is_none() => {
                        return Err(WriteError::NotFound(node))
                    }
                    Write::Update {
                        expected_revision, ..
                    } => self.expect_revision(&node, *expected_revision)?,
                    _ => {}
                }
                self.set(node, Some(fact.clone()));
            }
            Write::Delete {
                node,
                cascade,
                expected_revision,
            } => {
                if self.current(node)?.is_none() {
                    return Err(WriteError::NotFound(node.clone()));
                }
                self.expect_revision(node, *expected_revision)?;
                let mut queue = VecDeque::from([node.clone()]);
                while let Some(next) = queue.pop_front() {
                    if matches!(self.pending.get(&next), Some(None)) {
                        continue;
                    }
                    self.original(&next)?;
                    self.set(next.clone(), None);
                    if *cascade {
                        for (_, referrer) in self.store.all_referrers(&next)? {
                            if referrer != next {
                                queue.push_back(referrer);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a node exists once the batch lands.
    fn exists_after(&self, node: &NodeRef) -> Result<bool, StoreError> {
        if node.kind == NodeKind::Provision {
            let Some((agreement, number)) = Provision::split_key(&node.key) else {
                return Ok(false);
            };
            let agreement = NodeRef::new(NodeKind::Agreement, agreement);
            return Ok(match self.pending.get(&agreement) {
                Some(state) => provision_numbers(state.as_ref()).contains(&number),
                None => self.store.exists(node)?,
            });
        }
        match self.pending.get(node) {
            Some(state) => Ok(state.is_some()),
            None => self.store.exists(node),
        }
    }

    /// Everything a new state refers to must exist once the batch lands.
    fn check_references_exist(&self) -> Result<(), WriteError> {
        // A batch cites the same few countries and articles again and again: check each once.
        let mut confirmed: HashSet<NodeRef> = HashSet::new();
        for (node, state) in &self.pending {
            let Some(fact) = state else { continue };
            for target in references_of(fact) {
                if confirmed.contains(&target) {
                    continue;
                }
                if !self.exists_after(&target)? {
                    return Err(WriteError::Dangling {
                        node: node.clone(),
                        missing: target,
                    });
                }
                confirmed.insert(target);
            }
        }
        Ok(())
    }

    /// What the batch removes: deleted nodes, and the provisions an updated agreement drops.
    fn gone(&self, node: &NodeRef, state: &Option<Fact>) -> Vec<NodeRef> {
        match state {
            None => vec![node.clone()],
            Some(fact) if node.kind == NodeKind::Agreement => {
                let kept = provision_numbers(Some(fact));
                provision_numbers(self.originals.get(node).and_then(|f| f.as_ref()))
                    .into_iter()
                    .filter(|n| !kept.contains(n))
                    .map(|n| NodeRef::new(NodeKind::Provision, Provision::key(&node.key, n)))
                    .collect()
            }
            Some(_) => Vec::new(),
        }
    }

    /// Whether `referrer`, in its state after the batch, still refers to `target` (for an
    /// agreement, to one of its provisions too).
    fn still_refers(&self, referrer: &NodeRef, target: &NodeRef) -> Result<bool, StoreError> {
        let state = match self.pending.get(referrer) {
            Some(state) => state.clone(),
            None if target.kind == NodeKind::Provision => self.store.get_fact(referrer)?,
            // Stored, untouched, and listed as a referrer: it refers.
            None => return Ok(true),
        };
        let Some(fact) = state else {
            return Ok(false);
        };
        let references = references_of(&fact);
        let names_provision = |r: &NodeRef| {
            r.kind == NodeKind::Provision && r.key.starts_with(&format!("{}/", target.key))
        };
        Ok(references.contains(target)
            || (target.kind == NodeKind::Agreement && references.iter().any(names_provision)))
    }

    /// Nothing outside the batch may still refer to what it deletes (provisions included).
    fn check_nothing_refers_to_what_goes(&self) -> Result<(), WriteError> {
        for (node, state) in &self.pending {
            for target in self.gone(node, state) {
                let mut blocking = Vec::new();
                for (_, referrer) in self.store.all_referrers(&target)? {
                    if referrer != *node && self.still_refers(&referrer, &target)? {
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
        Ok(())
    }

    /// Natural keys: one source per URL.
    fn check_unique_urls(&self) -> Result<(), WriteError> {
        let mut urls: HashMap<&str, &NodeRef> = HashMap::new();
        for (node, state) in &self.pending {
            let Some(Fact::Source(Source { url: Some(url), .. })) = state else {
                continue;
            };
            if let Some(other) = urls.insert(url, node) {
                return Err(WriteError::Conflict(format!(
                    "{node} and {other} have the same URL {url}"
                )));
            }
            if let Some(owner) = self.store.source_by_url(url)? {
                let owner = NodeRef::new(NodeKind::Source, owner);
                let owner_keeps_it = match self.pending.get(&owner) {
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
        Ok(())
    }

    /// Natural keys: a country code (alpha-2 or alpha-3) names one country. `country(code:)`
    /// reads the shared code index, so a second country claiming SRB would take Serbia's
    /// place there.
    fn check_unique_country_codes(&self) -> Result<(), WriteError> {
        let mut codes: HashMap<&str, &NodeRef> = HashMap::new();
        for (node, state) in &self.pending {
            let Some(Fact::Country(c)) = state else {
                continue;
            };
            for code in [&c.code, &c.alpha3] {
                if let Some(other) = codes.insert(code, node) {
                    if other != node {
                        return Err(WriteError::Conflict(format!(
                            "{node} and {other} both use the code {code}"
                        )));
                    }
                }
                if let Some(owner) = self.store.country_code(code)? {
                    let owner = NodeRef::new(NodeKind::Country, owner);
                    let owner_keeps_it = match self.pending.get(&owner) {
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
        Ok(())
    }

    /// Each touched node's change and revision, in order; a node written as it was stays
    /// unchanged and records no revision.
    fn into_plan(self, by: &str, at_ms: u64, marker: Option<Marker>) -> Result<Plan, WriteError> {
        let mut plan = Plan {
            marker,
            ..Plan::default()
        };
        for node in self.order {
            let old = self.originals.get(&node).cloned().flatten();
            let new = self.pending.get(&node).cloned().flatten();
            let latest = latest_revision(self.store, &node)?;
            let (action, fields) = match (&old, &new) {
                (None, None) => continue,
                (Some(o), Some(n)) if o == n => {
                    plan.outcomes.push(Outcome {
                        node,
                        action: OutcomeAction::Unchanged,
                        revision: latest,
                    });
                    continue;
                }
                (Some(o), Some(n)) => (RevisionAction::Updated, changed_fields(o, n)),
                (None, Some(_)) => (RevisionAction::Created, Vec::new()),
                (Some(_), None) => (RevisionAction::Deleted, Vec::new()),
            };
            let revision = Revision {
                number: latest + 1,
                at_ms,
                by: by.to_string(),
                action,
                fields,
            };
            plan.outcomes.push(Outcome {
                node: node.clone(),
                action: match action {
                    RevisionAction::Created => OutcomeAction::Created,
                    RevisionAction::Updated => OutcomeAction::Updated,
                    RevisionAction::Deleted => OutcomeAction::Deleted,
                },
                revision: revision.number,
            });
            plan.changes.push(Change {
                node,
                old,
                new,
                revision,
            });
        }
        Ok(plan)
    }
}
