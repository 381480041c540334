//! What each kind's export (`KindRecord::export`) uses: citations back to excerpts, dates and
//! node references as text. An exported store re-imports to the same entities.

use super::record::*;
use super::resolve::locate;
use crate::domain::*;
use std::sync::Arc;

pub(crate) fn date_text(d: &Option<PartialDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

pub struct Citer<'a> {
    pub(crate) text_of: &'a dyn Fn(&str) -> Option<Arc<str>>,
}

impl Citer<'_> {
    /// The excerpt, plus its start only where the text has the same words earlier.
    pub fn cite(&self, c: &Citation) -> CitationRecord {
        let text = (self.text_of)(&c.source).unwrap_or_else(|| Arc::from(""));
        let excerpt: String = text
            .chars()
            .skip(c.start as usize)
            .take(c.end.saturating_sub(c.start) as usize)
            .collect();
        let first = locate(&text, &excerpt, None).map(|(s, _)| s as u32);
        CitationRecord {
            source: c.source.clone(),
            start: (first != Some(c.start)).then_some(c.start),
            excerpt,
        }
    }

    pub fn cite_all(&self, cs: &[Citation]) -> Vec<CitationRecord> {
        cs.iter().map(|c| self.cite(c)).collect()
    }
}

pub(crate) fn node_text(n: &NodeRef) -> String {
    format!("{}:{}", n.kind.as_str().to_ascii_lowercase(), n.key)
}
