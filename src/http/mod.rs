//! HTTP wiring: routes, request parsing and response encoding. No business logic.

mod graphql;
pub mod metrics;
pub mod persisted;
mod playground;
pub mod rate_limit;
mod websocket;

use crate::graphql::DiplographSchema;
use crate::store::Store;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{guard, web, HttpResponse};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// What every handler shares; built once, before the workers start.
pub struct AppState {
    pub schema: DiplographSchema,
    pub store: Arc<Store>,
    pub limits: crate::config::Limits,
    /// Whether queries need no key.
    pub open_reads: bool,
    pub persisted: persisted::PersistedQueries,
    pub metrics: Arc<metrics::Metrics>,
    pub executor: crate::graphql::executor::Executor,
    pub rate_limiter: rate_limit::RateLimiter,
    /// `/metrics` needs an admin key.
    pub metrics_need_key: bool,
    /// The API keys accepted, kept in memory.
    pub keys: Arc<crate::keyring::KeyRing>,
}

/// The id `request_log` gives a request, for handlers to quote.
#[derive(Clone, Copy, Debug)]
pub struct RequestId(pub u64);

/// The benchmark's ceiling: a fixed, pre-built JSON body of the requested size, after reading
/// the request body (skipping it would let actix close connections and flatter the figure).
async fn ceiling(
    query: web::Query<std::collections::HashMap<String, usize>>,
    _body: web::Bytes,
) -> HttpResponse {
    static BODIES: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<usize, web::Bytes>>,
    > = std::sync::OnceLock::new();
    let size = query
        .get("bytes")
        .copied()
        .unwrap_or(1024)
        .clamp(32, 16 << 20);
    let body = {
        let mut bodies = BODIES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        bodies
            .entry(size)
            .or_insert_with(|| {
                let pad = "x".repeat(size - 24);
                web::Bytes::from(format!("{{\"data\":{{\"pad\":\"{pad}\"}}}}"))
            })
            .clone()
    };
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

/// Routes only the benchmark uses.
pub fn bench_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/bench/ceiling", web::post().to(ceiling));
}

/// The API's routes; `playground` adds GraphiQL at `/`, `ops` `/metrics` (with `/healthz`
/// always there: a load balancer asks the API's own address).
pub fn routes(cfg: &mut web::ServiceConfig, playground: bool, ops: bool) {
    cfg.route("/graphql", web::post().to(graphql::post))
        .route(
            "/graphql",
            web::get()
                .guard(guard::fn_guard(|ctx| {
                    ctx.head()
                        .headers()
                        .get("upgrade")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
                }))
                .to(websocket::upgrade),
        )
        .route("/graphql", web::get().to(graphql::get))
        .route("/graphql", web::to(graphql::method_not_allowed))
        .route("/healthz", web::get().to(healthz));
    if ops {
        cfg.route("/metrics", web::get().to(metrics_text));
    }
    if playground {
        cfg.route("/", web::get().to(playground::page))
            .route("/assets/graphiql/{file}", web::get().to(playground::asset));
    }
}

/// The routes of the operations address (`http.ops_listen`).
pub fn ops_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics_text));
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.is_seeded() {
        Ok(true) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Ok(false) => {
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "seeding" }))
        }
        Err(e) => {
            tracing::error!(error = %e, "health check could not read the store");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "store unavailable" }))
        }
    }
}

/// CORS as configured: no headers for an empty list, any origin for ["*"].
pub fn cors(origins: &[String]) -> actix_cors::Cors {
    let cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::ACCEPT,
        ])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return cors.allow_any_origin();
    }
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

async fn metrics_text(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    if state.metrics_need_key {
        let caller = graphql::caller(&state, &req);
        if let Err(e) =
            crate::graphql::auth::RoleGuard(crate::store::KeyRole::Admin).check_caller(&caller)
        {
            let code = match &caller {
                crate::graphql::auth::Caller::Key(_) => actix_web::http::StatusCode::FORBIDDEN,
                _ => actix_web::http::StatusCode::UNAUTHORIZED,
            };
            return HttpResponse::build(code).json(serde_json::json!({
                "errors": [{ "message": e.message, "extensions": { "code": if code == actix_web::http::StatusCode::FORBIDDEN { "FORBIDDEN" } else { "UNAUTHENTICATED" } } }]
            }));
        }
    }
    let size = state.store.size_on_disk().unwrap_or(0);
    match state.metrics.encode(size) {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Gives each request an id (echoed in `x-request-id`), one log line with its outcome, and
/// counts it in the metrics.
pub async fn request_log(
    metrics: Arc<metrics::Metrics>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(id));
    // Below `info` there is no line to write: no span to enter at each poll, no clock to read.
    let mut res = if tracing::enabled!(tracing::Level::INFO) {
        let span = tracing::info_span!("request", id, method = %req.method(), path = %req.path());
        let started = Instant::now();
        let res = next.call(req).instrument(span.clone()).await?;
        span.in_scope(|| {
            tracing::info!(
                status = res.status().as_u16(),
                micros = started.elapsed().as_micros() as u64,
                "served"
            )
        });
        res
    } else {
        next.call(req).await?
    };
    let status = res.status().as_u16();
    // The route pattern, not the path: paths are unbounded, patterns are few.
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    metrics.request(res.request().method().as_str(), &route, status);
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
