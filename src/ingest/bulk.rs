//! Bulk import and export in JSON Lines: one record a line (`{"type": "person", ...}`), the
//! same format as the built-in dataset's files. Import streams (constant memory), checks each
//! line as a mutation would and commits it on its own; export writes every entity in an order
//! where references come first, so that its output re-imports as it is.

use crate::domain::Entity;
use crate::domain::{Fact, Source};
use crate::facts::Record;
use crate::ingest::write::{Author, Mode, Writer};
use crate::store::{OutcomeAction, Store, StoreError};
use std::io::{BufRead, Read, Write};
use std::sync::Arc;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "added {}, updated {}, unchanged {}, rejected {}",
            self.added, self.updated, self.unchanged, self.rejected
        )
    }
}

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error("reading the input: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("line {}: {}", .0.line, .0.reason)]
    Strict(Rejection),
}

/// The records of one line: a source with facts is the source, then each fact.
fn records_of(line: u64, record: Record) -> Vec<(String, Record)> {
    match record {
        Record::Source(mut source) => {
            let facts = std::mem::take(&mut source.facts);
            let mut out = vec![(format!("line {line}"), Record::Source(source))];
            out.extend(
                facts
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| (format!("line {line}: facts[{i}]"), f)),
            );
            out
        }
        other => vec![(format!("line {line}"), other)],
    }
}

/// Records per transaction: few enough to keep memory flat, many enough that one commit (and
/// its flush) serves many lines.
const BATCH_RECORDS: usize = 2000;

struct Batch {
    lines: Vec<(u64, Vec<(String, Record)>)>,
    records: usize,
}

impl Batch {
    fn new() -> Self {
        Batch {
            lines: Vec::new(),
            records: 0,
        }
    }

    /// The lines gathered so far, leaving an empty batch.
    fn take(&mut self) -> Batch {
        std::mem::replace(self, Batch::new())
    }
}

fn count(summary: &mut Summary, outcomes: &[crate::store::Outcome]) {
    for o in outcomes {
        match o.action {
            OutcomeAction::Created => summary.added += 1,
            OutcomeAction::Updated => summary.updated += 1,
            OutcomeAction::Unchanged => summary.unchanged += 1,
            OutcomeAction::Deleted => {}
        }
    }
}

/// Counts a refused line: with `strict` it ends the import, else it is reported and skipped.
fn reject(
    rejection: Rejection,
    strict: bool,
    summary: &mut Summary,
    on_reject: &mut impl FnMut(&Rejection),
) -> Result<(), BulkError> {
    summary.rejected += 1;
    if strict {
        return Err(BulkError::Strict(rejection));
    }
    on_reject(&rejection);
    Ok(())
}

/// Commits a batch in one transaction; if anything in it is refused, commits its lines one by
/// one instead, so that each refusal is reported with its own line and the rest still land.
fn commit(
    writer: &Writer,
    batch: Batch,
    strict: bool,
    summary: &mut Summary,
    on_reject: &mut impl FnMut(&Rejection),
) -> Result<(), BulkError> {
    if batch.lines.is_empty() {
        return Ok(());
    }
    let all: Vec<(String, Record)> = batch
        .lines
        .iter()
        .flat_map(|(_, r)| r.iter().cloned())
        .collect();
    if let Ok(outcomes) = writer.write(all, Mode::Upsert, &Author::operator("import")) {
        count(summary, &outcomes);
        return Ok(());
    }
    for (line, records) in batch.lines {
        match writer.write(records, Mode::Upsert, &Author::operator("import")) {
            Ok(outcomes) => count(summary, &outcomes),
            Err(e) => {
                reject(
                    Rejection {
                        line,
                        reason: e.to_string(),
                    },
                    strict,
                    summary,
                    on_reject,
                )?;
            }
        }
    }
    Ok(())
}

/// Reference edits an import holds in memory before writing them out (about 120 bytes each).
const HELD_REFERENCES: usize = 100_000;

/// Imports JSON Lines from `input`. Each line lands whole or not at all (lines are committed in
/// batches; a batch that fails is retried line by line); a rejected line is reported through
/// `on_reject` and skipped, or with `strict` ends the import. `on_progress` hears the bytes
/// read so far.
///
/// The reference index is brought up to date every `HELD_REFERENCES` edits and at the end,
/// not with every batch (see `Store::defer_reference_index`); the store rebuilds it if the
/// import is killed before that.
pub fn import(
    writer: &Writer,
    input: impl BufRead,
    strict: bool,
    on_reject: impl FnMut(&Rejection),
    on_progress: impl FnMut(u64),
) -> Result<Summary, BulkError> {
    let store = writer.store();
    store.defer_reference_index(HELD_REFERENCES)?;
    let result = import_lines(writer, input, strict, on_reject, on_progress);
    // Lines committed before a refusal stay imported, so their index is written either way.
    let settled = store.settle_reference_index();
    let summary = result?;
    settled?;
    Ok(summary)
}

/// The longest line an import reads (a source article with its facts fits many times over);
/// a longer one is rejected without being held in memory whole.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One line of the input, as read.
enum Line {
    /// Its bytes, without the line ending.
    Read(Vec<u8>),
    /// Longer than `MAX_LINE_BYTES`; skipped to its end.
    TooLong,
}

/// Reads the next line and the bytes it took; None at the end of the input.
fn next_line(input: &mut impl BufRead) -> std::io::Result<Option<(Line, u64)>> {
    let mut bytes = Vec::new();
    let read = input
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut bytes)?;
    if read == 0 {
        return Ok(None);
    }
    let mut consumed = read as u64;
    if bytes.len() > MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
        // Skip the rest of the line, a buffer at a time.
        loop {
            let buffer = input.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            let (used, done) = match buffer.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buffer.len(), false),
            };
            input.consume(used);
            consumed += used as u64;
            if done {
                break;
            }
        }
        return Ok(Some((Line::TooLong, consumed)));
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    Ok(Some((Line::Read(bytes), consumed)))
}

fn import_lines(
    writer: &Writer,
    mut input: impl BufRead,
    strict: bool,
    mut on_reject: impl FnMut(&Rejection),
    mut on_progress: impl FnMut(u64),
) -> Result<Summary, BulkError> {
    let mut summary = Summary::default();
    let mut read = 0u64;
    let mut number = 0u64;
    let mut batch = Batch::new();
    while let Some((line, bytes)) = next_line(&mut input)? {
        number += 1;
        read += bytes;
        on_progress(read);
        let parsed = match &line {
            Line::TooLong => Err(format!("longer than {MAX_LINE_BYTES} bytes")),
            Line::Read(bytes) => match std::str::from_utf8(bytes) {
                Err(e) => Err(format!(
                    "not valid UTF-8 (the first bad byte is at offset {})",
                    e.valid_up_to()
                )),
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => {
                    serde_json::from_str::<Record>(text).map_err(|e| format!("not a record: {e}"))
                }
            },
        };
        match parsed {
            Ok(record) => {
                let records = records_of(number, record);
                batch.records += records.len();
                batch.lines.push((number, records));
                if batch.records >= BATCH_RECORDS {
                    commit(writer, batch.take(), strict, &mut summary, &mut on_reject)?;
                }
            }
            Err(reason) => {
                // Lines before it land first, in order.
                commit(writer, batch.take(), strict, &mut summary, &mut on_reject)?;
                let rejection = Rejection {
                    line: number,
                    reason,
                };
                reject(rejection, strict, &mut summary, &mut on_reject)?;
            }
        }
    }
    commit(writer, batch, strict, &mut summary, &mut on_reject)?;
    Ok(summary)
}

fn export_kind<E: Entity + Clone>(
    store: &Store,
    out: &mut impl Write,
    text_of: &dyn Fn(&str) -> Option<Arc<str>>,
) -> Result<u64, BulkError>
where
    Fact: From<E>,
{
    let mut n = 0;
    let mut after: Option<String> = None;
    // Pages of keys keep memory flat however large the store is.
    loop {
        let keys = store.keys::<E>(after.as_deref(), 1000)?;
        if keys.is_empty() {
            return Ok(n);
        }
        for key in keys.iter() {
            if let Some(entity) = store.get::<E>(key)? {
                let line = serde_json::to_string(&Record::of(&Fact::from(entity), text_of))
                    .map_err(|e| StoreError::Codec(e.to_string()))?;
                writeln!(out, "{line}")?;
                n += 1;
            }
        }
        after = keys.last().cloned();
    }
}

/// Writes the whole store as JSON Lines; returns the number of records.
pub fn export(store: &Store, mut out: impl Write) -> Result<u64, BulkError> {
    let text_of = |key: &str| -> Option<Arc<str>> {
        store
            .get::<Source>(key)
            .ok()
            .flatten()
            .map(|s| Arc::from(s.text))
    };
    let mut n = 0;
    crate::for_every_kind!(E => {
        n += export_kind::<E>(store, &mut out, &text_of)?;
    });
    out.flush()?;
    Ok(n)
}
