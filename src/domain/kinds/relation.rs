//! Relation: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relation {
    pub key: String,
    pub kind: RelationKind,
    /// For RECOGNITION, the recognizing country.
    pub subject: String,
    pub object: String,
    pub agreement: Option<String>,
    pub event: Option<String>,
    /// Oldest first; the last entry is the current status.
    pub history: Vec<StatusChange>,
}

impl Relation {
    pub fn status(&self) -> RelationStatus {
        self.history
            .last()
            .map(|c| c.status)
            .unwrap_or(RelationStatus::Proposed)
    }

    pub fn since(&self) -> Option<PartialDate> {
        self.history.last().and_then(|c| c.date)
    }

    pub fn sources(&self) -> impl Iterator<Item = &Citation> {
        self.history.iter().flat_map(|c| c.sources.iter())
    }

    pub fn involves(&self, country: &str) -> bool {
        self.subject == country || self.object == country
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: RelationStatus,
    pub date: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

named_enum!(RelationKind {
    DiplomaticRelations = "DIPLOMATIC_RELATIONS",
    Recognition = "RECOGNITION",
});

named_enum!(RelationStatus {
    Proposed = "PROPOSED",
    Agreed = "AGREED",
    Established = "ESTABLISHED",
    Suspended = "SUSPENDED",
    Ended = "ENDED",
});

impl Entity for Relation {
    const KIND: NodeKind = NodeKind::Relation;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let mut refs = vec![
            (Role::RelationParty, NodeRef::country(&self.subject)),
            (Role::RelationParty, NodeRef::country(&self.object)),
        ];
        refs.extend(self.agreement.as_deref().map(|a| {
            (
                Role::RelationAgreement,
                NodeRef::new(NodeKind::Agreement, a),
            )
        }));
        refs.extend(
            self.event
                .as_deref()
                .map(|e| (Role::RelationEvent, NodeRef::new(NodeKind::Event, e))),
        );
        refs
    }
}
