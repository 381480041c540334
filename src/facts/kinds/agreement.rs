//! Agreement: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementRecord {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub signed_on: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub parties: Vec<String>,
    #[serde(default)]
    pub signatories: Vec<SignatoryRecord>,
    #[serde(default)]
    pub brokers: Vec<String>,
    #[serde(default)]
    pub provisions: Vec<ProvisionRecord>,
    pub sources: Vec<CitationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatoryRecord {
    pub person: String,
    #[serde(default)]
    pub country: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProvisionRecord {
    pub text: String,
    #[serde(default)]
    pub actor: Option<String>,
    pub sources: Vec<CitationRecord>,
}

impl KindRecord for AgreementRecord {
    type Entity = Agreement;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Agreement, FactError> {
        let agreement_key = key(&field(path, "key"), &self.key)?;
        let mut provisions = Vec::new();
        for (i, p) in self.provisions.iter().enumerate() {
            let pp = item(path, "provisions", i);
            provisions.push(Provision {
                number: i as u32 + 1,
                text: text(&field(&pp, "text"), &p.text)?,
                actor: at.opt_country(&field(&pp, "actor"), &p.actor)?,
                sources: at.cite_all(&field(&pp, "sources"), &p.sources)?,
            });
        }
        let mut signatories = Vec::new();
        for (i, s) in self.signatories.iter().enumerate() {
            let sp = item(path, "signatories", i);
            signatories.push(Signatory {
                person: at.reference(&field(&sp, "person"), NodeKind::Person, &s.person)?,
                country: at.opt_country(&field(&sp, "country"), &s.country)?,
            });
        }
        Ok(Agreement {
            key: agreement_key,
            title: non_empty(&field(path, "title"), &self.title)?,
            aliases: names(&field(path, "aliases"), &self.aliases)?,
            signed_on: date(&field(path, "signedOn"), &self.signed_on)?,
            place: self.place.clone(),
            parties: at.countries(&field(path, "parties"), &self.parties)?,
            signatories,
            brokers: at.countries(&field(path, "brokers"), &self.brokers)?,
            provisions,
            sources: at.cite_all(&field(path, "sources"), &self.sources)?,
        })
    }

    fn export(e: &Agreement, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            title: e.title.clone(),
            aliases: e.aliases.clone(),
            signed_on: date_text(&e.signed_on),
            place: e.place.clone(),
            parties: e.parties.clone(),
            signatories: e
                .signatories
                .iter()
                .map(|s| SignatoryRecord {
                    person: s.person.clone(),
                    country: s.country.clone(),
                })
                .collect(),
            brokers: e.brokers.clone(),
            provisions: e
                .provisions
                .iter()
                .map(|p| ProvisionRecord {
                    text: p.text.clone(),
                    actor: p.actor.clone(),
                    sources: c.cite_all(&p.sources),
                })
                .collect(),
            sources: c.cite_all(&e.sources),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.title.clone()
    }
}
