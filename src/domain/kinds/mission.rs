//! Mission: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mission {
    pub key: String,
    pub kind: MissionKind,
    pub sending_country: String,
    pub host_country: String,
    pub city: Option<String>,
    pub status: MissionStatus,
    pub opened: Option<PartialDate>,
    pub expected_opening: Option<PartialDate>,
    pub closed: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

named_enum!(MissionKind {
    Embassy = "EMBASSY",
    Consulate = "CONSULATE",
    Mission = "MISSION",
});

named_enum!(MissionStatus {
    Proposed = "PROPOSED",
    Promised = "PROMISED",
    Planned = "PLANNED",
    Open = "OPEN",
    Closed = "CLOSED",
});

impl Entity for Mission {
    const KIND: NodeKind = NodeKind::Mission;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    /// The city, so that missions are found by city through the name index.
    fn names(&self) -> Vec<&str> {
        self.city.as_deref().into_iter().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        vec![
            (
                Role::MissionSending,
                NodeRef::country(&self.sending_country),
            ),
            (Role::MissionHost, NodeRef::country(&self.host_country)),
        ]
    }
}
