//! Backups and restores, as the CLI runs them: a backup through a running server's API, or of
//! a stopped server's data dir; a restore that checks the backup and swaps it in atomically.

use crate::app::{holds_store, AppError};
use crate::config::Settings;
use crate::graphql::backup::valid_name;
use crate::store::Store;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("a backup name is 1 to 100 letters, digits, '-', '_' or '.', not starting with '.'")]
    BadName,
    #[error("a backup named '{0}' exists already")]
    Exists(String),
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
    let store = open_existing(settings)?;
    write_backup(&store, &settings.backup_dir, name)
}

/// Opens the store of a data dir that holds one, without seeding it or marking it (`check`,
/// `backup`: a mistyped data dir must not become an empty store that never gets seeded).
pub fn open_existing(settings: &Settings) -> Result<Store, OpsError> {
    if !holds_store(&settings.data_dir) {
        return Err(OpsError::Refused(format!(
            "{} holds no store",
            settings.data_dir.display()
        )));
    }
    Store::open_with_cache(&settings.data_dir, settings.store_cache_bytes).map_err(|source| {
        OpsError::App(AppError::Store {
            dir: settings.data_dir.display().to_string(),
            source,
        })
    })
}

/// Writes a consistent copy of `store` to `<backup_dir>/<name>` (blocking: writes wait for
/// it). It is built under a name of its own and renamed into place only when complete, and
/// never over an existing backup: two backups of one name cannot clobber each other, and a
/// failed one leaves nothing behind.
pub fn write_backup(store: &Store, backup_dir: &Path, name: &str) -> Result<BackupDone, OpsError> {
    if !valid_name(name) {
        return Err(OpsError::BadName);
    }
    std::fs::create_dir_all(backup_dir)
        .map_err(io(format!("creating {}", backup_dir.display())))?;
    let path = backup_dir.join(name);
    if path.exists() {
        return Err(OpsError::Exists(name.to_string()));
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let partial = backup_dir.join(format!(
        ".{name}.partial-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = store.backup_to(&partial).map_err(|source| AppError::Store {
        dir: partial.display().to_string(),
        source,
    });
    let entries = match written {
        Ok(entries) => entries,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e.into());
        }
    };
    let renamed = rustix::fs::renameat_with(
        rustix::fs::CWD,
        &partial,
        rustix::fs::CWD,
        &path,
        rustix::fs::RenameFlags::NOREPLACE,
    );
    if let Err(e) = renamed {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(if e == rustix::io::Errno::EXIST {
            OpsError::Exists(name.to_string())
        } else {
            OpsError::Refused(format!("could not put the backup in place: {e}"))
        });
    }
    sync_dir(backup_dir);
    Ok(BackupDone { path, entries })
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
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
    // Its lock, held until the swap: no server may start on it meanwhile.
    let held = if occupied {
        Some(open_existing(settings)?)
    } else {
        None
    };
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let dir = std::fs::canonicalize(dir).map_err(io(format!("reading {}", dir.display())))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    let staging = dir.with_file_name(format!(".{name}.restoring"));
    if staging.exists() {
        // Left by a restore that stopped: before its swap a partial copy, after it the store
        // that was replaced. Whatever it is, it is kept under a name of its own, not deleted:
        // it may be the only copy of the store that was replaced.
        let kept = dir.with_file_name(format!(
            "{name}.before-restore-{}",
            crate::store::keys::now_ms()
        ));
        std::fs::rename(&staging, &kept).map_err(io(format!("keeping {}", staging.display())))?;
        tracing::warn!(path = %kept.display(), "kept what an unfinished restore left");
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
    drop(held);
    if let Some(parent) = dir.parent() {
        sync_dir(parent);
    }
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
