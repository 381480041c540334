//! Start-up and shut-down: open the store once, seed it if new, build the search index and the
//! schema once, bind, serve, and flush on the way out.

use crate::cache::{QueryCache, ResponseCache};
use crate::config::Settings;
use crate::graphql::connection::PageLimits;
use crate::graphql::executor::Executor;
use crate::graphql::{build_schemas, QueryLimits};
use crate::http::persisted::PersistedQueries;
use crate::http::rate_limit::RateLimiter;
use crate::http::{self, AppState};
use crate::ingest::dataset::{self, DatasetError, DatasetFiles};
use crate::ingest::write::Writer;
use crate::keyring::KeyRing;
use crate::search::SearchIndex;
use crate::store::{Store, StoreError};
use actix_web::dev::{Server, ServerHandle};
use actix_web::{middleware, web, App, HttpServer};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot open the store in {dir}: {source}")]
    Store { dir: String, source: StoreError },
    #[error("cannot open the search index in {dir}: {source}")]
    Search {
        dir: String,
        source: crate::search::SearchError,
    },
    #[error("the built-in dataset is invalid: {0}")]
    Dataset(#[from] DatasetError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("cannot compact: {0}")]
    Compact(String),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

pub struct Application {
    server: Server,
    port: u16,
    store: Arc<Store>,
    search: Arc<SearchIndex>,
    /// The operations server's port and handle, when `http.ops_listen` is set.
    ops: Option<(u16, ServerHandle)>,
}

/// `/healthz` and `/metrics` on an address of their own, with one worker and connections of
/// their own, so that clients flooding the API's address cannot starve the health check.
fn ops_server(address: &str, state: web::Data<AppState>) -> Result<(u16, ServerHandle), AppError> {
    let listener = TcpListener::bind(address).map_err(|source| AppError::Bind {
        addr: address.to_string(),
        source,
    })?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(http::ops_routes)
    })
    .workers(1)
    .max_connections(64)
    .client_request_timeout(std::time::Duration::from_secs(5))
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    tracing::info!(
        port,
        "serving /healthz and /metrics on the operations address"
    );
    Ok((port, handle))
}

/// Opens the store and seeds it with the built-in dataset when it has none yet.
pub fn open_store(settings: &Settings) -> Result<Arc<Store>, AppError> {
    open_store_seeding(settings, true)
}

/// Opens the store; a new one gets the built-in dataset with `seed`, and otherwise remembers
/// that it goes without (so a later open never seeds over what was imported).
pub fn open_store_seeding(settings: &Settings, seed: bool) -> Result<Arc<Store>, AppError> {
    let store_error = |source| AppError::Store {
        dir: settings.data_dir.display().to_string(),
        source,
    };
    let store = Store::open_with_cache(&settings.data_dir, settings.store_cache_bytes)
        .map_err(store_error)?;
    clear_unfinished_compaction(&settings.data_dir);
    if !store.is_seeded().map_err(store_error)? {
        // Holding entities without the marker: made by an older build's `--no-builtin` import.
        if !seed || store.holds_entities().map_err(store_error)? {
            store.mark_seeded_without_builtin().map_err(store_error)?;
            tracing::info!("this store keeps only what is imported into it: no built-in dataset");
            return Ok(Arc::new(store));
        }
        let graph = dataset::load(&DatasetFiles::builtin())?;
        store.seed(&graph).map_err(store_error)?;
        tracing::info!(
            statements = graph.statements.len(),
            countries = graph.countries.len(),
            "seeded the store with the built-in dataset"
        );
    }
    Ok(Arc::new(store))
}

/// sled's page cache during a bulk load. sled's memory grows with its cache, but a small cache
/// makes every check of a reference read its page back from the log. Scale 100, packed
/// references: 64 MiB took 3 min 5 s and peaked at 0.63 GiB; 128 MiB, 2 min 36 s and 0.65 GiB
/// (the compaction after it included); 256 MiB, 2 min 16 s and 0.84 GiB.
pub const BULK_LOAD_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The settings a bulk load runs with: the configured ones, with a small page cache.
pub fn for_bulk_load(settings: &Settings) -> Settings {
    Settings {
        store_cache_bytes: settings.store_cache_bytes.min(BULK_LOAD_CACHE_BYTES),
        ..settings.clone()
    }
}

/// A bulk load under way: the writer its lines are committed through, which the search index
/// follows as they land (indexing on a thread of its own, beside the load), committed once at
/// the end by `close_after_load` or `settle_after_load`.
pub struct BulkLoad {
    pub writer: Writer,
    search: Arc<SearchIndex>,
}

/// Starts a bulk load into `store` (opened with `for_bulk_load`'s settings): opens the search
/// index, level with the store, to follow it.
pub fn begin_load(settings: &Settings, store: &Arc<Store>) -> Result<BulkLoad, AppError> {
    let search = open_search(settings, store)?;
    search.begin_bulk_load();
    without_huge_pages();
    Ok(BulkLoad {
        writer: Writer::new(store.clone(), Some(search.clone())),
        search,
    })
}

/// A bulk load's process allocates and frees sled's node copies at a high rate, and the
/// allocator gives freed memory back to the kernel in pieces: with transparent huge pages, each
/// piece taken again is a huge page zeroed anew. The load runs in a process of its own (the
/// CLI's import, the bench's), so the setting does not reach a server.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        tracing::debug!(error = %e, "transparent huge pages stay on");
    }
}

/// After a bulk load: commits the search index, then closes the store and opens it once more,
/// so that sled replays its log and writes a snapshot now rather than at the server's first
/// start (at scale 100 that first start took 5.3 s instead of 1.1 s). `store` must be the last
/// handle on it.
pub fn settle_after_load(
    settings: &Settings,
    store: Arc<Store>,
    load: BulkLoad,
) -> Result<(), AppError> {
    close_after_load(settings, store, load)?;
    Store::open_with_cache(&settings.data_dir, settings.store_cache_bytes).map_err(|source| {
        AppError::Store {
            dir: settings.data_dir.display().to_string(),
            source,
        }
    })?;
    Ok(())
}

/// After a bulk load that a compaction follows (which leaves the store settled itself):
/// commits the search index, flushes and closes the store. `store` must be the last handle on
/// it.
pub fn close_after_load(
    settings: &Settings,
    store: Arc<Store>,
    load: BulkLoad,
) -> Result<(), AppError> {
    let store_error = |source| AppError::Store {
        dir: settings.data_dir.display().to_string(),
        source,
    };
    let BulkLoad { writer, search } = load;
    drop(writer);
    // The facts first: an index committed ahead of its store is rebuilt on open anyway.
    store.flush().map_err(store_error)?;
    let sequence = store.sequence().map_err(store_error)?;
    search
        .end_bulk_load(sequence)
        .map_err(|source| AppError::Search {
            dir: settings.data_dir.join("search").display().to_string(),
            source,
        })
    // The index's writer, and with it its lock, goes with the last handle, here.
}

/// Whether `dir` holds a store already (sled's data file is there).
pub fn holds_store(dir: &Path) -> bool {
    dir.join("db").exists()
}

/// The page cache of the store a compaction reads.
const COMPACT_SOURCE_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// What a compaction did, in bytes on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub entries: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Rewrites the data dir so that it takes less space (the server must be stopped: the store's
/// lock is held throughout, so nothing writes to the old copy meanwhile). The new copy is
/// built beside the data dir, checked, and swapped in with one atomic exchange of the two
/// directories: a crash at any point leaves one complete store at the data dir's path.
pub fn compact(settings: &Settings) -> Result<Compaction, AppError> {
    if !holds_store(&settings.data_dir) {
        return Err(AppError::Compact(format!(
            "{} holds no store",
            settings.data_dir.display()
        )));
    }
    // Absolute, so that the staging dir is a sibling whatever the path looks like ("." too).
    let dir = &std::fs::canonicalize(&settings.data_dir)?;
    let store_error = |source| AppError::Store {
        dir: dir.display().to_string(),
        source,
    };
    // Read once, in order: a small page cache will do, and sled's memory grows with it.
    let store = Store::open_with_cache(dir, COMPACT_SOURCE_CACHE_BYTES).map_err(store_error)?;
    // Level, so that the index copied along matches the copied store.
    drop(open_search(settings, &store)?);
    let bytes_before = dir_size(dir);
    let staging = compaction_staging(dir);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let entries = store.copy_compacted(&staging).map_err(store_error)?;
    copy_dir(&dir.join("search"), &staging.join("search"))?;
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        &staging,
        rustix::fs::CWD,
        dir,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(|e| {
        AppError::Compact(format!(
            "could not swap the compacted copy in ({e}); the store in {} is unchanged, the copy is in {}",
            dir.display(),
            staging.display()
        ))
    })?;
    drop(store);
    match std::fs::remove_dir_all(&staging) {
        // Cleared already by a store opened at `dir` meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => other?,
    }
    // Opened once now, so that sled writes its snapshot here rather than at the next start.
    drop(Store::open_with_cache(dir, BULK_LOAD_CACHE_BYTES).map_err(store_error)?);
    Ok(Compaction {
        entries,
        bytes_before,
        bytes_after: dir_size(dir),
    })
}

/// Where a compaction of `dir` builds its copy: a hidden sibling.
fn compaction_staging(dir: &Path) -> std::path::PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    dir.with_file_name(format!(".{name}.compacting"))
}

/// Removes what a compaction that was killed left beside the data dir: before its swap a
/// partial copy, after it the old store. Either way the store at the data dir is complete, and
/// holding its lock (the caller has opened it) means no compaction of it is running.
fn clear_unfinished_compaction(data_dir: &Path) {
    let Ok(dir) = std::fs::canonicalize(data_dir) else {
        return;
    };
    let staging = compaction_staging(&dir);
    if staging.exists() {
        match std::fs::remove_dir_all(&staging) {
            Ok(()) => tracing::info!(
                path = %staging.display(),
                "removed the copy an unfinished compaction left"
            ),
            Err(e) => tracing::warn!(
                path = %staging.display(),
                error = %e,
                "could not remove the copy an unfinished compaction left"
            ),
        }
    }
}

/// The bytes of the files under `path`.
pub fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Copies the files of `from` (one level: the search index has no subdirs) into a new `to`,
/// each synced to disk.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            let target = to.join(entry.file_name());
            std::fs::copy(entry.path(), &target)?;
            std::fs::File::open(&target)?.sync_all()?;
        }
    }
    Ok(())
}

/// Opens the search index beside the store; one behind its store is rebuilt first.
pub fn open_search(settings: &Settings, store: &Store) -> Result<Arc<SearchIndex>, AppError> {
    let dir = settings.data_dir.join("search");
    SearchIndex::open(&dir, store)
        .map(Arc::new)
        .map_err(|source| AppError::Search {
            dir: dir.display().to_string(),
            source,
        })
}

impl Application {
    /// Everything but serving; must run inside an actix system (the server is spawned there).
    pub fn build(settings: &Settings) -> Result<Application, AppError> {
        let store = open_store(settings)?;
        let search = open_search(settings, &store)?;
        let limits = &settings.limits;
        let keys = Arc::new(
            KeyRing::load(store.clone()).map_err(|source| AppError::Store {
                dir: settings.data_dir.display().to_string(),
                source,
            })?,
        );
        let writer = Arc::new(Writer::new(store.clone(), Some(search.clone())));
        let schemas = build_schemas(
            search.clone(),
            writer.clone(),
            crate::graphql::Operations {
                keys: keys.clone(),
                backup_dir: settings.backup_dir.clone(),
            },
            QueryLimits {
                max_depth: limits.max_depth,
                max_complexity: limits.max_complexity,
                pages: PageLimits {
                    default_size: limits.default_page_size,
                    max_size: limits.max_page_size,
                },
                introspection: settings.http.introspection,
            },
        )?;
        let persisted = match &settings.http.persisted_queries_only {
            Some(path) => PersistedQueries::allow_list(path).map_err(AppError::Config)?,
            None => PersistedQueries::automatic(settings.http.persisted_query_cache),
        };
        let metrics = Arc::new(crate::http::metrics::Metrics::default());
        let executor = Executor::new(
            schemas.clone(),
            store.clone(),
            QueryCache::new(settings.cache.parsed_queries),
            ResponseCache::new(settings.cache.response_bytes, writer.generations()),
            settings.expose_query_stats,
            std::time::Duration::from_millis(limits.query_timeout_ms),
            settings.http.introspection,
        );
        let state = web::Data::new(AppState {
            schema: schemas.single,
            store: store.clone(),
            limits: limits.clone(),
            open_reads: settings.auth.open_reads,
            persisted,
            metrics: metrics.clone(),
            executor,
            rate_limiter: RateLimiter::new(&settings.rate_limit),
            metrics_need_key: settings.http.metrics_need_key,
            keys,
        });
        let listener = TcpListener::bind(&settings.listen).map_err(|source| AppError::Bind {
            addr: settings.listen.clone(),
            source,
        })?;
        let port = listener.local_addr()?.port();
        let cors_origins = settings.http.cors_origins.clone();
        let compression = settings.http.compression;
        let bench_routes = settings.bench_routes;
        let playground = settings.http.playground;
        let metrics_here = settings.http.ops_listen.is_none();
        let api_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(api_state.clone())
                .wrap(middleware::Condition::new(
                    compression,
                    middleware::Compress::default(),
                ))
                // With no origins configured, no CORS layer at all: it would refuse the
                // playground's own requests, which carry an Origin header.
                .wrap(middleware::Condition::new(
                    !cors_origins.is_empty(),
                    http::cors(&cors_origins),
                ))
                .wrap(middleware::from_fn({
                    let metrics = metrics.clone();
                    move |req, next| http::request_log(metrics.clone(), req, next)
                }))
                .configure(|cfg| {
                    if bench_routes {
                        http::bench_routes(cfg);
                    }
                    http::routes(cfg, playground, metrics_here);
                })
        });
        let workers = match settings.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let read_timeout = std::time::Duration::from_millis(limits.request_read_timeout_ms);
        server = server
            .workers(workers)
            // actix counts connections per worker.
            .max_connections(limits.max_connections.div_ceil(workers).max(1))
            .client_request_timeout(read_timeout)
            .client_disconnect_timeout(std::time::Duration::from_secs(1));
        let server = server.listen(listener)?.run();
        let ops = match &settings.http.ops_listen {
            Some(address) => Some(ops_server(address, state)?),
            None => None,
        };
        tracing::info!(port, "serving GraphQL at /graphql, the playground at /");
        Ok(Application {
            server,
            port,
            store,
            search,
            ops,
        })
    }

    /// The port of the operations address (`http.ops_listen`), if one is set.
    pub fn ops_port(&self) -> Option<u16> {
        self.ops.as_ref().map(|(port, _)| *port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from another task or thread (tests; SIGINT/SIGTERM do it by themselves).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, then flushes the store and closes it.
    pub async fn run_until_stopped(self) -> Result<(), AppError> {
        self.server.await?;
        if let Some((_, ops)) = &self.ops {
            ops.stop(true).await;
        }
        // Workers drop their handles on the store a moment after the server future ends; wait,
        // so that the store is closed (and sled's lock released) when this returns.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&self.store) > 1 && std::time::Instant::now() < deadline {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        if Arc::strong_count(&self.store) > 1 {
            tracing::warn!("workers still hold the store after shutdown");
        }
        self.store.flush().map_err(|source| AppError::Store {
            dir: "(flush on exit)".into(),
            source,
        })?;
        // Writes of kinds the index does not hold moved the store's sequence on alone.
        let recorded = self
            .store
            .sequence()
            .map_err(|e| e.to_string())
            .and_then(|sequence| {
                self.search
                    .record_sequence(sequence)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "the search index's sequence was not recorded: it is rebuilt on the next start");
        }
        tracing::info!("stopped; store flushed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn a_bulk_load_turns_transparent_huge_pages_off_for_its_process() {
        // Where the kernel refuses the call (a sandbox), a load goes on as it is: nothing to see.
        if rustix::thread::transparent_huge_pages_are_disabled().is_err() {
            return;
        }
        super::without_huge_pages();
        assert_eq!(
            rustix::thread::transparent_huge_pages_are_disabled().ok(),
            Some(true)
        );
    }
}
