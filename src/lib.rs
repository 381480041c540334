//! diplograph: a GraphQL API over a sourced knowledge graph of diplomatic relations.

pub mod dataset;
pub mod domain;
pub mod store;
