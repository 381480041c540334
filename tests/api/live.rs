//! Subscriptions over WebSocket (graphql-transport-ws), fed by writes of another client.

use crate::helpers::*;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

type Socket = WebSocket<TcpStream>;

pub(crate) fn connect(app: &TestApp, init: Value) -> Socket {
    let url = format!("{}/graphql", app.base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let stream = TcpStream::connect(app.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut socket, response) = tungstenite::client(request, stream).expect("websocket handshake");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": init }),
    );
    socket
}

fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).unwrap();
}

/// The next protocol message, skipping pings.
pub(crate) fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().expect("a message before the timeout") {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send(socket, json!({ "type": "pong" }));
                    continue;
                }
                return value;
            }
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

pub(crate) fn subscribe(socket: &mut Socket, id: &str, query: &str) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
    );
    // The server registers the subscription when it reads this message; give it that moment.
    std::thread::sleep(Duration::from_millis(300));
}

const CREATE_STATEMENT: &str =
    "mutation($input: StatementInput!) { createStatement(input: $input) { id } }";

fn statement(text: &str, excerpt: &str, about: &str) -> Value {
    json!({ "input": { "text": text, "direct": false, "medium": "OTHER", "about": [about],
        "source": { "source": "kosovo-kenya-missions", "excerpt": excerpt } } })
}

#[test]
fn a_subscriber_receives_statements_written_by_another_client() {
    let (app, keys) = TestApp::spawn_with_keys();
    let mut socket = connect(&app, json!({}));
    assert_eq!(next(&mut socket)["type"], "connection_ack");
    subscribe(
        &mut socket,
        "kenya",
        r#"subscription { statementAdded(filter: { about: "KEN" }) { text direct about { ... on Country { code } } source { excerpt } } }"#,
    );

    // Not about Kenya: filtered out. About Kenya: delivered.
    app.data_as(
        &keys.writer,
        CREATE_STATEMENT,
        statement(
            "Serbia is mentioned.",
            "Kosovo declared independence from Serbia in 2008",
            "RS",
        ),
    );
    app.data_as(
        &keys.writer,
        CREATE_STATEMENT,
        statement(
            "Kenya recognized Kosovo.",
            "Kenya’s recognition of Kosovo is a significant step",
            "KE",
        ),
    );
    let message = next(&mut socket);
    assert_eq!(message["type"], "next", "{message:#}");
    assert_eq!(message["id"], "kenya");
    let added = &message["payload"]["data"]["statementAdded"];
    assert_eq!(added["text"], "Kenya recognized Kosovo.");
    assert_eq!(added["about"][0]["code"], "KE");
    assert_eq!(
        added["source"]["excerpt"],
        "Kenya’s recognition of Kosovo is a significant step"
    );

    send(&mut socket, json!({ "id": "kenya", "type": "complete" }));
    socket.close(None).ok();
}

#[test]
fn fact_changed_reports_creates_updates_and_deletes_of_chosen_kinds() {
    let (app, keys) = TestApp::spawn_with_keys();
    let mut socket = connect(&app, json!({}));
    assert_eq!(next(&mut socket)["type"], "connection_ack");
    subscribe(&mut socket, "orgs", "subscription { factChanged(kinds: [ORGANIZATION]) { id kind action revision node { ... on Organization { name } } } }");

    let created = app.data_as(&keys.writer, r#"mutation { createOrganization(input: { name: "Live Org", kind: NGO, sources: [{ source: "kosovo-kenya-missions", excerpt: "Kosovo and Kenya" }] }) { id } }"#, json!({}));
    let id = created["createOrganization"]["id"].clone();
    app.data_as(
        &keys.writer,
        CREATE_STATEMENT,
        statement("Not an organization.", "Kosovo and Kenya", "KE"),
    );
    app.data_as(
        &keys.writer,
        "mutation($id: ID!) { deleteNode(id: $id) { deletedIds } }",
        json!({ "id": id }),
    );

    let first = next(&mut socket);
    let change = &first["payload"]["data"]["factChanged"];
    assert_eq!(
        (
            change["kind"].as_str(),
            change["action"].as_str(),
            change["revision"].as_i64()
        ),
        (Some("ORGANIZATION"), Some("CREATED"), Some(1))
    );
    assert_eq!(change["node"]["name"], "Live Org");
    let second = next(&mut socket);
    let change = &second["payload"]["data"]["factChanged"];
    assert_eq!(
        (change["action"].as_str(), change["id"].clone()),
        (Some("DELETED"), id)
    );
    assert_eq!(change["node"], Value::Null);
}

#[test]
fn subscriptions_refuse_bad_filters_and_bad_keys() {
    let (app, _keys) = TestApp::spawn_with_keys();
    let mut socket = connect(&app, json!({}));
    assert_eq!(next(&mut socket)["type"], "connection_ack");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": r#"subscription { statementAdded(filter: { about: "nowhere" }) { text } }"# } }),
    );
    let error = next(&mut socket);
    assert_eq!(error["type"], "next", "{error:#}");
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );

    let mut socket = connect(
        &app,
        json!({ "Authorization": "Bearer dg_revoked-or-made-up" }),
    );
    let refused = socket.read();
    let closed = match refused {
        Ok(Message::Close(_)) | Err(_) => true,
        Ok(Message::Text(t)) => !t.contains("connection_ack"),
        Ok(_) => false,
    };
    assert!(closed, "a bad key must not get a connection_ack");
}
