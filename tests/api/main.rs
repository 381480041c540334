//! Black-box tests: the real server, over HTTP, as clients use it. One binary, to link once.

mod cache;
mod cli;
mod clients;
mod crash;
mod errors;
mod hardening;
mod helpers;
mod hostile;
mod lifecycle;
mod live;
mod memberships;
mod ops;
mod queries;
mod schema;
mod seeds;
mod transport;
mod writes;
