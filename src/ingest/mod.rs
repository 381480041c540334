//! How facts arrive: the write API's writer (roles, checks against the store, commit,
//! announcement), JSON Lines import and export, the built-in dataset compiled into the binary,
//! and the synthetic data sets the benchmark generates.

pub mod bulk;
pub mod dataset;
pub mod feed;
pub mod generate;
pub mod queue;
pub mod write;
