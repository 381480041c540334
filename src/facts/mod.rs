//! The fact record format shared by the built-in dataset, import/export and the write API, and
//! the checks that turn records into domain entities (and entities back into records).

mod export;
mod record;
mod resolve;

pub use export::to_record;
pub use record::*;
pub use resolve::{locate, FactError, FactErrorKind, Lookup, Resolver};
