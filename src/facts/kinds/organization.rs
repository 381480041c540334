//! Organization: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationRecord {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub kind: Named<OrganizationKind>,
    #[serde(default)]
    pub country: Option<String>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KindRecord for OrganizationRecord {
    type Entity = Organization;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Organization, FactError> {
        Ok(Organization {
            key: key(&field(path, "key"), &self.key)?,
            name: non_empty(&field(path, "name"), &self.name)?,
            aliases: names(&field(path, "aliases"), &self.aliases)?,
            kind: self.kind.0,
            country: at.opt_country(&field(path, "country"), &self.country)?,
            sources: at.cite_all(&field(path, "sources"), &self.sources)?,
        })
    }

    fn export(e: &Organization, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            name: e.name.clone(),
            aliases: e.aliases.clone(),
            kind: Named(e.kind),
            country: e.country.clone(),
            sources: c.cite_all(&e.sources),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.name.clone()
    }
}
