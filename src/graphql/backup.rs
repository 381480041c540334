//! Online backups, for admins: a consistent copy of the whole store, written by the running
//! server while it serves (writes wait for the copy; reads go on), into its `backup_dir`.

use super::auth::{Caller, RoleGuard};
use super::error::code;
use crate::store::KeyRole;
use crate::write::Writer;
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
    if !valid_name(&name) {
        return Err(coded(
            "a backup name is 1 to 100 letters, digits, '-', '_' or '.', not starting with '.'"
                .into(),
            code::BAD_USER_INPUT,
        ));
    }
    let path = ctx.data_unchecked::<BackupDir>().0.join(&name);
    if path.exists() {
        return Err(coded(
            format!("a backup named '{name}' exists already"),
            code::CONFLICT,
        ));
    }
    let store = ctx.data_unchecked::<Arc<Writer>>().store().clone();
    let target = path.clone();
    let copied = actix_web::rt::task::spawn_blocking(move || {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        store.backup_to(&target).map_err(|e| e.to_string())
    })
    .await;
    match copied {
        Ok(Ok(entries)) => {
            tracing::info!(path = %path.display(), entries, "backup written");
            Ok(Backup {
                path: path.display().to_string(),
                entries: entries as f64,
            })
        }
        Ok(Err(e)) => {
            tracing::error!(path = %path.display(), error = %e, "a backup failed");
            // What was written is incomplete: leave nothing that looks like a backup.
            let _ = std::fs::remove_dir_all(&path);
            Err(coded("internal error".into(), code::INTERNAL))
        }
        Err(e) => {
            tracing::error!(error = %e, "a backup task failed");
            let _ = std::fs::remove_dir_all(&path);
            Err(coded("internal error".into(), code::INTERNAL))
        }
    }
}
