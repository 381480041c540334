//! The GraphQL layer: schema, types and batched loading. Knows the store only through its typed
//! operations.

pub mod auth;
pub mod backup;
pub mod budget;
pub mod connection;
pub mod error;
pub mod executor;
pub mod id;
pub mod inputs;
pub mod keys;
pub mod kinds;
pub mod lean;
pub mod loader;
pub mod mutation;
pub mod order;
pub mod query;
pub mod rules;
pub mod subscription;
pub mod types;

use crate::ingest::queue::WriteQueue;
use crate::ingest::write::Writer;
use crate::keyring::KeyRing;
use crate::search::SearchIndex;
use crate::store::Store;
use async_graphql::Schema;
use auth::Caller;
use connection::PageLimits;
use loader::Reader;
use std::sync::Arc;
use std::time::Duration;

pub type DiplographSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Limits that keep one query from taking the server down.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub pages: PageLimits,
    /// Answers `__schema` and `__type`.
    pub introspection: bool,
}

/// What admin operations need beyond the store.
#[derive(Clone)]
pub struct Operations {
    pub keys: Arc<KeyRing>,
    pub backup_dir: std::path::PathBuf,
}

/// The schema, three times: one for single operations; one for single operations already
/// validated with the same document, operation name and variables, which runs only the checks
/// that also compute the complexity and depth limits (async-graphql's `ValidationMode::Fast`);
/// and one for the operations of batches, which charges each to the batch's shared complexity
/// budget (`budget`). An extension would have done the middle one's work in one schema, but
/// any extension sends every field through async-graphql's slower, instrumented path.
#[derive(Clone)]
pub struct Schemas {
    pub single: DiplographSchema,
    pub validated: DiplographSchema,
    pub batched: DiplographSchema,
}

/// What a connection field costs: its children, once per row it may return.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.unwrap_or(20).clamp(1, 1000) as usize;
    rows.saturating_mul(child_complexity.max(1))
}

/// The three schemas (see `Schemas`).
pub fn build_schemas(
    search: Arc<SearchIndex>,
    writer: Arc<Writer>,
    operations: Operations,
    limits: QueryLimits,
) -> std::io::Result<Schemas> {
    let queue = WriteQueue::start(&writer)?;
    let build = || {
        builder(
            search.clone(),
            writer.clone(),
            queue.clone(),
            operations.clone(),
            limits,
        )
    };
    Ok(Schemas {
        single: build().finish(),
        validated: build()
            .validation_mode(async_graphql::ValidationMode::Fast)
            .finish(),
        batched: build().extension(budget::BatchBudgetExtension).finish(),
    })
}

fn builder(
    search: Arc<SearchIndex>,
    writer: Arc<Writer>,
    queue: WriteQueue,
    operations: Operations,
    limits: QueryLimits,
) -> async_graphql::SchemaBuilder<query::Query, mutation::Mutation, subscription::Subscription> {
    let builder = Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .data(search)
    .data(writer)
    .data(queue)
    .data(operations.keys)
    .data(backup::BackupDir(operations.backup_dir))
    .data(limits.pages)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity);
    if limits.introspection {
        builder
    } else {
        builder.disable_introspection()
    }
}

/// The SDL clients see, printed from the code.
pub fn sdl() -> String {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}

/// The data a WebSocket connection's operations run with. Its loaders keep no cache: a
/// connection lives long, and each event must see the store as it is.
pub fn connection_data(store: Arc<Store>, caller: Caller) -> async_graphql::Data {
    let reader = Reader::new(store);
    let loaders = loader::loaders(reader.clone(), Duration::ZERO);
    loaders.enable_all_cache(false);
    let mut data = async_graphql::Data::default();
    data.insert(reader);
    data.insert(loaders);
    data.insert(caller);
    data
}

/// Adds the per-request store view and loaders to a request.
pub fn prepare(
    request: async_graphql::Request,
    store: Arc<Store>,
    caller: Caller,
) -> (async_graphql::Request, Reader) {
    let reader = Reader::new(store);
    // Zero delay: on the single-threaded workers the batch task runs once the request has
    // registered every key of the current level, so batches follow depth, not timing.
    let loaders = loader::loaders(reader.clone(), Duration::ZERO);
    (
        request.data(reader.clone()).data(loaders).data(caller),
        reader,
    )
}

#[cfg(test)]
mod tests {
    use crate::domain::{NodeKind, STORED};

    /// The schema's parts that must cover every stored kind, checked against the registry:
    /// forgetting one is a failing test, not a kind clients silently cannot reach.
    #[test]
    fn every_stored_kind_is_in_every_part_of_the_schema_that_lists_kinds() {
        let sdl = super::sdl();
        let block = |head: &str| -> String {
            let start = sdl
                .find(head)
                .unwrap_or_else(|| panic!("the schema has no `{head}`"));
            let end = start + sdl[start..].find("\n}").expect("a closing brace");
            sdl[start..=end].to_string()
        };
        let query = block("type Query {");
        let mutation = block("type Mutation {");
        let fact_kind = block("enum FactKind {");
        let add_source = block("input AddSourceInput {");
        for kind in STORED {
            let name = kind.as_str();
            let plural = kind.plural();
            assert!(
                sdl.contains(&format!("type {name} implements Node")),
                "{name} is not a Node"
            );
            assert!(query.contains(&format!("\t{plural}(")), "Query.{plural}");
            for verb in ["create", "update"] {
                assert!(
                    mutation.contains(&format!("\t{verb}{name}(")),
                    "{verb}{name}"
                );
            }
            assert!(
                fact_kind.contains(&format!("\t{}\n", name.to_uppercase())),
                "FactKind.{name}"
            );
            // A source's facts come with it, except countries (the gazetteer's) and itself.
            if !matches!(kind, NodeKind::Country | NodeKind::Source) {
                assert!(
                    add_source.contains(&format!("\t{plural}: [")),
                    "AddSourceInput.{plural}"
                );
            }
        }
    }
}
