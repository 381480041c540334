//! Agreement: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub key: String,
    pub title: String,
    pub aliases: Vec<String>,
    pub signed_on: Option<PartialDate>,
    pub place: Option<String>,
    pub parties: Vec<String>,
    pub signatories: Vec<Signatory>,
    pub brokers: Vec<String>,
    pub provisions: Vec<Provision>,
    pub sources: Vec<Citation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signatory {
    pub person: String,
    pub country: Option<String>,
}

/// A clause of an agreement; addressed as `<agreement key>/<number>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provision {
    pub number: u32,
    pub text: String,
    pub actor: Option<String>,
    pub sources: Vec<Citation>,
}

impl Provision {
    pub fn key(agreement: &str, number: u32) -> String {
        format!("{agreement}/{number}")
    }

    /// Splits a provision key into its agreement key and number.
    pub fn split_key(key: &str) -> Option<(&str, u32)> {
        let (agreement, number) = key.rsplit_once('/')?;
        Some((agreement, number.parse().ok()?))
    }
}

impl Entity for Agreement {
    const KIND: NodeKind = NodeKind::Agreement;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.sources
            .iter()
            .chain(self.provisions.iter().flat_map(|p| &p.sources))
            .collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.title.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let parties = self
            .parties
            .iter()
            .map(|c| (Role::Party, NodeRef::country(c)));
        let brokers = self
            .brokers
            .iter()
            .map(|c| (Role::Broker, NodeRef::country(c)));
        let signatories = self
            .signatories
            .iter()
            .map(|s| (Role::Signatory, NodeRef::new(NodeKind::Person, &s.person)));
        let signatory_countries = self
            .signatories
            .iter()
            .filter_map(|s| s.country.as_deref())
            .map(|c| (Role::SignatoryCountry, NodeRef::country(c)));
        let actors = self
            .provisions
            .iter()
            .filter_map(|p| p.actor.as_deref())
            .map(|c| (Role::ProvisionActor, NodeRef::country(c)));
        parties
            .chain(brokers)
            .chain(signatories)
            .chain(signatory_countries)
            .chain(actors)
            .collect()
    }
}
