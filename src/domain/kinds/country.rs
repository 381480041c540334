//! Country: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case; the key.
    pub code: String,
    pub alpha3: String,
    pub name: String,
    pub official_name: Option<String>,
    pub aliases: Vec<String>,
    pub demonyms: Vec<String>,
    pub capital: Option<String>,
    pub region: Option<String>,
    pub subregion: Option<String>,
    pub un_member: bool,
}

impl Entity for Country {
    const KIND: NodeKind = NodeKind::Country;
    fn key(&self) -> &str {
        &self.code
    }
    fn names(&self) -> Vec<&str> {
        let mut names = vec![self.name.as_str()];
        names.extend(self.official_name.as_deref());
        names.extend(self.aliases.iter().map(String::as_str));
        names
    }
}
