//! Runs one GraphQL request, whatever transport brought it: the document through the
//! parsed-query cache, a read query through the response cache, the operation itself with a
//! fresh view of the store, fields put back in selection order, a code on every error, and
//! the response serialized once. Transports only hand requests in and bytes out.

use super::auth::Caller;
use super::budget::BatchBudget;
use super::error::code;
use super::{order, Schemas};
use crate::cache::{QueryCache, ResponseCache};
use crate::store::Store;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Request, Response, ServerError, Value};
use bytes::Bytes;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("could not encode the response: {0}")]
    Encode(#[from] serde_json::Error),
}

/// How the response cache took part in a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Not a read query, the cache is off, or responses report their own statistics.
    Bypassed,
    Hit,
    Miss,
}

/// One response as JSON bytes, and what a transport needs to know about it.
pub struct Executed {
    pub body: Bytes,
    /// It failed parsing or validation, so it has no `data` entry.
    pub never_executed: bool,
    pub cache: CacheUse,
    /// The `extensions.code` of each error, in order.
    pub error_codes: Vec<String>,
}

impl Executed {
    /// A response made only of one error that stopped the request before it ran.
    pub fn refused(code: &str, message: String) -> Result<Executed, ExecuteError> {
        let mut error = ServerError::new(message, None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
        encode(&Response::from_errors(vec![error]), CacheUse::Bypassed)
    }
}

/// Who runs an operation, and in what request.
pub struct Call {
    pub caller: Caller,
    /// The complexity budget of the batch the operation is part of, if any.
    pub batch: Option<Arc<BatchBudget>>,
    /// The HTTP request's id, given in masked internal errors so that they can be found in
    /// the log.
    pub request_id: Option<u64>,
}

pub struct Executor {
    schemas: Schemas,
    store: Arc<Store>,
    queries: QueryCache,
    responses: ResponseCache,
    /// Each response reports its store round trips (and so is never cached).
    expose_query_stats: bool,
    /// Time an operation may run, parsing and validation included.
    timeout: std::time::Duration,
    /// Whether `__schema` and `__type` are answered.
    introspection: bool,
}

impl Executor {
    pub fn new(
        schemas: Schemas,
        store: Arc<Store>,
        queries: QueryCache,
        responses: ResponseCache,
        expose_query_stats: bool,
        timeout: std::time::Duration,
        introspection: bool,
    ) -> Self {
        Executor {
            schemas,
            store,
            queries,
            responses,
            expose_query_stats,
            timeout,
            introspection,
        }
    }

    /// The type of operation a request would run, parsed through the cache its run reads next
    /// (None: the document does not parse, or has no such operation).
    pub fn operation_type(&self, request: &Request) -> Option<OperationType> {
        super::rules::check_nesting(&request.query).ok()?;
        let parsed = self.queries.parse(&request.query)?;
        operation_type(&parsed.document, request.operation_name.as_deref())
    }

    /// A request held to the same rules as `execute`'s before it runs on a stream (a
    /// WebSocket): its document parsed and attached, and its operation's type. Err: the
    /// errors to answer with instead, coded.
    pub fn checked(
        &self,
        mut request: Request,
    ) -> Result<(Request, OperationType), Vec<ServerError>> {
        let refuse = |errors: Vec<ServerError>, parsed| {
            let mut response = Response::from_errors(errors);
            assign_codes(&mut response, parsed);
            response.errors
        };
        if let Err(message) = super::rules::check_nesting(&request.query) {
            return Err(refuse(vec![ServerError::new(message, None)], false));
        }
        let Some(parsed) = self.queries.parse(&request.query) else {
            let parse_error = match async_graphql::parser::parse_query(&request.query) {
                Err(e) => ServerError::new(e.to_string(), None),
                Ok(_) => ServerError::new("the document does not parse", None),
            };
            return Err(refuse(vec![parse_error], false));
        };
        let invalid = super::rules::check_document(
            &parsed.document,
            request.operation_name.as_deref(),
            &request.variables,
            self.introspection,
        );
        if !invalid.is_empty() {
            return Err(refuse(invalid, true));
        }
        let Some(kind) = operation_type(&parsed.document, request.operation_name.as_deref()) else {
            let error = ServerError::new("the document has no such operation", None);
            return Err(refuse(vec![error], true));
        };
        request.set_parsed_query(parsed.document.clone());
        Ok((request, kind))
    }

    /// Time an operation may run.
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
    }

    pub async fn execute(
        &self,
        mut request: Request,
        call: Call,
    ) -> Result<Executed, ExecuteError> {
        let Call {
            caller,
            batch,
            request_id,
        } = call;
        let started = std::time::Instant::now();
        // Before any parser sees it: a deep enough document overflows the parser's stack.
        if let Err(message) = super::rules::check_nesting(&request.query) {
            return Executed::refused(code::PARSE_FAILED, message);
        }
        let parsed = self.queries.parse(&request.query);
        let document = parsed.as_deref().map(|p| &p.document);
        let is_query = document.is_some_and(|doc| {
            operation_type(doc, request.operation_name.as_deref()) == Some(OperationType::Query)
        });
        // Part of the response cache's key, and of what a kept document remembers as validated.
        let remembers = self.queries.enabled();
        let variables = match parsed.is_some() && (remembers || self.responses.enabled()) {
            true => serde_json::to_string(&request.variables).unwrap_or_default(),
            false => String::new(),
        };
        let cache_key =
            (is_query && self.responses.enabled() && !self.expose_query_stats).then(|| {
                ResponseCache::key(
                    &request.query,
                    request.operation_name.as_deref(),
                    &variables,
                )
            });
        if let Some(body) = cache_key.as_deref().and_then(|key| self.responses.get(key)) {
            return Ok(Executed {
                body,
                never_executed: false,
                cache: CacheUse::Hit,
                error_codes: Vec::new(),
            });
        }
        // A batch's operations are validated every time: each is charged to the batch's budget
        // as it is validated.
        let validated = batch.is_none()
            && remembers
            && parsed
                .as_deref()
                .is_some_and(|p| p.is_validated(request.operation_name.as_deref(), &variables));
        if let Some(document) = document {
            if !validated {
                let invalid = super::rules::check_document(
                    document,
                    request.operation_name.as_deref(),
                    &request.variables,
                    self.introspection,
                );
                if !invalid.is_empty() {
                    let mut response = Response::from_errors(invalid);
                    assign_codes(&mut response, true);
                    return encode(&response, CacheUse::Bypassed);
                }
            }
            request.set_parsed_query(document.clone());
        }
        let operation_name = request.operation_name.clone();
        // Before the first read: a write landing from here on makes this response stale.
        let snapshot = self.responses.snapshot();
        let (mut request, reader) = super::prepare(request, self.store.clone(), caller);
        let batched = batch.is_some();
        let schema = match batch {
            Some(budget) => {
                request = request.data(budget);
                &self.schemas.batched
            }
            None if validated => &self.schemas.validated,
            None => &self.schemas.single,
        };
        // A write has no deadline: dropping its future would not stop the blocking task that
        // commits it, and a client told "cancelled" would retry a write that landed.
        let is_write = document
            .and_then(|doc| operation_type(doc, operation_name.as_deref()))
            .is_some_and(|t| t == OperationType::Mutation);
        let ran = if is_write {
            Some(schema.execute(request).await)
        } else {
            // Work that never yields (validation, resolvers that need no store) cannot be cut
            // off at the deadline, but its answer past the deadline is refused all the same.
            actix_web::rt::time::timeout(self.timeout, schema.execute(request))
                .await
                .ok()
                .filter(|_| started.elapsed() <= self.timeout)
        };
        let Some(mut response) = ran else {
            return Executed::refused(
                code::TIMEOUT,
                format!(
                    "the operation ran longer than the limit of {} ms and was cancelled",
                    self.timeout.as_millis()
                ),
            );
        };
        // Every root field skipped: async-graphql answers `data: null`, but the root object is
        // there, with no fields (`{"data":{}}`).
        if response.data == Value::Null && response.errors.is_empty() {
            response.data = Value::Object(Default::default());
        }
        if let Some(parsed) = parsed
            .as_deref()
            .filter(|_| remembers && !validated && !batched)
        {
            if !never_executed(&response) {
                parsed.mark_validated(operation_name.as_deref(), variables);
            }
        }
        if let Some(document) = document {
            order::order_as_selected(&mut response.data, document, operation_name.as_deref());
        }
        assign_codes(&mut response, document.is_some());
        mask_internal_errors(&mut response, request_id);
        if self.expose_query_stats {
            response
                .extensions
                .insert("storeRoundTrips".into(), Value::from(reader.round_trips()));
        }
        let cache = match cache_key {
            Some(_) => CacheUse::Miss,
            None => CacheUse::Bypassed,
        };
        let executed = encode(&response, cache)?;
        if let Some(key) = cache_key.filter(|_| response.errors.is_empty() && !reader.is_private())
        {
            self.responses
                .insert(key, executed.body.clone(), reader.read_set(), snapshot);
        }
        Ok(executed)
    }
}

/// The type of the operation a document runs under `name` (None: no such operation).
fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    order::operation(doc, name).map(|op| op.ty)
}

/// A response as JSON, serialized once; one that never executed (it failed parsing or
/// validation) has no `data` entry at all, as GraphQL-over-HTTP asks.
fn encode(response: &Response, cache: CacheUse) -> Result<Executed, ExecuteError> {
    let never_executed = never_executed(response);
    let body = if never_executed {
        let mut value = serde_json::to_value(response)?;
        if let Some(map) = value.as_object_mut() {
            map.remove("data");
        }
        serde_json::to_vec(&value)?
    } else {
        serde_json::to_vec(response)?
    };
    let error_codes = response
        .errors
        .iter()
        .map(|error| {
            match error.extensions.as_ref().and_then(|e| e.get("code")) {
                Some(Value::String(code)) => code.as_str(),
                _ => code::INTERNAL,
            }
            .to_string()
        })
        .collect();
    Ok(Executed {
        body: Bytes::from(body),
        never_executed,
        cache,
        error_codes,
    })
}

/// Whether a request failed before execution: no data, and no error raised by a field (those
/// carry a path).
fn never_executed(response: &Response) -> bool {
    response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Internal errors say nothing of their cause (it is in the log, with the request id), only
/// which request to look for.
fn mask_internal_errors(response: &mut Response, request_id: Option<u64>) {
    for error in &mut response.errors {
        let internal = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .is_some_and(|c| *c == Value::from(code::INTERNAL));
        if internal {
            error.message = match request_id {
                Some(id) => {
                    format!("internal error (request {id}; the server's log has the details)")
                }
                None => "internal error".into(),
            };
            if let (Some(id), Some(extensions)) = (request_id, error.extensions.as_mut()) {
                extensions.set("requestId", id.to_string());
            }
        }
    }
}

/// async-graphql reports parse and validation failures, and bad argument values, without a
/// code; give each one, so clients can always switch on `extensions.code`. `parsed`: whether
/// the document parsed (if not, every error is the parser's, whatever its wording).
pub fn assign_codes(response: &mut Response, parsed: bool) {
    let executed = !never_executed(response);
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        // async-graphql's parser errors are pest diagnostics, which start with a location arrow.
        let code = if !executed && (!parsed || error.message.trim_start().starts_with("-->")) {
            code::PARSE_FAILED
        } else if !executed {
            code::VALIDATION_FAILED
        } else {
            code::BAD_USER_INPUT
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
}
