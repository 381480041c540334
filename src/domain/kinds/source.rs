//! Source: the entity, its vocabularies, and what it refers to.

use crate::domain::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub url: Option<String>,
    pub published: Option<PartialDate>,
    pub text: String,
}

impl Entity for Source {
    const KIND: NodeKind = NodeKind::Source;
    fn key(&self) -> &str {
        &self.key
    }
}
