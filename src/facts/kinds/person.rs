//! Person: its record (the form people write), how a record becomes the entity and back.

use crate::domain::*;
use crate::facts::export::*;
use crate::facts::resolve::*;
use crate::facts::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonRecord {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub posts: Vec<PostRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostRecord {
    pub title: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub organization: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    pub sources: Vec<CitationRecord>,
}

impl KindRecord for PersonRecord {
    type Entity = Person;

    fn resolve(&self, at: &Resolver, path: &str) -> Result<Person, FactError> {
        let mut posts = Vec::new();
        for (i, post) in self.posts.iter().enumerate() {
            let p = item(path, "posts", i);
            let start = date(&field(&p, "start"), &post.start)?;
            let end = date(&field(&p, "end"), &post.end)?;
            if let (Some(s), Some(e)) = (start, end) {
                if e.latest() < s.earliest() {
                    return Err(FactError::invalid(
                        &field(&p, "end"),
                        format!("ends ({e}) before it starts ({s})"),
                    ));
                }
            }
            if post.country.is_none() && post.organization.is_none() {
                return Err(FactError::invalid(
                    &p,
                    "a post is held for a country or an organization",
                ));
            }
            posts.push(Post {
                title: non_empty(&field(&p, "title"), &post.title)?,
                country: at.opt_country(&field(&p, "country"), &post.country)?,
                organization: at.opt_reference(
                    &field(&p, "organization"),
                    NodeKind::Organization,
                    &post.organization,
                )?,
                start,
                end,
                sources: at.cite_all(&field(&p, "sources"), &post.sources)?,
            });
        }
        Ok(Person {
            key: key(&field(path, "key"), &self.key)?,
            name: non_empty(&field(path, "name"), &self.name)?,
            aliases: names(&field(path, "aliases"), &self.aliases)?,
            posts,
        })
    }

    fn export(e: &Person, c: &Citer) -> Self {
        Self {
            key: e.key.clone(),
            name: e.name.clone(),
            aliases: e.aliases.clone(),
            posts: e
                .posts
                .iter()
                .map(|p| PostRecord {
                    title: p.title.clone(),
                    country: p.country.clone(),
                    organization: p.organization.clone(),
                    start: date_text(&p.start),
                    end: date_text(&p.end),
                    sources: c.cite_all(&p.sources),
                })
                .collect(),
            note: None,
        }
    }

    fn key_basis(&self) -> String {
        self.name.clone()
    }
}
