//! Ranked full-text search (BM25, by tantivy) over statements, agreements, provisions, events
//! and source articles. The index lives in the data dir beside the store and is opened, not
//! rebuilt, at start; its analyzer folds case and diacritics, drops English stop words and
//! stems. Top hits are found with block-max WAND, so a query whose words are in most documents
//! does not score them all.
//!
//! The store stays the truth: every store commit carries a sequence number, and every index
//! commit records the sequence it caught up with. An index that is behind its store (a crash
//! between the two commits, an index from an older build, none at all) is rebuilt on open.

mod top;

use crate::domain::{Agreement, Event, Fact, NodeKind, NodeRef, Provision, Source, Statement};
use crate::store::{OutcomeAction, Store, StoreError};
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, Term};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Open(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The analyzer's name in the index's tokenizer registry.
const ANALYZER: &str = "diplograph";
/// Memory the index writer buffers before it writes a segment. Taken only as documents come
/// (a commit of a few facts uses little): a rebuild of a store of a few hundred thousand
/// documents fits one segment, which then needs no merge.
const WRITER_BUDGET: usize = 128 * 1024 * 1024;
/// Bumped when the schema or the analyzer changes: an index made otherwise is rebuilt.
const INDEX_VERSION: u32 = 1;

fn analyzer() -> TextAnalyzer {
    let stop_words = StopWordFilter::new(Language::English)
        .unwrap_or_else(|| StopWordFilter::remove(Vec::<String>::new()));
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(stop_words)
        .filter(Stemmer::new(Language::English))
        .build()
}

#[derive(Clone, Copy)]
struct Fields {
    /// The document's node, `Kind:key`.
    id: Field,
    /// The fact the document comes from (an agreement for its provisions): what a write of
    /// that fact replaces.
    owner: Field,
    kind: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: builder.add_text_field("id", STRING | FAST),
        owner: builder.add_text_field("owner", STRING),
        kind: builder.add_text_field("kind", STRING),
        text: builder.add_text_field("text", text),
    };
    (builder.build(), fields)
}

/// The text an agreement is found by: its title and other names.
pub fn agreement_text(a: &Agreement) -> String {
    let mut text = a.title.clone();
    for alias in &a.aliases {
        text.push_str(". ");
        text.push_str(alias);
    }
    text
}

/// The text a source article is found by: its title and body.
pub fn source_text(s: &Source) -> String {
    format!("{}\n\n{}", s.title, s.text)
}

/// The searchable documents of one fact.
fn documents(fact: &Fact) -> Vec<(NodeRef, String)> {
    match fact {
        Fact::Statement(s) => vec![(NodeRef::new(NodeKind::Statement, &s.key), s.text.clone())],
        Fact::Agreement(a) => {
            let mut docs: Vec<(NodeRef, String)> = a
                .provisions
                .iter()
                .map(|p| {
                    let key = Provision::key(&a.key, p.number);
                    (NodeRef::new(NodeKind::Provision, key), p.text.clone())
                })
                .collect();
            docs.push((NodeRef::new(NodeKind::Agreement, &a.key), agreement_text(a)));
            docs
        }
        Fact::Event(e) => vec![(NodeRef::new(NodeKind::Event, &e.key), e.title.clone())],
        Fact::Source(s) => vec![(NodeRef::new(NodeKind::Source, &s.key), source_text(s))],
        _ => Vec::new(),
    }
}

/// The kinds whose facts have documents (`documents`): a commit of no other kind leaves the
/// index as it is.
fn is_searchable(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Statement
            | NodeKind::Agreement
            | NodeKind::Provision
            | NodeKind::Event
            | NodeKind::Source
    )
}

/// The analyzed terms of a query, each once.
fn terms(analyzer: &TextAnalyzer, query: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(query);
    let mut terms = Vec::new();
    let mut seen = HashSet::new();
    while let Some(token) = stream.next() {
        if seen.insert(token.text.clone()) {
            terms.push(token.text.clone());
        }
    }
    terms
}

/// Documents with any of the query's words, optionally only of some kinds.
fn build_query(
    analyzer: &TextAnalyzer,
    fields: &Fields,
    query: &str,
    kinds: Option<&[NodeKind]>,
) -> Option<Box<dyn Query>> {
    let words: Vec<(Occur, Box<dyn Query>)> = terms(analyzer, query)
        .into_iter()
        .map(|t| {
            let term = Term::from_field_text(fields.text, &t);
            let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
            (Occur::Should, q)
        })
        .collect();
    if words.is_empty() {
        return None;
    }
    let words: Box<dyn Query> = Box::new(BooleanQuery::new(words));
    Some(match kinds {
        None => words,
        Some(kinds) => {
            let kinds: Vec<(Occur, Box<dyn Query>)> = kinds
                .iter()
                .map(|k| {
                    let term = Term::from_field_text(fields.kind, &k.to_string());
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect();
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, words),
                (Occur::Must, Box::new(BooleanQuery::new(kinds))),
            ]))
        }
    })
}

/// Tantivy alone, the yardstick the benchmark measures search against: the index in `dir`
/// opened to read, and a query analyzed and built as `SearchIndex::search` builds it, its best
/// `limit` by BM25 (tantivy's top-k collection prunes with block-max WAND), nothing more: no
/// node ids, snippets, store or GraphQL.
pub struct Yardstick {
    searcher: tantivy::Searcher,
    query: Box<dyn Query>,
    limit: usize,
}

impl Yardstick {
    /// None: the query has no word the index keeps.
    pub fn open(dir: &Path, query: &str, limit: usize) -> Result<Option<Self>, SearchError> {
        let index = Index::open_in_dir(dir)?;
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let (_, fields) = schema();
        let Some(query) = build_query(&analyzer, &fields, query, None) else {
            return Ok(None);
        };
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Some(Yardstick {
            searcher: reader.searcher(),
            query,
            limit,
        }))
    }

    /// Runs the query once: the number of hits kept.
    pub fn run(&self) -> Result<usize, SearchError> {
        let top = self.searcher.search(
            &*self.query,
            &TopDocs::with_limit(self.limit).order_by_score(),
        )?;
        Ok(top.len())
    }
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Built once (its stop-word set and stemmer); a clone per use shares them.
    analyzer: TextAnalyzer,
    /// Commits followed are staged, not committed (`begin_bulk_load`).
    bulk_load: AtomicBool,
}

/// The index's one writer. The lock of a writer this process dropped a moment ago can still be
/// held: a process forked by another thread meanwhile shares its descriptor until it execs. A
/// busy lock is tried again for a while before it is an error (a server holding the data dir
/// holds the store's lock first, so no second process gets this far).
fn open_writer(index: &Index) -> Result<IndexWriter, SearchError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match index.writer_with_num_threads(1, WRITER_BUDGET) {
            Err(tantivy::TantivyError::LockFailure(
                tantivy::directory::error::LockError::LockBusy,
                _,
            )) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

/// Characters of context kept around the first match in a snippet.
const SNIPPET_BEFORE: usize = 60;
const SNIPPET_AFTER: usize = 140;

/// What an index commit records: the schema version and the store sequence it caught up with.
fn payload(sequence: u64) -> String {
    format!("v{INDEX_VERSION} sequence {sequence}")
}

impl SearchIndex {
    /// Opens the index in `dir` (created if missing) and brings it level with `store`.
    pub fn open(dir: &Path, store: &Store) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let directory = MmapDirectory::open(dir)?;
        let index = match Index::open_or_create(directory, schema.clone()) {
            Ok(index) if index.schema() == schema => index,
            // Another build's schema: start afresh (the rebuild below fills it).
            _ => {
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        let search = Self::with_index(index, fields)?;
        let sequence = store.sequence()?;
        let recorded = search.index.load_metas()?.payload;
        if recorded.as_deref() != Some(payload(sequence).as_str()) {
            tracing::info!(
                recorded = recorded.as_deref().unwrap_or("none"),
                sequence,
                "the search index is behind the store: rebuilding it"
            );
            search.rebuild(store, sequence)?;
        }
        Ok(search)
    }

    /// An index held in memory, of `facts` (the benchmark's floor, tests).
    pub fn in_memory(facts: impl IntoIterator<Item = Fact>) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let search = Self::with_index(Index::create_in_ram(schema), fields)?;
        search.replace_all(
            |writer| {
                for fact in facts {
                    search.add(writer, &fact)?;
                }
                Ok(())
            },
            None,
        )?;
        Ok(search)
    }

    fn with_index(index: Index, fields: Fields) -> Result<Self, SearchError> {
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let writer = open_writer(&index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer,
            bulk_load: AtomicBool::new(false),
        })
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces every document with those `fill` adds, commits (with the store sequence, if
    /// any), and merges what it wrote into one segment before returning, so that a server
    /// opening the index later does not spend its first seconds merging.
    ///
    /// The writer (and with it the index's lock file) is kept throughout. Dropping it and
    /// opening another one lost a race: a process forked by another thread between the two
    /// (a test spawning a CLI, say) inherits the lock file's descriptor until it execs, and
    /// while it holds it the new writer's lock is refused with `LockBusy`.
    fn replace_all(
        &self,
        fill: impl FnOnce(&IndexWriter) -> Result<(), SearchError>,
        sequence: Option<u64>,
    ) -> Result<(), SearchError> {
        let mut writer = self.lock_writer();
        // No merges of the policy's own while the new documents land; one explicit merge after.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let filled = (|| {
            writer.delete_all_documents()?;
            fill(&writer)?;
            self.commit_as_one_segment(&mut writer, sequence)
        })();
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        drop(writer);
        filled?;
        self.reader.reload()?;
        Ok(())
    }

    fn add(&self, writer: &IndexWriter, fact: &Fact) -> Result<(), SearchError> {
        let owner = fact.node().to_string();
        for (node, text) in documents(fact) {
            writer.add_document(doc!(
                self.fields.id => node.to_string(),
                self.fields.owner => owner.as_str(),
                self.fields.kind => node.kind.to_string(),
                self.fields.text => text,
            ))?;
        }
        Ok(())
    }

    /// Replaces everything with the searchable facts of `store`, streamed kind by kind.
    fn rebuild(&self, store: &Store, sequence: u64) -> Result<(), SearchError> {
        self.replace_all(
            |writer| {
                store.for_each::<Statement, SearchError>(|s| {
                    self.add(writer, &Fact::Statement(s))
                })?;
                store.for_each::<Agreement, SearchError>(|a| {
                    self.add(writer, &Fact::Agreement(a))
                })?;
                store.for_each::<Event, SearchError>(|e| self.add(writer, &Fact::Event(e)))?;
                store.for_each::<Source, SearchError>(|s| self.add(writer, &Fact::Source(s)))
            },
            Some(sequence),
        )
    }

    /// Brings the index in line with a commit of the store: each changed fact in its new state
    /// (None: deleted). `sequence` is the store's after that commit. Searches see it on return.
    pub fn apply(
        &self,
        changes: &[(NodeRef, Option<Fact>)],
        sequence: u64,
    ) -> Result<(), SearchError> {
        let writer = self.lock_writer();
        self.stage(
            &writer,
            changes.iter().map(|(node, new)| (node, new.as_ref(), true)),
        )?;
        self.commit_level_with(writer, sequence)
    }

    /// Commits what `writer` holds, recording that the index is level with the store at
    /// `sequence`; searches see it on return.
    fn commit_level_with(
        &self,
        mut writer: std::sync::MutexGuard<'_, IndexWriter>,
        sequence: u64,
    ) -> Result<(), SearchError> {
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload(sequence));
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Hands changed facts to the writer, uncommitted: (node, its new state, whether the
    /// index may hold documents of it already; a node just created has none to delete).
    fn stage<'c>(
        &self,
        writer: &IndexWriter,
        changes: impl Iterator<Item = (&'c NodeRef, Option<&'c Fact>, bool)>,
    ) -> Result<(), SearchError> {
        for (node, new, indexed) in changes {
            if indexed {
                writer.delete_term(Term::from_field_text(self.fields.owner, &node.to_string()));
            }
            if let Some(fact) = new {
                self.add(writer, fact)?;
            }
        }
        Ok(())
    }

    /// A bulk load begins: the commits it follows are indexed as they come (on tantivy's
    /// indexing thread, beside the load) but committed only by `end_bulk_load`. Until then
    /// searches do not see them, and an index whose load was cut short is behind its store,
    /// so it is rebuilt when next opened.
    pub fn begin_bulk_load(&self) {
        // No merges meanwhile: nothing the load adds is committed before its end.
        self.lock_writer().set_merge_policy(Box::new(NoMergePolicy));
        self.bulk_load.store(true, Ordering::Release);
    }

    /// Commits what the bulk load added, level with the store at `sequence`. Not merged: the
    /// load's documents make one segment, or a few where they outgrow the writer's memory,
    /// beside what was there before, and the merge policy, back in charge, merges only when
    /// segments pile up.
    pub fn end_bulk_load(&self, sequence: u64) -> Result<(), SearchError> {
        self.bulk_load.store(false, Ordering::Release);
        let writer = self.lock_writer();
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        self.commit_level_with(writer, sequence)
    }

    /// Commits (with the store sequence, if any) and merges what is there into one segment.
    fn commit_as_one_segment(
        &self,
        writer: &mut IndexWriter,
        sequence: Option<u64>,
    ) -> Result<(), SearchError> {
        let mut commit = writer.prepare_commit()?;
        if let Some(sequence) = sequence {
            commit.set_payload(&payload(sequence));
        }
        commit.commit()?;
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        Ok(())
    }

    /// Records that the index is level with the store at `sequence` (on shutdown: commits of
    /// kinds it does not index moved the store on without it).
    pub fn record_sequence(&self, sequence: u64) -> Result<(), SearchError> {
        if self.index.load_metas()?.payload.as_deref() == Some(payload(sequence).as_str()) {
            return Ok(());
        }
        let mut writer = self.lock_writer();
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&payload(sequence));
        commit.commit()?;
        Ok(())
    }

    /// The analyzed terms of a query, each once.
    fn terms(&self, query: &str) -> Vec<String> {
        terms(&self.analyzer, query)
    }

    /// Documents with any of the query's words, optionally only of some kinds.
    fn query(&self, query: &str, kinds: Option<&[NodeKind]>) -> Option<Box<dyn Query>> {
        build_query(&self.analyzer, &self.fields, query, kinds)
    }

    /// The best `limit` matches, optionally only of some kinds, best first (equal scores in the
    /// order of their ids, `Kind:key`), whatever order the documents were added in.
    pub fn search(
        &self,
        query: &str,
        limit: usize,
        kinds: Option<&[NodeKind]>,
    ) -> Result<Vec<(NodeRef, f32)>, SearchError> {
        let Some(query) = self.query(query, kinds).filter(|_| limit > 0) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let best = searcher.search(&query, &top::BestHits { limit })?;
        Ok(best
            .into_iter()
            .filter_map(|(score, id)| Some((NodeRef::from_str(&id).ok()?, score)))
            .collect())
    }

    /// Keys of every node of `kind` that matches the query, unranked.
    pub fn matching(&self, query: &str, kind: NodeKind) -> Result<Vec<String>, SearchError> {
        let Some(query) = self.query(query, Some(&[kind])) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let mut keys = Vec::new();
        for address in searcher.search(&query, &DocSetCollector)? {
            if let Some(node) = self.node_of(&searcher, address)? {
                keys.push(node.key);
            }
        }
        Ok(keys)
    }

    fn node_of(
        &self,
        searcher: &tantivy::Searcher,
        address: tantivy::DocAddress,
    ) -> Result<Option<NodeRef>, SearchError> {
        let segment = searcher.segment_reader(address.segment_ord);
        let Some(ids) = segment.fast_fields().str("id")? else {
            return Ok(None);
        };
        let mut id = String::new();
        for ord in ids.term_ords(address.doc_id) {
            ids.ord_to_str(ord, &mut id)?;
        }
        Ok(NodeRef::from_str(&id).ok())
    }

    /// The text around the first word of `text` that matches a word of `query`.
    pub fn snippet(&self, text: &str, query: &str) -> String {
        let terms: HashSet<String> = self.terms(query).into_iter().collect();
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut at_byte = None;
        while let Some(token) = stream.next() {
            if terms.contains(&token.text) {
                at_byte = Some(token.offset_from);
                break;
            }
        }
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let at = at_byte.map_or(0, |b| chars.partition_point(|(i, _)| *i < b));
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

/// The index follows every commit of a searchable kind; a failure leaves the write standing and
/// the index behind its store, rebuilt on the next start. Commits of other kinds are not
/// followed (an index commit syncs files: it cost more than the write itself): the next index
/// commit, or `record_sequence` on shutdown, records the sequence they reached.
impl crate::ingest::feed::Follower for SearchIndex {
    fn follow(&self, commit: &crate::ingest::feed::Commit<'_>) {
        if !commit.changes.iter().any(|c| is_searchable(c.node.kind)) {
            return;
        }
        let changes: Vec<(NodeRef, Option<Fact>)> = commit
            .changes
            .iter()
            .map(|c| (c.node.clone(), (commit.now)(&c.node)))
            .collect();
        let followed = match self.bulk_load.load(Ordering::Acquire) {
            true => self.stage(
                &self.lock_writer(),
                changes
                    .iter()
                    .zip(commit.changes)
                    .map(|((node, new), change)| {
                        (node, new.as_ref(), change.action != OutcomeAction::Created)
                    }),
            ),
            false => self.apply(&changes, commit.sequence),
        };
        if let Err(e) = followed {
            tracing::error!(error = %e, "the search index could not follow a write");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Write;

    fn statement(key: &str, text: &str) -> Fact {
        Fact::Statement(Statement {
            key: key.into(),
            text: text.into(),
            direct: false,
            speaker: None,
            date: None,
            medium: crate::domain::StatementMedium::Other,
            event: None,
            about: vec![],
            source: crate::domain::Citation {
                source: "reuters-israel-kosovo-relations".into(),
                start: 0,
                end: 0,
            },
        })
    }

    fn index() -> SearchIndex {
        SearchIndex::in_memory([
            statement(
                "a",
                "Serbian President Aleksandar Vučić signed an economic agreement",
            ),
            statement("c", "Deeper international ties contribute to peace"),
            Fact::Event(Event {
                key: "b".into(),
                kind: crate::domain::EventKind::Declaration,
                title: "Kosovo declares independence from Serbia".into(),
                date: None,
                place: None,
                participants: vec![],
                countries: vec![],
                agreement: None,
                sources: vec![],
            }),
        ])
        .unwrap()
    }

    #[test]
    fn ranks_folds_diacritics_stems_and_filters_kinds() {
        let idx = index();
        let hits = idx.search("vucic", 10, None).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0.key, "a");
        let hits = idx
            .search("independence", 10, Some(&[NodeKind::Statement]))
            .unwrap();
        assert!(hits.is_empty());
        assert!(idx.search("the of", 10, None).unwrap().is_empty());
        assert!(idx.search("", 10, None).unwrap().is_empty());
        assert!(idx.search("peace", 0, None).unwrap().is_empty());
        let hits = idx.search("peace ties", 10, None).unwrap();
        assert_eq!(hits[0].0.key, "c");
        // "declared" and "declares" share a stem.
        assert_eq!(idx.search("declared", 10, None).unwrap()[0].0.key, "b");
        assert_eq!(
            idx.matching("agreements", NodeKind::Statement).unwrap(),
            ["a"]
        );
    }

    #[test]
    fn snippets_are_cut_around_the_match() {
        let idx = index();
        let long = format!("{} embassy {}", "word ".repeat(100), "tail ".repeat(100));
        let snippet = idx.snippet(&long, "embassies");
        assert!(snippet.starts_with('…') && snippet.ends_with('…'));
        assert!(snippet.contains("embassy"));
        assert!(snippet.chars().count() < 220);
        assert!(idx.snippet("Vučić spoke", "vucic").starts_with("Vučić"));
    }

    /// Statements that score alike for "peace" (the same words, the same length), keyed so that
    /// neither the order of their keys nor their reverse is the order they were added in.
    fn tied(n: usize) -> Vec<Fact> {
        (0..n)
            .map(|i| statement(&format!("t{:03}", (i * 7) % n), "lasting peace talks"))
            .collect()
    }

    #[test]
    fn equal_scores_are_cut_and_ordered_by_id_whatever_order_documents_came_in() {
        let keys = |hits: Vec<(NodeRef, f32)>| -> Vec<String> {
            hits.into_iter().map(|(node, _)| node.key).collect()
        };
        let mut facts = tied(40);
        facts.push(statement("best", "peace peace"));
        let forward = SearchIndex::in_memory(facts.clone()).unwrap();
        let backward = SearchIndex::in_memory(facts.into_iter().rev()).unwrap();
        let expected: Vec<String> = std::iter::once("best".to_string())
            .chain((0..4).map(|i| format!("t{i:03}")))
            .collect();
        assert_eq!(keys(forward.search("peace", 5, None).unwrap()), expected);
        assert_eq!(keys(backward.search("peace", 5, None).unwrap()), expected);

        // Across segments, and with deleted documents left out: each of these commits makes a
        // segment of its own.
        let split = SearchIndex::in_memory(tied(40).into_iter().skip(20)).unwrap();
        let first_half: Vec<(NodeRef, Option<Fact>)> = tied(40)
            .into_iter()
            .take(20)
            .map(|f| (f.node(), Some(f)))
            .collect();
        split.apply(&first_half, 1).unwrap();
        let t000 = NodeRef::new(NodeKind::Statement, "t000");
        split.apply(&[(t000, None)], 2).unwrap();
        assert_eq!(
            keys(split.search("peace", 3, None).unwrap()),
            ["t001", "t002", "t003"]
        );
    }

    /// Commits `fact` to the store and hands the commit to `idx`, as the writer does.
    fn commit_and_follow(store: &Store, idx: &SearchIndex, fact: Fact) {
        use crate::ingest::feed::{Change, Commit, Follower};
        let guard = store.lock_writes();
        let outcomes = guard
            .commit(&[Write::Upsert(fact.clone())], "t", None)
            .unwrap();
        drop(guard);
        let sequence = store.sequence().unwrap();
        let changes = Change::of_commit(&outcomes, sequence);
        let now = |_: &NodeRef| Some(fact.clone());
        idx.follow(&Commit {
            sequence,
            changes: &changes,
            now: &now,
        });
    }

    #[test]
    fn a_bulk_load_is_indexed_as_it_lands_and_committed_once_at_its_end() {
        let (dir, store) = seeded_store();
        let path = dir.path().join("search");
        let idx = SearchIndex::open(&path, &store).unwrap();
        idx.begin_bulk_load();
        commit_and_follow(&store, &idx, statement("bulk-one", "A zeppelin embassy"));
        // Changed later in the same load: its first document goes.
        commit_and_follow(&store, &idx, statement("bulk-one", "A dirigible embassy"));
        assert!(
            idx.search("dirigible", 5, None).unwrap().is_empty(),
            "not committed yet"
        );
        idx.end_bulk_load(store.sequence().unwrap()).unwrap();
        assert_eq!(idx.search("dirigible", 5, None).unwrap().len(), 1);
        assert!(idx.search("zeppelin", 5, None).unwrap().is_empty());
        drop(idx);
        // Level with the store, so reopened as it is.
        let metas = Index::open_in_dir(&path).unwrap().load_metas().unwrap();
        assert_eq!(
            metas.payload.as_deref(),
            Some(payload(store.sequence().unwrap()).as_str())
        );

        // A load cut short (its index never committed) leaves the index behind: rebuilt.
        let idx = SearchIndex::open(&path, &store).unwrap();
        idx.begin_bulk_load();
        commit_and_follow(&store, &idx, statement("cut", "A stratospheric balloon"));
        drop(idx);
        let idx = SearchIndex::open(&path, &store).unwrap();
        assert_eq!(idx.search("balloon", 5, None).unwrap().len(), 1);
        assert_eq!(idx.search("dirigible", 5, None).unwrap().len(), 1);
    }

    /// A temp dir holding a store seeded with the built-in dataset, in `store/`.
    fn seeded_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::tests::seeded_at(&dir.path().join("store"));
        (dir, store)
    }

    #[test]
    fn a_persistent_index_follows_writes_and_is_rebuilt_when_behind_its_store() {
        let (dir, store) = seeded_store();
        let path = dir.path().join("search");
        let idx = SearchIndex::open(&path, &store).unwrap();
        assert!(!idx.search("embassy Jerusalem", 5, None).unwrap().is_empty());

        // A write applied to both: found at once, and the index is level on reopen.
        let fact = statement("new-one", "A zeppelin embassy");
        let guard = store.lock_writes();
        guard
            .commit(&[Write::Upsert(fact.clone())], "t", None)
            .unwrap();
        drop(guard);
        let node = fact.node();
        idx.apply(&[(node.clone(), Some(fact))], store.sequence().unwrap())
            .unwrap();
        assert_eq!(idx.search("zeppelin", 5, None).unwrap()[0].0, node);
        drop(idx);
        let idx = SearchIndex::open(&path, &store).unwrap();
        assert_eq!(idx.search("zeppelin", 5, None).unwrap().len(), 1);

        // A store commit the index never heard of (a crash between the two): rebuilt on open.
        let guard = store.lock_writes();
        guard
            .commit(
                &[Write::Upsert(statement("lost", "A lost dirigible"))],
                "t",
                None,
            )
            .unwrap();
        drop(guard);
        drop(idx);
        let idx = SearchIndex::open(&path, &store).unwrap();
        assert_eq!(idx.search("dirigible", 5, None).unwrap().len(), 1);
        assert_eq!(idx.search("zeppelin", 5, None).unwrap().len(), 1);
    }

    #[test]
    fn the_yardstick_runs_the_same_query_on_the_same_index() {
        let (dir, store) = seeded_store();
        let path = dir.path().join("search");
        let idx = SearchIndex::open(&path, &store).unwrap();
        for (query, limit) in [("embassy Jerusalem", 5), ("recognition", 2), ("Kosovo", 10)] {
            let yardstick = Yardstick::open(&path, query, limit).unwrap().unwrap();
            assert_eq!(
                yardstick.run().unwrap(),
                idx.search(query, limit, None).unwrap().len(),
                "{query}"
            );
        }
        assert!(Yardstick::open(&path, "the of", 10).unwrap().is_none());
    }

    /// The cause of the suite's "Failed to acquire Lockfile: LockBusy": a process forked while
    /// the index's lock file is open holds the lock until it execs. Rebuilds (and reopenings)
    /// race other threads spawning processes, as the black-box tests' CLI runs do.
    #[test]
    fn commits_of_kinds_without_documents_are_not_followed_and_the_sequence_is_recorded_on_shutdown(
    ) {
        use crate::domain::Person;
        use crate::ingest::feed::{Change, Commit, Follower};
        use crate::store::OutcomeAction;
        let (dir, store) = seeded_store();
        let path = dir.path().join("search");
        let idx = SearchIndex::open(&path, &store).unwrap();
        let recorded = || idx.index.load_metas().unwrap().payload;
        let before = recorded();

        let mut person: Person = store.get("ned-price").unwrap().unwrap();
        person.key = "another-spokesman".into();
        let fact = Fact::Person(person);
        let guard = store.lock_writes();
        guard
            .commit(&[Write::Create(fact.clone())], "t", None)
            .unwrap();
        drop(guard);
        let sequence = store.sequence().unwrap();
        let changes = [Change {
            sequence,
            node: fact.node(),
            action: OutcomeAction::Created,
            revision: 1,
        }];
        let now = |_: &NodeRef| Some(fact.clone());
        idx.follow(&Commit {
            sequence,
            changes: &changes,
            now: &now,
        });
        assert_eq!(recorded(), before, "no index commit for a person");

        idx.record_sequence(sequence).unwrap();
        assert_eq!(recorded().as_deref(), Some(payload(sequence).as_str()));
        let stamp = idx.index.load_metas().unwrap().opstamp;
        drop(idx);
        // Level with its store: opened without a rebuild, which would commit again.
        let idx = SearchIndex::open(&path, &store).unwrap();
        assert_eq!(idx.index.load_metas().unwrap().opstamp, stamp);
    }

    #[test]
    fn rebuilds_and_reopenings_hold_their_lock_while_other_threads_spawn_processes() {
        let (dir, store) = seeded_store();
        let path = dir.path().join("search");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spawners: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let _ = std::process::Command::new("true").status();
                    }
                })
            })
            .collect();
        let mut idx = SearchIndex::open(&path, &store).unwrap();
        for round in 0..60 {
            // A commit the index has not seen: the next open rebuilds it.
            let fact = statement(&format!("s{round}"), "A zeppelin embassy");
            let guard = store.lock_writes();
            guard.commit(&[Write::Upsert(fact)], "t", None).unwrap();
            drop(guard);
            drop(idx);
            idx = SearchIndex::open(&path, &store).unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for spawner in spawners {
            spawner.join().unwrap();
        }
        assert_eq!(idx.search("zeppelin", 100, None).unwrap().len(), 60);
    }
}
