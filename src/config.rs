//! Settings: built-in defaults < config file < DIPLOGRAPH_* environment < command-line flags.
//! Unknown keys are refused, so a typo is an error, not a silent default.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Where `backup` (the CLI, or the createBackup mutation) writes its copies.
    pub backup_dir: PathBuf,
    /// Bytes of store pages kept in memory (sled's page cache).
    pub store_cache_bytes: u64,
    pub workers: usize,
    pub log: String,
    pub log_format: LogFormat,
    pub expose_query_stats: bool,
    /// Serves POST /bench/ceiling, the benchmark's reference for what HTTP alone costs.
    pub bench_routes: bool,
    pub limits: Limits,
    pub auth: Auth,
    pub http: Http,
    pub cache: CacheSettings,
    pub rate_limit: RateLimit,
}

/// Requests each caller may make, as token buckets: `per_second` tokens a second, up to `burst`
/// at once. 0 turns a limit off.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Per API key, for requests that carry one.
    pub per_key_per_second: u32,
    pub per_key_burst: u32,
    /// Per client IP address, for requests without a key.
    pub per_address_per_second: u32,
    pub per_address_burst: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Bytes of encoded read-query responses kept; 0 turns the response cache off.
    pub response_bytes: u64,
    /// Parsed query documents kept; 0 turns the parsed-query cache off.
    pub parsed_queries: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Http {
    /// Origins browsers may call the API from; empty: no CORS headers; ["*"]: any origin.
    pub cors_origins: Vec<String>,
    /// gzip or brotli responses for clients that accept them.
    pub compression: bool,
    /// A JSON file mapping SHA-256 hashes to queries: when set, only those queries run.
    pub persisted_queries_only: Option<PathBuf>,
    /// Queries remembered for automatic persisted queries (APQ).
    pub persisted_query_cache: usize,
    /// Serves the GraphiQL playground at `/`.
    pub playground: bool,
    /// Answers introspection queries (`__schema`, `__type`).
    pub introspection: bool,
    /// Serves `/metrics` and `/healthz` on this address too, and `/metrics` only there.
    pub ops_listen: Option<String>,
    /// `/metrics` needs `Authorization: Bearer <key>` of an admin key.
    pub metrics_need_key: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub open_reads: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_depth: usize,
    /// Complexity budget of a whole request: a batch's operations share it.
    pub max_complexity: usize,
    pub max_body_bytes: usize,
    pub default_page_size: usize,
    pub max_page_size: usize,
    /// Operations in one batched request.
    pub max_batch: usize,
    /// Bytes of response a request may produce (a batch's responses together).
    pub max_response_bytes: usize,
    /// Time a GraphQL operation may run before it is cancelled.
    pub query_timeout_ms: u64,
    /// Time a client has to send a request's headers, and then its body.
    pub request_read_timeout_ms: u64,
    /// Open HTTP connections (WebSockets included), over all workers.
    pub max_connections: usize,
    /// Time a WebSocket has to send `connection_init` (then closed with 4408).
    pub ws_init_timeout_ms: u64,
    /// Bytes of one WebSocket message, continuation frames included.
    pub max_ws_message_bytes: usize,
    /// Subscriptions running at once on one WebSocket.
    pub max_subscriptions_per_connection: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: "diplograph-data".into(),
            backup_dir: "diplograph-backups".into(),
            store_cache_bytes: crate::store::DEFAULT_CACHE_BYTES,
            workers: 0,
            log: "info".into(),
            log_format: LogFormat::Text,
            expose_query_stats: false,
            bench_routes: false,
            limits: Limits {
                max_depth: 16,
                max_complexity: 50_000,
                max_body_bytes: 64 * 1024,
                default_page_size: 20,
                max_page_size: 100,
                max_batch: 10,
                max_response_bytes: 8 * 1024 * 1024,
                query_timeout_ms: 10_000,
                request_read_timeout_ms: 10_000,
                max_connections: 512,
                ws_init_timeout_ms: 10_000,
                max_ws_message_bytes: 64 * 1024,
                max_subscriptions_per_connection: 100,
            },
            auth: Auth { open_reads: true },
            http: Http {
                cors_origins: Vec::new(),
                compression: true,
                persisted_queries_only: None,
                persisted_query_cache: 1000,
                playground: true,
                introspection: true,
                ops_listen: None,
                metrics_need_key: false,
            },
            cache: CacheSettings {
                response_bytes: 64 * 1024 * 1024,
                parsed_queries: 1000,
            },
            rate_limit: RateLimit {
                per_key_per_second: 0,
                per_key_burst: 0,
                per_address_per_second: 0,
                per_address_burst: 0,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("{0}")]
    Load(String),
    #[error("bad value for `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Values given on the command line; each one set overrides every other source.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// The default config file, used when present and no other is named.
pub const DEFAULT_CONFIG: &str = "config/default.toml";

impl Settings {
    /// `config`: a file named by the user must exist; the default one may be absent.
    pub fn load(config: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
        let file = match config {
            Some(path) if !path.exists() => {
                return Err(ConfigError::MissingFile(path.to_path_buf()))
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
        };
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        let settings: Settings = figment
            .merge(
                Env::prefixed("DIPLOGRAPH_")
                    .split("__")
                    .ignore(&["config", "key"]),
            )
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Load(one_line(&e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| ConfigError::Invalid {
            key,
            message: message.to_string(),
        };
        let resolves = self
            .listen
            .to_socket_addrs()
            .is_ok_and(|mut a| a.next().is_some());
        if !resolves {
            return Err(invalid(
                "listen",
                &format!("'{}' is not a host:port address", self.listen),
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        if self.backup_dir.as_os_str().is_empty() {
            return Err(invalid("backup_dir", "must not be empty"));
        }
        if self.store_cache_bytes < 1024 * 1024 {
            return Err(invalid(
                "store_cache_bytes",
                "must be at least 1048576 (1 MiB)",
            ));
        }
        let l = &self.limits;
        if l.max_depth == 0 {
            return Err(invalid("limits.max_depth", "must be at least 1"));
        }
        if l.max_complexity == 0 {
            return Err(invalid("limits.max_complexity", "must be at least 1"));
        }
        if l.max_body_bytes < 1024 {
            return Err(invalid("limits.max_body_bytes", "must be at least 1024"));
        }
        if l.max_page_size == 0 {
            return Err(invalid("limits.max_page_size", "must be at least 1"));
        }
        if l.default_page_size == 0 || l.default_page_size > l.max_page_size {
            return Err(invalid(
                "limits.default_page_size",
                "must be between 1 and limits.max_page_size",
            ));
        }
        let at_least_one = [
            ("limits.max_batch", l.max_batch as u64),
            ("limits.max_response_bytes", l.max_response_bytes as u64),
            ("limits.query_timeout_ms", l.query_timeout_ms),
            ("limits.request_read_timeout_ms", l.request_read_timeout_ms),
            ("limits.max_connections", l.max_connections as u64),
            ("limits.ws_init_timeout_ms", l.ws_init_timeout_ms),
            (
                "limits.max_subscriptions_per_connection",
                l.max_subscriptions_per_connection as u64,
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if l.max_ws_message_bytes < 1024 {
            return Err(invalid(
                "limits.max_ws_message_bytes",
                "must be at least 1024",
            ));
        }
        let r = &self.rate_limit;
        if r.per_key_per_second > 0 && r.per_key_burst == 0 {
            return Err(invalid("rate_limit.per_key_burst", "must be at least 1"));
        }
        if r.per_address_per_second > 0 && r.per_address_burst == 0 {
            return Err(invalid(
                "rate_limit.per_address_burst",
                "must be at least 1",
            ));
        }
        if let Some(ops) = &self.http.ops_listen {
            if !ops.to_socket_addrs().is_ok_and(|mut a| a.next().is_some()) {
                return Err(invalid(
                    "http.ops_listen",
                    &format!("'{ops}' is not a host:port address"),
                ));
            }
        }
        for origin in &self.http.cors_origins {
            let ok =
                origin == "*" || origin.starts_with("http://") || origin.starts_with("https://");
            if !ok {
                return Err(invalid(
                    "http.cors_origins",
                    &format!("'{origin}' is not \"*\" or an http(s) origin"),
                ));
            }
        }
        if let Some(path) = &self.http.persisted_queries_only {
            if !path.exists() {
                return Err(invalid(
                    "http.persisted_queries_only",
                    &format!("{} does not exist", path.display()),
                ));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return Err(invalid(
                "log",
                &format!("'{}' is not a log filter", self.log),
            ));
        }
        Ok(())
    }
}

/// Figment's message names the key and where its value came from; keep it on one line.
fn one_line(e: &figment::Error) -> String {
    e.to_string().lines().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_equals_the_built_in_defaults() {
        let shipped: Settings = Figment::from(Toml::file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/default.toml"
        )))
        .extract()
        .unwrap();
        assert_eq!(shipped, Settings::default());
    }

    #[test]
    // The closure's error type is figment's, not ours.
    #[allow(clippy::result_large_err)]
    fn layers_override_in_order_and_bad_values_name_their_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "listen = \"127.0.0.1:9000\"\n[limits]\nmax_depth = 5\n",
            )?;
            jail.set_env("DIPLOGRAPH_LIMITS__MAX_DEPTH", "7");
            let overrides = Overrides {
                data_dir: Some("x".into()),
                ..Overrides::default()
            };
            let s = Settings::load(Some(Path::new("c.toml")), &overrides).unwrap();
            assert_eq!(s.listen, "127.0.0.1:9000");
            assert_eq!(s.limits.max_depth, 7);
            assert_eq!(s.data_dir, PathBuf::from("x"));

            jail.set_env("DIPLOGRAPH_LIMITS__MAX_DEPTH", "deep");
            let err = Settings::load(Some(Path::new("c.toml")), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.to_lowercase().contains("limits.max_depth"), "{err}");
            assert!(!err.contains('\n'));

            jail.set_env("DIPLOGRAPH_LIMITS__MAX_DEPTH", "3");
            jail.set_env("DIPLOGRAPH_LISTEN", "nowhere");
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("`listen`"), "{err}");

            jail.set_env("DIPLOGRAPH_LISTEN", "127.0.0.1:0");
            jail.set_env("DIPLOGRAPH_COLOUR", "blue");
            let err = Settings::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.to_lowercase().contains("colour"), "{err}");
            Ok(())
        });
    }
}
