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
use crate::domain::{all_references, Fact, NodeKind, NodeRef, Provision};
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
                        let latest = latest_revision(store, &node)?;
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
                    let latest = latest_revision(store, node)?;
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

    let mut plan = Plan {
        marker,
        ..Plan::default()
    };
    for node in &order {
        let old = originals.get(node).cloned().flatten();
        let new = pending.get(node).cloned().flatten();
        let latest = latest_revision(store, node)?;
        let (action, fields) = match (&old, &new) {
            (None, None) => continue,
            (Some(o), Some(n)) if o == n => {
                plan.outcomes.push(Outcome {
                    node: node.clone(),
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
            node: node.clone(),
            old,
            new,
            revision,
        });
    }
    Ok(plan)
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
