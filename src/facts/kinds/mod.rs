//! One module per kind of fact: its record and how it becomes its entity and back.

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
