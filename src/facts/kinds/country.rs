//! Country: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CountryRecord {
    pub code: String,
    pub alpha3: String,
    pub name: String,
    #[serde(default)]
    pub official_name: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub demonyms: Vec<String>,
    #[serde(default)]
    pub capital: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub subregion: Option<String>,
    #[serde(default)]
    pub un_member: bool,
}

impl KindRecord for CountryRecord {
    type Entity = Country;

    fn resolve(&self, _at: &Resolver, path: &str) -> Result<Country, FactError> {
        let code = self.code.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FactError::invalid(
                &field(path, "code"),
                "an ISO 3166-1 alpha-2 code is two letters",
            ));
        }
        let alpha3 = self.alpha3.trim().to_ascii_uppercase();
        if alpha3.len() != 3 || !alpha3.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FactError::invalid(
                &field(path, "alpha3"),
                "an ISO 3166-1 alpha-3 code is three letters",
            ));
        }
        let opt = |name: &str, v: &Option<String>| -> Result<Option<String>, FactError> {
            v.as_deref()
                .map(|s| non_empty(&field(path, name), s))
                .transpose()
        };
        Ok(Country {
            code,
            alpha3,
            name: non_empty(&field(path, "name"), &self.name)?,
            official_name: opt("officialName", &self.official_name)?,
            aliases: names(&field(path, "aliases"), &self.aliases)?,
            demonyms: names(&field(path, "demonyms"), &self.demonyms)?,
            capital: opt("capital", &self.capital)?,
            region: opt("region", &self.region)?,
            subregion: opt("subregion", &self.subregion)?,
            un_member: self.un_member,
        })
    }

    fn export(e: &Country, _citer: &Citer) -> Self {
        Self {
            code: e.code.clone(),
            alpha3: e.alpha3.clone(),
            name: e.name.clone(),
            official_name: e.official_name.clone(),
            aliases: e.aliases.clone(),
            demonyms: e.demonyms.clone(),
            capital: e.capital.clone(),
            region: e.region.clone(),
            subregion: e.subregion.clone(),
            un_member: e.un_member,
        }
    }

    fn key_basis(&self) -> String {
        self.code.clone()
    }
}
