//! Online backups, for admins: a consistent copy of the whole store, written by the running
//! server while it serves (writes wait for the copy; reads go on), into its `backup_dir`.

use super::auth::{Caller, RoleGuard};
use super::error::code;
use crate::ingest::write::Writer;
use crate::ops::{write_backup, OpsError};
use crate::store::KeyRole;
use async_graphql::{Context, Error, ErrorExtensions, Result, SimpleObject};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the server writes backups (`backup_dir`).
#[derive(Clone, Debug)]
pub struct BackupDir(pub PathBuf);

/// A backup the server wrote.
#[derive(SimpleObject)]
pub struct Backup {
    /// The directory holding it, as the server sees it; `diplograph restore` takes it.
    pub path: String,
    /// Store entries copied.
    pub entries: f64,
}

/// Whether `name` is a plain directory name: letters, digits, '-', '_' and '.', not starting
/// with '.', so that it names a place inside `backup_dir` and nowhere else.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn coded(message: String, code: &str) -> Error {
    Error::new(message).extend_with(|_, x| x.set("code", code))
}

pub async fn create(ctx: &Context<'_>, name: String) -> Result<Backup> {
    RoleGuard(KeyRole::Admin).check_caller(ctx.data_unchecked::<Caller>())?;
    let dir = ctx.data_unchecked::<BackupDir>().0.clone();
    let store = ctx.data_unchecked::<Arc<Writer>>().store().clone();
    let written = super::error::off_worker("backup", move || write_backup(&store, &dir, &name));
    match written.await? {
        Ok(done) => {
            tracing::info!(path = %done.path.display(), entries = done.entries, "backup written");
            Ok(Backup {
                path: done.path.display().to_string(),
                entries: done.entries as f64,
            })
        }
        Err(e @ OpsError::BadName) => Err(coded(e.to_string(), code::BAD_USER_INPUT)),
        Err(e @ OpsError::Exists(_)) => Err(coded(e.to_string(), code::CONFLICT)),
        Err(e) => {
            tracing::error!(error = %e, "a backup failed");
            Err(coded("internal error".into(), code::INTERNAL))
        }
    }
}
