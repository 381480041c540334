//! Membership: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MembershipRecord {
    pub key: String,
    /// A country code.
    pub country: String,
    /// An organization's key.
    pub organization: String,
    pub status: Named<MembershipStatus>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KindRecord for MembershipRecord {
    type Entity = Membership;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Membership, FactError> {
        let since = date(&field(path, "since"), &self.since)?;
        let until = date(&field(path, "until"), &self.until)?;
        if let (Some(s), Some(u)) = (since, until) {
            if u.latest() < s.earliest() {
                return Err(FactError::invalid(
                    &field(path, "until"),
                    format!("ends ({u}) before it begins ({s})"),
                ));
            }
        }
        Ok(Membership {
            key: key(&field(path, "key"), &self.key)?,
            country: at.country(&field(path, "country"), &self.country)?,
            organization: at.reference(
                &field(path, "organization"),
                NodeKind::Organization,
                &self.organization,
            )?,
            status: self.status.0,
            since,
            until,
            sources: at.cite_all(&field(path, "sources"), &self.sources)?,
        })
    }

    fn export(e: &Membership, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            country: e.country.clone(),
            organization: e.organization.clone(),
            status: Named(e.status),
            since: date_text(&e.since),
            until: date_text(&e.until),
            sources: c.cite_all(&e.sources),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        format!("{} {} {}", self.country, self.status, self.organization)
    }
}
