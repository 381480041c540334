//! The best hits of a query, equal scores in the order of their node ids.
//!
//! tantivy's own top-k keeps, of documents with equal scores, those it meets first, so which of
//! several hits tied at the cut are returned follows the order documents were added in: an
//! index built by an import (records in the file's order) and one rebuilt from the store (in
//! key order) would answer the same search differently. Here the order is total (score, then
//! id), so the answer depends on the documents alone. Block-max WAND still prunes: the
//! threshold handed back sits just below the k-th score, so only documents that can at least
//! tie with it are scored.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::query::Weight;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The best `limit` documents by score, then by the `id` fast field, as (score, id).
pub(super) struct BestHits {
    pub limit: usize,
}

/// A kept document. Within a segment, ids' term ordinals are in the ids' order.
#[derive(Clone, Copy)]
struct Kept {
    score: Score,
    id: u64,
}

/// Greater is worse, so that the heap's top is the first to go.
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Kept {}

pub(super) struct SegmentBest {
    limit: usize,
    ids: Option<StrColumn>,
    kept: BinaryHeap<Kept>,
}

impl SegmentBest {
    fn offer(&mut self, doc: DocId, score: Score) {
        let Some(id) = self.ids.as_ref().and_then(|ids| ids.term_ords(doc).next()) else {
            return; // no id: not a document of ours
        };
        let offered = Kept { score, id };
        if self.kept.len() < self.limit {
            self.kept.push(offered);
        } else if self.kept.peek().is_some_and(|worst| offered < *worst) {
            self.kept.pop();
            self.kept.push(offered);
        }
    }

    /// Scores below this cannot be kept any more; one equal to the worst kept still may.
    fn threshold(&self) -> Score {
        match self.kept.peek() {
            Some(worst) if self.kept.len() >= self.limit => worst.score.next_down(),
            _ => Score::MIN,
        }
    }
}

impl SegmentCollector for SegmentBest {
    type Fruit = Vec<(Score, String)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(doc, score);
    }

    fn harvest(self) -> Self::Fruit {
        let Some(ids) = self.ids else {
            return Vec::new();
        };
        self.kept
            .into_iter()
            .filter_map(|kept| {
                let mut id = String::new();
                matches!(ids.ord_to_str(kept.id, &mut id), Ok(true)).then_some((kept.score, id))
            })
            .collect()
    }
}

impl Collector for BestHits {
    type Fruit = Vec<(Score, String)>;
    type Child = SegmentBest;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentBest> {
        Ok(SegmentBest {
            limit: self.limit,
            ids: reader.fast_fields().str("id")?,
            kept: BinaryHeap::with_capacity(self.limit + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, segments: Vec<Vec<(Score, String)>>) -> tantivy::Result<Self::Fruit> {
        let mut hits: Vec<(Score, String)> = segments.into_iter().flatten().collect();
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        hits.truncate(self.limit);
        Ok(hits)
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Fruit> {
        let mut best = self.for_segment(segment, reader)?;
        if self.limit == 0 {
            return Ok(Vec::new());
        }
        let alive = reader.alive_bitset();
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                best.offer(doc, score);
            }
            best.threshold()
        })?;
        Ok(best.harvest())
    }
}
