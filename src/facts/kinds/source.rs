//! Source: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceRecord {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
    /// The article text; the built-in dataset names a `file` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Facts this source supports, stored with it in one transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub facts: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl KindRecord for SourceRecord {
    type Entity = Source;

    fn resolve(&self, _at: &Resolver, path: &str) -> Result<Source, FactError> {
        let body = self
            .text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| FactError::invalid(&field(path, "text"), "a source needs its text"))?;
        text(&field(path, "text"), body)?;
        if let Some(url) = &self.url {
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
                return Err(FactError::invalid(
                    &field(path, "url"),
                    "must be an http(s) URL",
                ));
            }
        }
        Ok(Source {
            key: key(&field(path, "key"), &self.key)?,
            title: non_empty(&field(path, "title"), &self.title)?,
            publisher: self.publisher.clone(),
            author: self.author.clone(),
            url: self.url.as_ref().map(|u| u.trim().to_string()),
            published: date(&field(path, "published"), &self.published)?,
            text: body.to_string(),
        })
    }

    fn export(e: &Source, _citer: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            title: e.title.clone(),
            publisher: e.publisher.clone(),
            author: e.author.clone(),
            url: e.url.clone(),
            published: date_text(&e.published),
            text: Some(e.text.clone()),
            file: None,
            facts: Vec::new(),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.title.clone()
    }
}
