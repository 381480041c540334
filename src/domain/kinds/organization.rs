//! Organization: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub key: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub kind: OrganizationKind,
    pub country: Option<String>,
    pub sources: Vec<Citation>,
}

named_enum!(OrganizationKind {
    GovernmentBody = "GOVERNMENT_BODY",
    Intergovernmental = "INTERGOVERNMENTAL",
    NonStateArmedGroup = "NON_STATE_ARMED_GROUP",
    Ngo = "NGO",
    Media = "MEDIA",
    Other = "OTHER",
});

impl Entity for Organization {
    const KIND: NodeKind = NodeKind::Organization;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources.iter().collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        self.country
            .as_deref()
            .map(|c| (Role::OrganizationCountry, NodeRef::country(c)))
            .into_iter()
            .collect()
    }
}
