//! One module per kind of fact: its object, filters, query fields, input and mutations, merged
//! into the roots by `query::Query` and `mutation::Mutation`.

mod agreement;
mod country;
mod event;
mod membership;
mod mission;
mod organization;
mod person;
mod relation;
mod source;
mod statement;

pub use agreement::*;
pub use country::*;
pub use event::*;
pub use membership::*;
pub use mission::*;
pub use organization::*;
pub use person::*;
pub use relation::*;
pub use source::*;
pub use statement::*;

/// A kind's parts of the roots, named by its domain type so that the roots can be written out
/// from the registry (`query::Query`, `mutation::Mutation`).
pub trait KindApi: Sized {
    /// The kind's GraphQL object, a `Node`.
    type Object;
    type Query: async_graphql::ObjectType + Default;
    type Mutation: async_graphql::ObjectType + Default;
    /// What `create<Kind>` and `addSource` take.
    type Input: async_graphql::InputType;
    fn object(entity: std::sync::Arc<Self>) -> Self::Object;
    /// The record of an input; citations that name no source cite `default_source`.
    fn input_record(input: Self::Input, default_source: Option<&str>) -> crate::facts::Record;
    /// The text the search index holds for a node of this kind, to cut snippets from.
    fn search_text(_object: &Self::Object) -> String {
        String::new()
    }
}
