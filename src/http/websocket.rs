//! Subscriptions (and any operation) over WebSocket: the graphql-transport-ws protocol, and the
//! older graphql-ws (subscriptions-transport-ws) for clients that still speak it.
//!
//! A connection is bounded like an HTTP request: its messages by size, the wait for
//! `connection_init`, its subscriptions by count. graphql-transport-ws's close codes say what
//! went wrong: 4400 a malformed message, 4401 a subscribe before the connection was
//! acknowledged, 4403 a refused or revoked key, 4408 no `connection_init` in time, 4409 a
//! subscription id already running, 4429 a second `connection_init`; 1009 a message over the
//! size limit.

use super::rate_limit::Client;
use super::AppState;
use crate::graphql::auth::{bearer_secret, Caller, RoleGuard};
use crate::graphql::error::code;
use crate::store::KeyRole;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::futures_util::StreamExt;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Request, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

/// How often a connection checks that its key still works (revoked or expired: closed), and
/// pings a client that has been quiet.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const PING_AFTER: Duration = Duration::from_secs(15);
/// A client that sends nothing, not even a pong, for this long is gone.
const SILENT_FOR: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// graphql-transport-ws.
    Transport,
    /// graphql-ws, the older protocol of subscriptions-transport-ws.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Transport => TRANSPORT_WS,
            Protocol::Legacy => LEGACY_WS,
        }
    }

    fn next(self) -> &'static str {
        match self {
            Protocol::Transport => "next",
            Protocol::Legacy => "data",
        }
    }
}

/// The first protocol the client offers that the server speaks.
fn protocol(req: &HttpRequest) -> Option<Protocol> {
    req.headers()
        .get_all("sec-websocket-protocol")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| match p.trim() {
            TRANSPORT_WS => Some(Protocol::Transport),
            LEGACY_WS => Some(Protocol::Legacy),
            _ => None,
        })
}

pub async fn upgrade(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let Some(protocol) = protocol(&req) else {
        return Ok(super::graphql::error_body(
            actix_web::http::StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "a WebSocket on /graphql speaks graphql-transport-ws (or graphql-ws): \
             ask for it in Sec-WebSocket-Protocol",
        ));
    };
    if let Some(refused) = super::graphql::rate_limited(&state, &req, &Caller::Anonymous, 1) {
        return Ok(refused);
    }
    let (response, session, stream) =
        actix_ws::handle_with_protocols(&req, body, &[protocol.name()])?;
    let limit = state.limits.max_ws_message_bytes;
    let stream = stream
        .max_frame_size(limit)
        .aggregate_continuations()
        .max_continuation_size(limit);
    let connection = Connection {
        state: state.into_inner(),
        protocol,
        session,
        subscriptions: HashMap::new(),
        caller: None,
        address: req.peer_addr().map(|a| a.ip()),
        next_run: 0,
    };
    actix_web::rt::spawn(connection.run(stream));
    Ok(response)
}

struct Connection {
    state: Arc<AppState>,
    protocol: Protocol,
    session: Session,
    /// Running operations by id, each with the number of its run; a task says when it ends
    /// through `ended`, with both, so that the end of an old run never takes a newer run of
    /// the same id off the books.
    subscriptions: HashMap<String, (u64, JoinHandle<()>)>,
    /// Set by `connection_init`, with the data its operations run with.
    caller: Option<(Caller, Arc<Data>)>,
    /// The client's address, for the rate limit of connections without a key.
    address: Option<std::net::IpAddr>,
    next_run: u64,
}

/// Longest a send may wait for a client that does not read before the connection is closed:
/// a full send queue would otherwise stop the connection's checks (a revoked key, silence).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection ends.
struct Close(u16, String);

impl Close {
    fn new(code: u16, reason: &str) -> Self {
        Close(code, reason.to_string())
    }
}

impl Connection {
    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream) {
        let (ended_tx, mut ended) = mpsc::unbounded_channel::<(String, u64)>();
        let init_deadline =
            actix_web::rt::time::sleep(Duration::from_millis(self.state.limits.ws_init_timeout_ms));
        tokio::pin!(init_deadline);
        let mut checks = actix_web::rt::time::interval(CHECK_EVERY);
        let mut last_heard = std::time::Instant::now();
        let mut last_ping = std::time::Instant::now();
        let close = loop {
            tokio::select! {
                // The checks first: a busy client must not starve them.
                biased;
                Some((id, run)) = ended.recv() => {
                    if self.subscriptions.get(&id).is_some_and(|(current, _)| *current == run) {
                        self.subscriptions.remove(&id);
                    }
                }
                _ = &mut init_deadline, if self.caller.is_none() => {
                    break Some(Close::new(4408, "Connection initialisation timeout"));
                }
                _ = checks.tick() => {
                    if let Some((Caller::Key(key), _)) = &self.caller {
                        if !self.state.keys.is_live(key) {
                            break Some(Close::new(4403, "Forbidden: the API key was revoked or expired"));
                        }
                    }
                    if last_heard.elapsed() > SILENT_FOR {
                        break Some(Close::new(1001, "the client stopped answering"));
                    }
                    if last_heard.elapsed() > PING_AFTER && last_ping.elapsed() > PING_AFTER {
                        last_ping = std::time::Instant::now();
                        let pinged = actix_web::rt::time::timeout(SEND_TIMEOUT, self.session.ping(b"")).await;
                        if !matches!(pinged, Ok(Ok(()))) {
                            break None;
                        }
                    }
                }
                message = stream.recv() => {
                    last_heard = std::time::Instant::now();
                    let outcome = match message {
                        None => break None,
                        Some(Err(e)) => {
                            let text = e.to_string();
                            // Over the size limit (a frame, or frames put together): 1009.
                            let code = if text.contains("size") || text.contains("Overflow") || text.contains("too big") { 1009 } else { 1002 };
                            Err(Close(code, format!("the message could not be read: {text}")))
                        }
                        Some(Ok(AggregatedMessage::Text(text))) => self.handle(text.as_bytes(), &ended_tx).await,
                        Some(Ok(AggregatedMessage::Binary(bytes))) => self.handle(&bytes, &ended_tx).await,
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            match actix_web::rt::time::timeout(SEND_TIMEOUT, self.session.pong(&bytes)).await {
                                Ok(Ok(())) => Ok(()),
                                _ => break None,
                            }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
                        Some(Ok(AggregatedMessage::Close(_))) => break Some(Close::new(1000, "")),
                    };
                    if let Err(close) = outcome {
                        break Some(close);
                    }
                }
            }
        };
        for (_, (_, task)) in self.subscriptions.drain() {
            task.abort();
        }
        if let Some(Close(code, reason)) = close {
            let closing = self.session.close(Some(CloseReason {
                code: CloseCode::from(code),
                description: (!reason.is_empty()).then_some(reason),
            }));
            let _ = actix_web::rt::time::timeout(SEND_TIMEOUT, closing).await;
        }
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        match actix_web::rt::time::timeout(SEND_TIMEOUT, self.session.text(message.to_string()))
            .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Close::new(1000, "")),
            Err(_) => Err(Close::new(1008, "the client does not read what it is sent")),
        }
    }

    /// One protocol message from the client.
    async fn handle(
        &mut self,
        bytes: &[u8],
        ended: &mpsc::UnboundedSender<(String, u64)>,
    ) -> Result<(), Close> {
        let message: Value = serde_json::from_slice(bytes)
            .map_err(|e| Close(4400, format!("Invalid message received: {e}")))?;
        let kind = message["type"].as_str().unwrap_or_default();
        match (self.protocol, kind) {
            (_, "connection_init") => self.init(&message["payload"]).await,
            (Protocol::Transport, "ping") => self.send(json!({ "type": "pong" })).await,
            (Protocol::Transport, "pong") => Ok(()),
            (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
                self.subscribe(&message, ended).await
            }
            (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => {
                if let Some((_, task)) = message["id"]
                    .as_str()
                    .and_then(|id| self.subscriptions.remove(id))
                {
                    task.abort();
                }
                Ok(())
            }
            (Protocol::Legacy, "connection_terminate") => Err(Close::new(1000, "")),
            _ => Err(Close(
                4400,
                format!("Invalid message received: unknown message type '{kind}'"),
            )),
        }
    }

    async fn init(&mut self, payload: &Value) -> Result<(), Close> {
        if self.caller.is_some() {
            return Err(Close::new(4429, "Too many initialisation requests"));
        }
        let authorization = ["Authorization", "authorization"]
            .iter()
            .find_map(|name| payload.get(*name));
        // As over HTTP: no Authorization is anonymous; one that is not a live Bearer key
        // (another scheme, not a string) is refused.
        let caller = match authorization {
            None | Some(Value::Null) => Caller::Anonymous,
            Some(value) => match value
                .as_str()
                .and_then(bearer_secret)
                .and_then(|secret| self.state.keys.authenticate(secret))
            {
                Some(key) => Caller::Key(key),
                None => Caller::BadKey,
            },
        };
        if !self.state.open_reads || matches!(caller, Caller::BadKey) {
            if let Err(e) = RoleGuard(KeyRole::Writer).check_caller(&caller) {
                if self.protocol == Protocol::Legacy {
                    let _ = self
                        .send(json!({ "type": "connection_error", "payload": { "message": e.message } }))
                        .await;
                }
                return Err(Close(4403, format!("Forbidden: {}", e.message)));
            }
        }
        let data = crate::graphql::connection_data(self.state.store.clone(), caller.clone());
        self.caller = Some((caller, Arc::new(data)));
        self.send(json!({ "type": "connection_ack" })).await
    }

    async fn subscribe(
        &mut self,
        message: &Value,
        ended: &mpsc::UnboundedSender<(String, u64)>,
    ) -> Result<(), Close> {
        let Some((caller, data)) = &self.caller else {
            return Err(Close::new(4401, "Unauthorized"));
        };
        let data = data.clone();
        let client = match caller {
            Caller::Key(key) => Client::Key(&key.name),
            _ => Client::Address(self.address),
        };
        // Each operation counts against the rate limit, as a request over HTTP does.
        let limited = self.state.rate_limiter.check(client, 1).err();
        let id = match message["id"].as_str() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => return Err(Close::new(4400, "Invalid message received: no id")),
        };
        if self.subscriptions.contains_key(&id) {
            return Err(Close(4409, format!("Subscriber for {id} already exists")));
        }
        let mut request: Request = match serde_json::from_value(message["payload"].clone()) {
            Ok(request) => request,
            Err(e) => {
                return Err(Close(
                    4400,
                    format!("Invalid message received: not a GraphQL request: {e}"),
                ))
            }
        };
        if let Some(wait) = limited {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let error = json!([{
                "message": format!("too many requests: try again in {seconds} s"),
                "extensions": { "code": code::RATE_LIMITED, "retryAfter": seconds }
            }]);
            return self.error(&id, error).await;
        }
        let limit = self.state.limits.max_subscriptions_per_connection;
        if self.subscriptions.len() >= limit {
            let error = json!([{
                "message": format!("this connection runs {limit} operations already, the most it may"),
                "extensions": { "code": code::TOO_MANY_SUBSCRIPTIONS }
            }]);
            return self.error(&id, error).await;
        }
        // The same rules as over HTTP: the allow-list, the document's rules, then a deadline
        // and a response size for what runs.
        if let Err((code, message)) = self.state.persisted.resolve(&mut request) {
            let error = json!([{ "message": message, "extensions": { "code": code } }]);
            return self.error(&id, error).await;
        }
        let (request, kind) = match self.state.executor.checked(request) {
            Ok(checked) => checked,
            Err(errors) => {
                let errors = serde_json::to_value(&errors).unwrap_or(Value::Null);
                return self.error(&id, errors).await;
            }
        };
        let stream = self
            .state
            .schema
            .execute_stream_with_session_data(request, data);
        self.next_run += 1;
        let run = Run {
            session: self.session.clone(),
            protocol: self.protocol,
            id: id.clone(),
            number: self.next_run,
            ended: ended.clone(),
            max_bytes: self.state.limits.max_response_bytes,
            // A subscription runs as long as it is wanted, a mutation until its write is done
            // (as over HTTP); a query has a deadline.
            deadline: (kind == OperationType::Query).then(|| self.state.executor.timeout()),
        };
        let task = actix_web::rt::spawn(run.run(stream));
        self.subscriptions.insert(id, (self.next_run, task));
        Ok(())
    }

    /// An operation refused before it ran.
    async fn error(&mut self, id: &str, errors: Value) -> Result<(), Close> {
        let payload = match self.protocol {
            Protocol::Transport => errors,
            Protocol::Legacy => errors.get(0).cloned().unwrap_or(Value::Null),
        };
        self.send(json!({ "id": id, "type": "error", "payload": payload }))
            .await
    }
}

/// One operation of a connection, sending its responses until it ends.
struct Run {
    session: Session,
    protocol: Protocol,
    id: String,
    number: u64,
    ended: mpsc::UnboundedSender<(String, u64)>,
    max_bytes: usize,
    deadline: Option<Duration>,
}

impl Run {
    async fn run(mut self, mut stream: BoxStream<'static, Response>) {
        let started = std::time::Instant::now();
        loop {
            // The deadline holds until the first answer; what follows (the end) is not timed.
            let next = match self.deadline {
                None => stream.next().await,
                // As over HTTP: cut off at the deadline, or refused past it (work that never
                // yields cannot be cut off).
                Some(limit) => match actix_web::rt::time::timeout(limit, stream.next())
                    .await
                    .ok()
                    .filter(|_| started.elapsed() <= limit)
                {
                    Some(next) => next,
                    None => {
                        let error = json!([{
                            "message": format!("the operation ran longer than the limit of {} ms and was cancelled", limit.as_millis()),
                            "extensions": { "code": code::TIMEOUT }
                        }]);
                        self.send("error", error).await;
                        break;
                    }
                },
            };
            let Some(mut response) = next else {
                // Off the books before the client hears `complete`, so that it may reuse the
                // id at once.
                let _ = self.ended.send((self.id.clone(), self.number));
                let complete = json!({ "id": self.id, "type": "complete" }).to_string();
                let _ =
                    actix_web::rt::time::timeout(SEND_TIMEOUT, self.session.text(complete)).await;
                return;
            };
            crate::graphql::executor::assign_codes(&mut response, true);
            if never_executed(&response) {
                self.send("error", error_payload(self.protocol, &response))
                    .await;
                break;
            }
            let payload = serde_json::to_value(&response).unwrap_or(Value::Null);
            let size = payload.to_string().len();
            if size > self.max_bytes {
                let error = json!({ "errors": [{
                    "message": format!("the response would be {size} bytes, over the limit of {}; ask for fewer rows or fields", self.max_bytes),
                    "extensions": { "code": code::RESPONSE_TOO_LARGE }
                }] });
                if !self.send(self.protocol.next(), error).await {
                    break;
                }
                self.deadline = None;
                continue;
            }
            if !self.send(self.protocol.next(), payload).await {
                break;
            }
            self.deadline = None;
        }
        let _ = self.ended.send((self.id.clone(), self.number));
    }

    /// Sends one message for this operation; false once the connection is gone or does not
    /// read.
    async fn send(&mut self, kind: &str, payload: Value) -> bool {
        let payload = match (kind, self.protocol) {
            ("error", Protocol::Legacy) => payload.get(0).cloned().unwrap_or(payload),
            _ => payload,
        };
        let message = json!({ "id": self.id, "type": kind, "payload": payload }).to_string();
        matches!(
            actix_web::rt::time::timeout(SEND_TIMEOUT, self.session.text(message)).await,
            Ok(Ok(()))
        )
    }
}

fn never_executed(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn error_payload(protocol: Protocol, response: &Response) -> Value {
    let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
    match protocol {
        Protocol::Transport => errors,
        Protocol::Legacy => errors.get(0).cloned().unwrap_or(Value::Null),
    }
}
