//! Event: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventRecord {
    pub key: String,
    pub kind: Named<EventKind>,
    pub title: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub participants: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub agreement: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KindRecord for EventRecord {
    type Entity = Event;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Event, FactError> {
        Ok(Event {
            key: key(&field(path, "key"), &self.key)?,
            kind: self.kind.0,
            title: non_empty(&field(path, "title"), &self.title)?,
            date: date(&field(path, "date"), &self.date)?,
            place: self.place.clone(),
            participants: self
                .participants
                .iter()
                .enumerate()
                .map(|(i, p)| at.reference(&item(path, "participants", i), NodeKind::Person, p))
                .collect::<Result<_, _>>()?,
            countries: at.countries(&field(path, "countries"), &self.countries)?,
            agreement: at.opt_reference(
                &field(path, "agreement"),
                NodeKind::Agreement,
                &self.agreement,
            )?,
            sources: at.cite_all(&field(path, "sources"), &self.sources)?,
        })
    }

    fn export(e: &Event, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            kind: Named(e.kind),
            title: e.title.clone(),
            date: date_text(&e.date),
            place: e.place.clone(),
            participants: e.participants.clone(),
            countries: e.countries.clone(),
            agreement: e.agreement.clone(),
            sources: c.cite_all(&e.sources),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.title.clone()
    }
}
