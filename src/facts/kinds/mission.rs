//! Mission: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MissionRecord {
    pub key: String,
    pub kind: Named<MissionKind>,
    pub sending_country: String,
    pub host_country: String,
    #[serde(default)]
    pub city: Option<String>,
    pub status: Named<MissionStatus>,
    #[serde(default)]
    pub opened: Option<String>,
    #[serde(default)]
    pub expected_opening: Option<String>,
    #[serde(default)]
    pub closed: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KindRecord for MissionRecord {
    type Entity = Mission;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Mission, FactError> {
        let sending_country = at.country(&field(path, "sendingCountry"), &self.sending_country)?;
        let host_country = at.country(&field(path, "hostCountry"), &self.host_country)?;
        if sending_country == host_country {
            return Err(FactError::invalid(
                &field(path, "hostCountry"),
                "a mission is hosted by another country",
            ));
        }
        let opened = date(&field(path, "opened"), &self.opened)?;
        let closed = date(&field(path, "closed"), &self.closed)?;
        if let (Some(o), Some(c)) = (opened, closed) {
            if c.latest() < o.earliest() {
                return Err(FactError::invalid(
                    &field(path, "closed"),
                    format!("closes ({c}) before it opens ({o})"),
                ));
            }
        }
        Ok(Mission {
            key: key(&field(path, "key"), &self.key)?,
            kind: self.kind.0,
            sending_country,
            host_country,
            city: self
                .city
                .as_deref()
                .map(|c| non_empty(&field(path, "city"), c))
                .transpose()?,
            status: self.status.0,
            opened,
            expected_opening: date(&field(path, "expectedOpening"), &self.expected_opening)?,
            closed,
            sources: at.cite_all(&field(path, "sources"), &self.sources)?,
        })
    }

    fn export(e: &Mission, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            kind: Named(e.kind),
            sending_country: e.sending_country.clone(),
            host_country: e.host_country.clone(),
            city: e.city.clone(),
            status: Named(e.status),
            opened: date_text(&e.opened),
            expected_opening: date_text(&e.expected_opening),
            closed: date_text(&e.closed),
            sources: c.cite_all(&e.sources),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        format!(
            "{} {} {}",
            self.sending_country,
            self.kind,
            self.city.as_deref().unwrap_or(&self.host_country)
        )
    }
}
