//! Ranked full-text search (BM25, from the `bm25` crate) over statements, agreements,
//! provisions, events and source articles. The index lives in memory and is rebuilt from the
//! store at start-up; its tokenizer folds case and diacritics, drops stop words and stems.

use crate::domain::{Agreement, Event, Fact, NodeKind, NodeRef, Provision, Source, Statement};
use crate::store::{Store, StoreError};
use bm25::{DefaultTokenizer, Language, SearchEngine, SearchEngineBuilder, Tokenizer};
use std::collections::HashSet;
use std::sync::RwLock;

pub struct SearchIndex {
    engine: RwLock<SearchEngine<NodeRef>>,
    tokenizer: DefaultTokenizer,
}

/// The searchable documents of one entity.
fn documents(fact: &Fact) -> Vec<(NodeRef, String)> {
    match fact {
        Fact::Statement(s) => vec![(NodeRef::new(NodeKind::Statement, &s.key), s.text.clone())],
        Fact::Agreement(a) => agreement_documents(a),
        Fact::Event(e) => vec![(NodeRef::new(NodeKind::Event, &e.key), e.title.clone())],
        Fact::Source(s) => vec![(
            NodeRef::new(NodeKind::Source, &s.key),
            format!("{}\n\n{}", s.title, s.text),
        )],
        _ => Vec::new(),
    }
}

fn agreement_documents(a: &Agreement) -> Vec<(NodeRef, String)> {
    let mut docs: Vec<(NodeRef, String)> = a
        .provisions
        .iter()
        .map(|p| {
            (
                NodeRef::new(NodeKind::Provision, Provision::key(&a.key, p.number)),
                p.text.clone(),
            )
        })
        .collect();
    let mut text = a.title.clone();
    for alias in &a.aliases {
        text.push_str(". ");
        text.push_str(alias);
    }
    docs.push((NodeRef::new(NodeKind::Agreement, &a.key), text));
    docs
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub node: NodeRef,
    pub score: f32,
    pub snippet: String,
}

/// Characters of context kept around the first match in a snippet.
const SNIPPET_BEFORE: usize = 60;
const SNIPPET_AFTER: usize = 140;

impl SearchIndex {
    pub fn build(store: &Store) -> Result<Self, StoreError> {
        let mut docs: Vec<(NodeRef, String)> = Vec::new();
        for s in store.all::<Statement>()? {
            docs.extend(documents(&Fact::Statement(s)));
        }
        for a in store.all::<Agreement>()? {
            docs.extend(agreement_documents(&a));
        }
        for e in store.all::<Event>()? {
            docs.extend(documents(&Fact::Event(e)));
        }
        for s in store.all::<Source>()? {
            docs.extend(documents(&Fact::Source(s)));
        }
        Ok(Self::from_documents(docs))
    }

    /// Brings the index in line with a node's state after a write (`None`: deleted).
    pub fn update(&self, node: &NodeRef, old: Option<&Fact>, new: Option<&Fact>) {
        let mut engine = self.engine.write().unwrap_or_else(|p| p.into_inner());
        for (id, _) in old.map(documents).unwrap_or_default() {
            engine.remove(&id);
        }
        engine.remove(node);
        for (id, text) in new.map(documents).unwrap_or_default() {
            engine.upsert(bm25::Document::new(id, text));
        }
    }

    pub fn from_documents(docs: Vec<(NodeRef, String)>) -> Self {
        let documents = docs
            .into_iter()
            .map(|(id, contents)| bm25::Document::new(id, contents));
        let engine =
            SearchEngineBuilder::<NodeRef>::with_documents(Language::English, documents).build();
        SearchIndex {
            engine: RwLock::new(engine),
            tokenizer: DefaultTokenizer::new(Language::English),
        }
    }

    /// The best `limit` matches, optionally only of some kinds, best first.
    pub fn search(&self, query: &str, limit: usize, kinds: Option<&[NodeKind]>) -> Vec<Hit> {
        let terms: HashSet<String> = self.tokenizer.tokenize(query).into_iter().collect();
        if terms.is_empty() {
            return Vec::new();
        }
        // Without a kind filter the engine keeps only the best `limit` (it would otherwise copy
        // every matching document: at scale 10, 5 searches a second instead of hundreds).
        let wanted = if kinds.is_none() { Some(limit) } else { None };
        let mut results = self
            .engine
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .search(query, wanted);
        // Equal scores keep a stable order.
        results.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.document.id.cmp(&b.document.id))
        });
        results
            .into_iter()
            .filter(|r| kinds.is_none_or(|k| k.contains(&r.document.id.kind)))
            .take(limit)
            .map(|r| Hit {
                snippet: self.snippet(&r.document.contents, &terms),
                node: r.document.id,
                score: r.score,
            })
            .collect()
    }

    /// The text around the first word that matches a query term.
    fn snippet(&self, text: &str, terms: &HashSet<String>) -> String {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut found = None;
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].1.is_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && chars[i].1.is_alphanumeric() {
                i += 1;
            }
            let end_byte = chars.get(i).map_or(text.len(), |c| c.0);
            let word = &text[chars[start].0..end_byte];
            if self
                .tokenizer
                .tokenize(word)
                .iter()
                .any(|t| terms.contains(t))
            {
                found = Some(start);
                break;
            }
        }
        let at = found.unwrap_or(0);
        let from = at.saturating_sub(SNIPPET_BEFORE);
        let to = (at + SNIPPET_AFTER).min(chars.len());
        let from_byte = chars.get(from).map_or(text.len(), |c| c.0);
        let to_byte = chars.get(to).map_or(text.len(), |c| c.0);
        let mut out = String::new();
        if from > 0 {
            out.push('…');
        }
        out.push_str(
            text[from_byte..to_byte]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        );
        if to < chars.len() {
            out.push('…');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> SearchIndex {
        SearchIndex::from_documents(vec![
            (
                NodeRef::new(NodeKind::Statement, "a"),
                "Serbian President Aleksandar Vučić signed an economic agreement".into(),
            ),
            (
                NodeRef::new(NodeKind::Event, "b"),
                "Kosovo declares independence from Serbia".into(),
            ),
            (
                NodeRef::new(NodeKind::Statement, "c"),
                "Deeper international ties contribute to peace".into(),
            ),
        ])
    }

    #[test]
    fn ranks_folds_diacritics_and_filters_kinds() {
        let idx = index();
        let hits = idx.search("vucic", 10, None);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].node.key, "a");
        assert!(hits[0].snippet.contains("Vučić"));
        let hits = idx.search("independence", 10, Some(&[NodeKind::Statement]));
        assert!(hits.is_empty());
        assert_eq!(idx.search("the of", 10, None), vec![]);
        let hits = idx.search("peace ties", 10, None);
        assert_eq!(hits[0].node.key, "c");
    }

    #[test]
    fn snippets_are_cut_around_the_match() {
        let long = format!("{} embassy {}", "word ".repeat(100), "tail ".repeat(100));
        let idx = SearchIndex::from_documents(vec![(NodeRef::new(NodeKind::Source, "s"), long)]);
        let hit = &idx.search("embassy", 1, None)[0];
        assert!(hit.snippet.starts_with('…') && hit.snippet.ends_with('…'));
        assert!(hit.snippet.contains("embassy"));
        assert!(hit.snippet.chars().count() < 220);
    }
}
