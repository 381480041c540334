//! Prometheus metrics (OpenMetrics text at /metrics): HTTP requests, GraphQL operation latency
//! by operation name, GraphQL errors by code, and the store's size.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    code: String,
}

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;

/// Distinct operation names kept as labels; more become "other", so that clients cannot grow
/// the metrics without bound.
const MAX_OPERATION_NAMES: usize = 200;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    errors: Family<ErrorLabels, Counter>,
    cache: Family<CacheLabels, Counter>,
    store_bytes: Gauge<u64, AtomicU64>,
    operation_names: Mutex<HashSet<String>>,
}

fn latency_histogram() -> Histogram {
    // 0.1 ms to about 3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("diplograph");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let errors = Family::<ErrorLabels, Counter>::default();
        let store_bytes = Gauge::<u64, AtomicU64>::default();
        let cache = Family::<CacheLabels, Counter>::default();
        registry.register(
            "response_cache",
            "Cacheable read queries answered from the response cache (hit) or run (miss)",
            cache.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "graphql_operation_seconds",
            "GraphQL operation latency by operation name",
            latency.clone(),
        );
        registry.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            errors.clone(),
        );
        registry.register(
            "store_size_bytes",
            "Size of the store on disk",
            store_bytes.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            cache,
            store_bytes,
            operation_names: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
    }

    pub fn operation(&self, name: Option<&str>, seconds: f64) {
        let operation = self.label_for(name);
        self.latency
            .get_or_create(&OperationLabels { operation })
            .observe(seconds);
    }

    pub fn cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.cache.get_or_create(&CacheLabels { result }).inc();
    }

    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&ErrorLabels {
                code: code.to_string(),
            })
            .inc();
    }

    fn label_for(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) else {
            return "anonymous".into();
        };
        let mut names = self
            .operation_names
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if names.contains(name) || names.len() < MAX_OPERATION_NAMES {
            names.insert(name.to_string());
            name.to_string()
        } else {
            "other".into()
        }
    }

    /// The text exposition, with the store's size read now.
    pub fn encode(&self, store_bytes: u64) -> Result<String, std::fmt::Error> {
        self.store_bytes.set(store_bytes);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_and_sanitized() {
        let m = Metrics::default();
        assert_eq!(m.label_for(None), "anonymous");
        assert_eq!(m.label_for(Some("bad name!")), "anonymous");
        for i in 0..MAX_OPERATION_NAMES {
            assert_eq!(m.label_for(Some(&format!("Op{i}"))), format!("Op{i}"));
        }
        assert_eq!(m.label_for(Some("OneTooMany")), "other");
        assert_eq!(m.label_for(Some("Op0")), "Op0");
        m.request("GET", "/healthz", 200);
        m.operation(Some("Op0"), 0.002);
        m.error("BAD_USER_INPUT");
        let text = m.encode(1234).unwrap();
        for needle in [
            "diplograph_http_requests_total",
            "diplograph_graphql_operation_seconds_bucket",
            "code=\"BAD_USER_INPUT\"",
            "diplograph_store_size_bytes 1234",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
