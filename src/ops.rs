//! Backups and restores, as the CLI runs them: a backup through a running server's API, or of
//! a stopped server's data dir; a restore that checks the backup and swaps it in atomically.

use crate::app::{holds_store, open_store_seeding, AppError};
use crate::config::Settings;
use crate::graphql::backup::valid_name;
use crate::store::Store;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("{0}")]
    Refused(String),
    #[error("the server answered: {0}")]
    Server(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> OpsError {
    let what = what.into();
    move |source| OpsError::Io { what, source }
}

/// A backup written.
#[derive(Debug)]
pub struct BackupDone {
    pub path: PathBuf,
    pub entries: u64,
}

/// Asks the server at `server` (its base URL) to write a backup named `name`.
pub fn backup_through_api(
    server: &str,
    key: Option<&str>,
    name: &str,
) -> Result<BackupDone, OpsError> {
    let key = key.ok_or_else(|| {
        OpsError::Refused("--server needs an admin key: --key or DIPLOGRAPH_KEY".into())
    })?;
    let body = serde_json::json!({
        "query": "mutation($name: String!) { createBackup(name: $name) { path entries } }",
        "variables": { "name": name },
    });
    let url = format!("{}/graphql", server.trim_end_matches('/'));
    let response: serde_json::Value = match ureq::post(&url)
        .set("Authorization", &format!("Bearer {key}"))
        .send_json(body)
    {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r
            .into_json()
            .map_err(io(format!("reading the answer of {url}")))?,
        Err(e) => return Err(OpsError::Server(format!("{url}: {e}"))),
    };
    if let Some(error) = response["errors"].get(0) {
        return Err(OpsError::Server(format!(
            "{} ({})",
            error["message"].as_str().unwrap_or("an error"),
            error["extensions"]["code"].as_str().unwrap_or("no code")
        )));
    }
    let backup = &response["data"]["createBackup"];
    Ok(BackupDone {
        path: PathBuf::from(backup["path"].as_str().unwrap_or_default()),
        entries: backup["entries"].as_f64().unwrap_or(0.0) as u64,
    })
}

/// Writes a backup of the data dir (the server must be stopped: this opens the store).
pub fn backup_offline(settings: &Settings, name: &str) -> Result<BackupDone, OpsError> {
    if !valid_name(name) {
        return Err(OpsError::Refused(
            "a backup name is 1 to 100 letters, digits, '-', '_' or '.', not starting with '.'"
                .into(),
        ));
    }
    let path = settings.backup_dir.join(name);
    if path.exists() {
        return Err(OpsError::Refused(format!(
            "{} exists already",
            path.display()
        )));
    }
    std::fs::create_dir_all(&settings.backup_dir)
        .map_err(io(format!("creating {}", settings.backup_dir.display())))?;
    let store = open_store_seeding(settings, false)?;
    let entries = store.backup_to(&path).map_err(|source| AppError::Store {
        dir: path.display().to_string(),
        source,
    })?;
    Ok(BackupDone { path, entries })
}

/// A restore done.
#[derive(Debug)]
pub struct Restored {
    pub entities: u64,
    /// Where the store that was at the data dir went, if there was one.
    pub replaced: Option<PathBuf>,
}

/// Checks the backup in `from`, copies it beside the data dir and swaps it in with one atomic
/// exchange; a store already at the data dir is replaced only with `force`, and kept beside it.
pub fn restore(settings: &Settings, from: &Path, force: bool) -> Result<Restored, OpsError> {
    if !holds_store(from) {
        return Err(OpsError::Refused(format!(
            "{} holds no store",
            from.display()
        )));
    }
    let report = {
        let backup =
            Store::open_with_cache(from, 16 * 1024 * 1024).map_err(|source| AppError::Store {
                dir: from.display().to_string(),
                source,
            })?;
        backup.check().map_err(|source| AppError::Store {
            dir: from.display().to_string(),
            source,
        })?
    };
    if !report.is_clean() {
        return Err(OpsError::Refused(format!(
            "the backup in {} is damaged ({} findings, the first: {}); `diplograph check --data-dir {}` lists them",
            from.display(),
            report.damage_count,
            report.damage.first().map_or("", String::as_str),
            from.display()
        )));
    }
    let dir = &settings.data_dir;
    let occupied = holds_store(dir);
    if occupied && !force {
        return Err(OpsError::Refused(format!(
            "{} holds a store; --force replaces it (and keeps it beside)",
            dir.display()
        )));
    }
    if occupied {
        // Its lock: no server may be running on it.
        drop(open_store_seeding(settings, false)?);
    }
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let dir = std::fs::canonicalize(dir).map_err(io(format!("reading {}", dir.display())))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let staging = dir.with_file_name(format!(".{name}.restoring"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(format!("clearing {}", staging.display())))?;
    }
    copy_tree(from, &staging).map_err(io(format!("copying {}", from.display())))?;
    // The data dir's path holds a complete store at every moment: the old one, then the new.
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        &staging,
        rustix::fs::CWD,
        &dir,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(|e| {
        OpsError::Refused(format!(
            "could not swap the restored copy in ({e}); {} is unchanged",
            dir.display()
        ))
    })?;
    let replaced = if occupied {
        let stamp = crate::store::keys::now_ms();
        let kept = dir.with_file_name(format!("{name}.before-restore-{stamp}"));
        std::fs::rename(&staging, &kept).map_err(io(format!("keeping {}", staging.display())))?;
        Some(kept)
    } else {
        std::fs::remove_dir_all(&staging).map_err(io(format!("clearing {}", staging.display())))?;
        None
    };
    Ok(Restored {
        entities: report.entities,
        replaced,
    })
}

/// Copies the files under `from` into a new `to`, each synced to disk.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            std::fs::File::open(&target)?.sync_all()?;
        }
    }
    std::fs::File::open(to)?.sync_all()
}
