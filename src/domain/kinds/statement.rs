//! Statement: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub key: String,
    pub text: String,
    pub direct: bool,
    pub speaker: Option<NodeRef>,
    pub date: Option<PartialDate>,
    pub medium: StatementMedium,
    pub event: Option<String>,
    pub about: Vec<NodeRef>,
    pub source: Citation,
}

named_enum!(StatementMedium {
    Tweet = "TWEET",
    Speech = "SPEECH",
    PhoneCall = "PHONE_CALL",
    PressStatement = "PRESS_STATEMENT",
    Interview = "INTERVIEW",
    Other = "OTHER",
});

impl Entity for Statement {
    const KIND: NodeKind = NodeKind::Statement;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        vec![&self.source]
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let speaker = self.speaker.clone().map(|s| (Role::Speaker, s));
        let event = self
            .event
            .as_deref()
            .map(|e| (Role::StatementEvent, NodeRef::new(NodeKind::Event, e)));
        let about = self.about.iter().cloned().map(|a| (Role::About, a));
        speaker.into_iter().chain(event).chain(about).collect()
    }
}
