//! diplograph: a GraphQL API over a sourced knowledge graph of diplomatic relations.
//!
//! Layers, each knowing only the one below: `http` wires requests to `graphql`, which reads
//! through the typed operations of `store` (sled) and the `search` index; `domain` holds the
//! entities all of them share and the registry of kinds; `facts` turns records into entities.
//! ARCHITECTURE.md is the map.

pub mod app;
pub mod cache;
pub mod config;
pub mod domain;
pub mod extract;
pub mod facts;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphql;
pub mod http;
pub mod ingest;
pub mod keyring;
pub mod ops;
pub mod search;
pub mod store;
pub mod telemetry;
