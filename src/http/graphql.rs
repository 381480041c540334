//! GraphQL over HTTP: POST with a JSON body (one request or a batch), GET with the query in
//! the URL. Malformed requests get a 4xx with a JSON `errors` body; GraphQL errors carry
//! `extensions.code`.

use super::rate_limit::Client;
use super::{AppState, RequestId};
use crate::graphql::auth::{bearer_secret, Caller, RoleGuard};
use crate::graphql::budget::BatchBudget;
use crate::graphql::error::code;
use crate::graphql::executor::{CacheUse, Call, Executed};
use crate::store::KeyRole;
use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use async_graphql::futures_util::StreamExt;
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Response, Value};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub(super) fn error_body(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .json(serde_json::json!({
            "errors": [{ "message": message, "extensions": { "code": code } }]
        }))
}

pub async fn method_not_allowed() -> HttpResponse {
    let mut res = error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        code::BAD_REQUEST,
        "use GET or POST on /graphql",
    );
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
    res
}

/// Whether the client asked for the GraphQL-over-HTTP media type rather than plain JSON.
fn wants_graphql_response(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            let json_first = accept.find("application/json");
            match accept.find(GRAPHQL_RESPONSE) {
                Some(i) => json_first.is_none_or(|j| i < j),
                None => false,
            }
        })
}

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != GRAPHQL_RESPONSE {
        return error_body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::BAD_REQUEST,
            "POST /graphql needs Content-Type: application/json",
        );
    }
    let limit = state.limits.max_body_bytes;
    let too_large = || {
        error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            &format!("request body over the limit of {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let mut body = web::BytesMut::new();
    let read_timeout = std::time::Duration::from_millis(state.limits.request_read_timeout_ms);
    let read = actix_web::rt::time::timeout(read_timeout, async {
        while let Some(chunk) = payload.next().await {
            match chunk {
                Ok(chunk) if body.len() + chunk.len() > limit => return Err(too_large()),
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(e) => {
                    return Err(error_body(
                        StatusCode::BAD_REQUEST,
                        code::BAD_REQUEST,
                        &format!("could not read the body: {e}"),
                    ))
                }
            }
        }
        Ok(())
    })
    .await;
    match read {
        Ok(Ok(())) => {}
        Ok(Err(refused)) => return refused,
        // A client trickling its body holds a connection: cut it off.
        Err(_) => {
            let mut res = error_body(
                StatusCode::REQUEST_TIMEOUT,
                code::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} ms",
                    read_timeout.as_millis()
                ),
            );
            res.head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
            return res;
        }
    }
    let batch = match parse_body(&body) {
        Ok(batch) => batch,
        Err(message) => return error_body(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message),
    };
    execute(&state, &req, batch).await
}

/// A JSON request, or a list of them; each must have a `query` string (async-graphql would
/// default a missing one to "" and report a parse error, which hides the client's mistake).
fn parse_body(body: &[u8]) -> Result<BatchRequest, String> {
    // The common case in one pass; anything that needs a closer look (an empty query, which may
    // be a missing one, or a body that does not deserialize) takes the checked path below.
    if let Ok(batch) = serde_json::from_slice::<BatchRequest>(body) {
        let complete = |r: &async_graphql::Request| !r.query.is_empty();
        let all_complete = match &batch {
            BatchRequest::Single(request) => complete(request),
            BatchRequest::Batch(requests) => !requests.is_empty() && requests.iter().all(complete),
        };
        if all_complete {
            return Ok(batch);
        }
    }
    parse_body_checked(body)
}

fn parse_body_checked(body: &[u8]) -> Result<BatchRequest, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let requests = match &value {
        serde_json::Value::Array(items) if items.is_empty() => return Err("an empty batch".into()),
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for request in requests {
        let has_query = request.get("query").is_some_and(|q| q.is_string());
        let persisted = request
            .get("extensions")
            .and_then(|e| e.get("persistedQuery"))
            .is_some();
        if !has_query && !persisted {
            return Err("a GraphQL request is a JSON object with a `query` string".into());
        }
    }
    serde_json::from_value(value).map_err(|e| format!("the body is not a GraphQL request: {e}"))
}

/// The parameters of a GET request, as GraphQL-over-HTTP names them.
fn parse_get(query_string: &str) -> Result<async_graphql::Request, String> {
    let params = web::Query::<std::collections::HashMap<String, String>>::from_query(query_string)
        .map_err(|e| format!("the query string cannot be read: {e}"))?
        .into_inner();
    let json = |name: &str| -> Result<Option<serde_json::Value>, String> {
        params
            .get(name)
            .map(|v| serde_json::from_str(v).map_err(|e| format!("`{name}` is not JSON: {e}")))
            .transpose()
    };
    let mut request = async_graphql::Request::new(params.get("query").cloned().unwrap_or_default());
    request.operation_name = params.get("operationName").cloned();
    if let Some(variables) = json("variables")? {
        request.variables = async_graphql::Variables::from_json(variables);
    }
    if let Some(serde_json::Value::Object(extensions)) = json("extensions")? {
        for (k, v) in extensions {
            request
                .extensions
                .insert(k, Value::from_json(v).unwrap_or(Value::Null));
        }
    }
    if request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery") {
        return Err("GET /graphql needs a non-empty ?query= parameter".into());
    }
    Ok(request)
}

pub async fn get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    // A query in the URL is bounded like one in a body.
    let limit = state.limits.max_body_bytes;
    if req.query_string().len() > limit {
        return error_body(
            StatusCode::URI_TOO_LONG,
            code::PAYLOAD_TOO_LARGE,
            &format!(
                "the query string is over the limit of {limit} bytes: send a long query by POST"
            ),
        );
    }
    let mut request = match parse_get(req.query_string()) {
        Ok(request) => request,
        Err(message) => return error_body(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message),
    };
    // A persisted query's text is known only now; GET must not run a mutation by its hash.
    if let Err((code, message)) = state.persisted.resolve(&mut request) {
        return error_body(StatusCode::OK, code, &message);
    }
    if state.executor.operation_type(&request) == Some(OperationType::Mutation) {
        let mut res = error_body(
            StatusCode::METHOD_NOT_ALLOWED,
            code::BAD_REQUEST,
            "mutations are not allowed over GET: use POST",
        );
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return res;
    }
    execute(&state, &req, BatchRequest::Single(request)).await
}

/// The caller named by `Authorization: Bearer <key>`. The key itself is never logged.
pub(super) fn caller(state: &AppState, req: &HttpRequest) -> Caller {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    match value
        .to_str()
        .ok()
        .and_then(bearer_secret)
        .and_then(|secret| state.keys.authenticate(secret))
    {
        Some(key) => Caller::Key(key),
        None => Caller::BadKey,
    }
}

/// A 429 with `Retry-After` if `caller` (by key, or by address without one) has made too many
/// requests; `cost` is the number of operations.
pub(super) fn rate_limited(
    state: &AppState,
    req: &HttpRequest,
    caller: &Caller,
    cost: u32,
) -> Option<HttpResponse> {
    let client = match caller {
        Caller::Key(key) => Client::Key(&key.name),
        _ => Client::Address(req.peer_addr().map(|a| a.ip())),
    };
    let wait = state.rate_limiter.check(client, cost).err()?;
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut res = error_body(
        StatusCode::TOO_MANY_REQUESTS,
        code::RATE_LIMITED,
        &format!("too many requests: try again in {seconds} s"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&seconds.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(res)
}

async fn execute(state: &AppState, req: &HttpRequest, batch: BatchRequest) -> HttpResponse {
    let graphql_response = wants_graphql_response(req);
    let caller = caller(state, req);
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(requests) => requests.len(),
    };
    if operations > state.limits.max_batch {
        return error_body(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            &format!(
                "a batch of {operations} operations; at most {} are allowed in one request",
                state.limits.max_batch
            ),
        );
    }
    if let Some(refused) = rate_limited(state, req, &caller, operations as u32) {
        return refused;
    }
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0);
    let budget = match &batch {
        BatchRequest::Single(_) => None,
        BatchRequest::Batch(_) => Some(BatchBudget::new(state.limits.max_complexity)),
    };
    let max_response = state.limits.max_response_bytes;
    let mut response_bytes = 0usize;
    if !state.open_reads || matches!(caller, Caller::BadKey) {
        // With closed reads every operation needs a key; a bad key is refused either way.
        if let Err(e) = RoleGuard(KeyRole::Writer).check_caller(&caller) {
            let status = if graphql_response {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::OK
            };
            let body =
                Response::from_errors(vec![e.into_server_error(async_graphql::Pos::default())]);
            return HttpResponse::build(status)
                .content_type(if graphql_response {
                    GRAPHQL_RESPONSE
                } else {
                    "application/json"
                })
                .json(body);
        }
    }
    let run = |mut request: async_graphql::Request| async {
        if let Err((code, message)) = state.persisted.resolve(&mut request) {
            return Executed::refused(code, message);
        }
        let operation = request
            .operation_name
            .clone()
            .or_else(|| document_operation_name(&request.query).map(str::to_string));
        let started = std::time::Instant::now();
        let call = Call {
            caller: caller.clone(),
            batch: budget.clone(),
            request_id,
        };
        let executed = state.executor.execute(request, call).await?;
        if executed.cache != CacheUse::Bypassed {
            state.metrics.cache(executed.cache == CacheUse::Hit);
        }
        state
            .metrics
            .operation(operation.as_deref(), started.elapsed().as_secs_f64());
        for code in &executed.error_codes {
            state.metrics.error(code);
        }
        Ok(executed)
    };
    // The response budget: past it, an operation's response is an error in its place.
    let mut within_budget = |executed: Executed| -> Result<Executed, _> {
        response_bytes += executed.body.len();
        if response_bytes <= max_response {
            return Ok(executed);
        }
        response_bytes -= executed.body.len();
        Executed::refused(
            code::RESPONSE_TOO_LARGE,
            format!(
                "the response would take the request past its limit of {max_response} bytes; \
                 ask for fewer rows or fields"
            ),
        )
    };
    let mut rejected = false;
    let body = match batch {
        BatchRequest::Single(request) => {
            run(request)
                .await
                .and_then(&mut within_budget)
                .map(|encoded| {
                    // Under the GraphQL-over-HTTP media type, a request that never executed is
                    // a 400.
                    rejected = encoded.never_executed;
                    encoded.body
                })
        }
        BatchRequest::Batch(requests) => {
            let mut body = vec![b'['];
            let mut failed = None;
            for (i, request) in requests.into_iter().enumerate() {
                match run(request).await.and_then(&mut within_budget) {
                    Ok(encoded) => {
                        if i > 0 {
                            body.push(b',');
                        }
                        body.extend_from_slice(&encoded.body);
                    }
                    Err(e) => failed = Some(e),
                }
            }
            body.push(b']');
            match failed {
                Some(e) => Err(e),
                None => Ok(Bytes::from(body)),
            }
        }
    };
    let status = if graphql_response && rejected {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    match body {
        Ok(body) => HttpResponse::build(status)
            .content_type(content_type)
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "could not encode a response");
            error_body(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "could not encode the response",
            )
        }
    }
}

/// The name of a document's first operation (`query Name ...`), read without parsing the
/// whole document: metrics label operations by name even when clients omit operationName.
fn document_operation_name(query: &str) -> Option<&str> {
    let mut rest = query.trim_start();
    while let Some(comment) = rest.strip_prefix('#') {
        rest = comment
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|keyword| rest.strip_prefix(keyword))?;
    let rest = rest.strip_prefix(char::is_whitespace)?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_whichever_path_reads_them() {
        let single = parse_body(br#"{"query":"{ a }","variables":{"x":1}}"#).unwrap();
        assert!(matches!(single, BatchRequest::Single(r) if r.query == "{ a }"));
        let batch = parse_body(br#"[{"query":"{ a }"},{"query":"{ b }"}]"#).unwrap();
        assert!(matches!(batch, BatchRequest::Batch(r) if r.len() == 2));
        // An empty query is the client's to get a GraphQL error for; a missing one is refused.
        assert!(parse_body(br#"{"query":""}"#).is_ok());
        let missing = parse_body(br#"{"variables":{}}"#).unwrap_err();
        assert!(missing.contains("`query` string"), "{missing}");
        let in_batch = parse_body(br#"[{"query":"{ a }"},{"operationName":"B"}]"#).unwrap_err();
        assert!(in_batch.contains("`query` string"), "{in_batch}");
        assert!(parse_body(b"[]").unwrap_err().contains("empty batch"));
        assert!(parse_body(b"{\"query\":")
            .unwrap_err()
            .contains("not valid JSON"));
        let wrong = parse_body(br#"{"query":"{ a }","variables":[1]}"#).unwrap_err();
        assert!(wrong.contains("not a GraphQL request"), "{wrong}");
        let persisted = br#"{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}"#;
        assert!(parse_body(persisted).is_ok());
    }

    #[test]
    fn operation_names_are_read_from_documents() {
        assert_eq!(
            document_operation_name("query Kosovo { x }"),
            Some("Kosovo")
        );
        assert_eq!(
            document_operation_name("# hi\n  mutation Add($a: Int) { x }"),
            Some("Add")
        );
        assert_eq!(document_operation_name("{ x }"), None);
        assert_eq!(document_operation_name("query { x }"), None);
        assert_eq!(document_operation_name("queryX { x }"), None);
    }
}
