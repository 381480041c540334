//! The fact record format shared by the built-in dataset, import/export and the write API, and
//! the checks that turn records into domain entities (and entities back into records). Each
//! kind's record lives in `kinds/`, with what it does as a `KindRecord`.

mod export;
mod kinds;
mod record;
mod resolve;

pub use export::Citer;
pub use kinds::*;
pub use record::*;
pub use resolve::{locate, FactError, FactErrorKind, Lookup, Resolver};

/// What one kind's record does; `Record`'s methods dispatch to it.
pub trait KindRecord: Sized {
    type Entity;
    /// Checks the record against what exists (references, citations, dates) and makes its
    /// entity; errors name `path` and the field.
    fn resolve(&self, at: &Resolver, path: &str) -> Result<Self::Entity, FactError>;
    /// The record of an entity, its citations back as excerpts.
    fn export(entity: &Self::Entity, citer: &Citer) -> Self;
    /// What a key generated for the record is made from (its name, title or first words).
    fn key_basis(&self) -> String;
}
