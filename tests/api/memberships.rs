//! Memberships, the kind added through the registry: read from the seed, filtered, reached
//! from countries and organizations, written, announced and exported like every kind.

use crate::helpers::*;
use crate::live::{connect, next, subscribe};
use serde_json::{json, Value};

const EU_SENTENCE: &str = "Both Kosovo and Serbia have expressed intentions to join the EU.";

fn countries_of(connection: &Value) -> Vec<String> {
    let mut codes: Vec<String> = nodes(connection)
        .iter()
        .map(|m| {
            m["country"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    codes.sort();
    codes
}

#[test]
fn the_seed_states_that_kosovo_and_serbia_intend_to_join_the_eu_with_its_source() {
    let app = TestApp::spawn();
    let data = app.data(
        r#"{ memberships(filter: { organization: "EU" }) { totalCount edges { node {
            id status since until country { code } organization { name }
            sources { excerpt source { title } } } } } }"#,
    );
    let list = &data["memberships"];
    assert_eq!(list["totalCount"], 2, "{data:#}");
    assert_eq!(countries_of(list), ["RS", "XK"]);
    for m in nodes(list) {
        assert_eq!(m["status"], "INTENDS_TO_JOIN");
        assert_eq!(m["organization"]["name"], "European Union");
        assert_eq!(m["since"], Value::Null);
        assert_eq!(m["sources"][0]["excerpt"], EU_SENTENCE);
        assert_eq!(
            m["sources"][0]["source"]["title"],
            "Kosovo FM discusses diplomatic relations with FM Ashkenazi for first time"
        );
        // Every fact is a node.
        let id = m["id"].clone();
        let node = app.data_with(
            "query($id: ID!) { node(id: $id) { id ... on Membership { country { code } } } }",
            json!({ "id": id }),
        );
        assert_eq!(node["node"]["id"], id);
    }

    // From both ends of the fact.
    let kosovo =
        app.data(r#"{ country(code: "XKX") { memberships { status organization { name } } } }"#);
    assert_eq!(
        kosovo["country"]["memberships"],
        json!([{ "status": "INTENDS_TO_JOIN", "organization": { "name": "European Union" } }])
    );
    let eu = app.data(
        r#"{ organizations(filter: { name: "European Union" }) { edges { node { members { country { code } } } } } }"#,
    );
    let organization = &nodes(&eu["organizations"])[0];
    let mut members: Vec<&str> = organization["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["country"]["code"].as_str().unwrap())
        .collect();
    members.sort();
    assert_eq!(members, ["RS", "XK"]);
}

#[test]
fn memberships_filter_by_country_organization_name_alias_or_key_and_status() {
    let app = TestApp::spawn();
    let count = |filter: &str| {
        app.data(&format!(
            "{{ memberships(filter: {filter}) {{ totalCount edges {{ node {{ country {{ code }} }} }} }} }}"
        ))["memberships"]
            .clone()
    };
    assert_eq!(countries_of(&count(r#"{ country: "srb" }"#)), ["RS"]);
    for named in ["EU", "european union", "EUROPEAN-UNION", "european-union"] {
        let found = count(&format!(r#"{{ organization: "{named}" }}"#));
        assert_eq!(found["totalCount"], 2, "{named}");
    }
    assert_eq!(
        countries_of(&count(r#"{ organization: "EU", country: "XK" }"#)),
        ["XK"]
    );
    assert_eq!(
        count(r#"{ organization: "EU", status: INTENDS_TO_JOIN }"#)["totalCount"],
        2
    );
    assert_eq!(count(r#"{ status: MEMBER }"#)["totalCount"], 0);
    assert_eq!(count(r#"{ country: "IL" }"#)["totalCount"], 0);

    assert_eq!(
        app.error_code(
            r#"{ memberships(filter: { organization: "Warsaw Pact" }) { totalCount } }"#
        ),
        "BAD_USER_INPUT"
    );
    // A word of the name is not the name.
    assert_eq!(
        app.error_code(r#"{ memberships(filter: { organization: "European" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ memberships(filter: { country: "ZZ" }) { totalCount } }"#),
        "BAD_USER_INPUT"
    );
}

#[test]
fn memberships_are_written_checked_announced_and_deleted() {
    let (app, keys) = TestApp::spawn_with_keys();
    let mut socket = connect(&app, json!({}));
    assert_eq!(next(&mut socket)["type"], "connection_ack");
    subscribe(
        &mut socket,
        "members",
        "subscription { factChanged(kinds: [MEMBERSHIP]) { id kind action revision node { ... on Membership { status country { code } } } } }",
    );

    const CREATE: &str = "mutation($input: MembershipInput!) { createMembership(input: $input) { id status since until country { code } organization { key: id } } }";
    let input = json!({
        "country": "AL",
        "organization": "european-union",
        "status": "CANDIDATE",
        "since": "2014-06",
        "sources": [{ "source": "kosovo-kenya-missions", "excerpt": "Kosovo and Kenya" }],
    });
    // A writer may not create a fact citing nothing, ending before it begins, or naming an
    // organization that does not exist.
    let mut bad = input.clone();
    bad["until"] = json!("2013");
    let error = app.error_as(&keys.writer, CREATE, json!({ "input": bad }));
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");
    assert!(
        error["message"].as_str().unwrap().contains("until"),
        "{error:#}"
    );
    let mut bad = input.clone();
    bad["organization"] = json!("warsaw-pact");
    let error = app.error_as(&keys.writer, CREATE, json!({ "input": bad }));
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error:#}");
    let mut bad = input.clone();
    bad["sources"] = json!([]);
    let error = app.error_as(&keys.writer, CREATE, json!({ "input": bad }));
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error:#}");

    // Read (and cached) before the write: the write must make it stale.
    let albania = app.data(r#"{ country(code: "AL") { memberships { status } } }"#);
    assert_eq!(albania["country"]["memberships"], json!([]));
    let created = app.data_as(&keys.writer, CREATE, json!({ "input": input }));
    let membership = &created["createMembership"];
    assert_eq!(membership["status"], "CANDIDATE");
    assert_eq!(membership["since"], "2014-06");
    assert_eq!(membership["country"]["code"], "AL");
    let id = membership["id"].clone();

    let mut changed = input.clone();
    changed["status"] = json!("MEMBER");
    changed["since"] = json!("2027");
    let updated = app.data_as(
        &keys.writer,
        "mutation($id: ID!, $input: MembershipInput!) { updateMembership(id: $id, input: $input, expectedRevision: 1) { status since } }",
        json!({ "id": id, "input": changed }),
    );
    assert_eq!(
        updated["updateMembership"],
        json!({ "status": "MEMBER", "since": "2027" })
    );
    let albania = app.data(r#"{ country(code: "AL") { memberships { status } } }"#);
    assert_eq!(
        albania["country"]["memberships"],
        json!([{ "status": "MEMBER" }])
    );

    app.data_as(
        &keys.writer,
        "mutation($id: ID!) { deleteNode(id: $id) { deletedIds } }",
        json!({ "id": id }),
    );
    assert_eq!(
        app.data(r#"{ memberships(filter: { country: "AL" }) { totalCount } }"#)["memberships"]
            ["totalCount"],
        0
    );

    let actions: Vec<(Value, Value, Value)> = (0..3)
        .map(|_| {
            let message = next(&mut socket);
            let change = message["payload"]["data"]["factChanged"].clone();
            assert_eq!(change["kind"], "MEMBERSHIP", "{message:#}");
            assert_eq!(change["id"], id);
            (
                change["action"].clone(),
                change["revision"].clone(),
                change["node"]["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (json!("CREATED"), json!(1), json!("CANDIDATE")),
            (json!("UPDATED"), json!(2), json!("MEMBER")),
            (json!("DELETED"), json!(3), Value::Null),
        ]
    );
}

#[test]
fn an_article_brings_its_memberships_with_it() {
    let (app, keys) = TestApp::spawn_with_keys();
    let added = app.data_as(
        &keys.writer,
        r#"mutation($text: String!) { addSource(input: {
            source: { title: "Montenegro opens the last chapters", text: $text },
            memberships: [{ country: "ME", organization: "european-union", status: CANDIDATE,
                sources: [{ excerpt: "Montenegro is a candidate for membership of the European Union" }] }]
        }) { factIds source { id } } }"#,
        json!({ "text": "Brussels. Montenegro is a candidate for membership of the European Union, officials said." }),
    );
    assert_eq!(added["addSource"]["factIds"].as_array().unwrap().len(), 1);
    let found = app.data(
        r#"{ memberships(filter: { country: "MNE" }) { edges { node { status sources { excerpt source { title } } } } } }"#,
    );
    let node = &nodes(&found["memberships"])[0];
    assert_eq!(node["status"], "CANDIDATE");
    assert_eq!(
        node["sources"][0]["source"]["title"],
        "Montenegro opens the last chapters"
    );
}
