//! Event: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub key: String,
    pub kind: EventKind,
    pub title: String,
    pub date: Option<PartialDate>,
    pub place: Option<String>,
    pub participants: Vec<String>,
    pub countries: Vec<String>,
    pub agreement: Option<String>,
    pub sources: Vec<Citation>,
}

named_enum!(EventKind {
    Signing = "SIGNING",
    Ceremony = "CEREMONY",
    PhoneCall = "PHONE_CALL",
    VideoConference = "VIDEO_CONFERENCE",
    Announcement = "ANNOUNCEMENT",
    Declaration = "DECLARATION",
    Meeting = "MEETING",
    Other = "OTHER",
});

impl Entity for Event {
    const KIND: NodeKind = NodeKind::Event;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let countries = self
            .countries
            .iter()
            .map(|c| (Role::EventCountry, NodeRef::country(c)));
        let people = self
            .participants
            .iter()
            .map(|p| (Role::EventParticipant, NodeRef::new(NodeKind::Person, p)));
        let agreement = self
            .agreement
            .as_deref()
            .map(|a| (Role::EventAgreement, NodeRef::new(NodeKind::Agreement, a)));
        countries.chain(people).chain(agreement).collect()
    }
}
