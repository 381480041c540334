//! Person: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub key: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub posts: Vec<Post>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub title: String,
    pub country: Option<String>,
    pub organization: Option<String>,
    pub start: Option<PartialDate>,
    pub end: Option<PartialDate>,
    pub sources: Vec<Citation>,
}

impl Entity for Person {
    const KIND: NodeKind = NodeKind::Person;
    fn key(&self) -> &str {
        &self.key
    }
    fn cited(&self) -> Vec<&Citation> {
        self.posts.iter().flat_map(|p| &p.sources).collect()
    }
    fn names(&self) -> Vec<&str> {
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .collect()
    }
    fn references(&self) -> Vec<(Role, NodeRef)> {
        let mut refs = Vec::new();
        for post in &self.posts {
            refs.extend(
                post.country
                    .as_deref()
                    .map(|c| (Role::PostCountry, NodeRef::country(c))),
            );
            refs.extend(post.organization.as_deref().map(|o| {
                (
                    Role::PostOrganization,
                    NodeRef::new(NodeKind::Organization, o),
                )
            }));
        }
        refs
    }
}
