//! Start-up, restart, shut-down, health, the playground, configuration errors.

use crate::helpers::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOTALS: &str = "{ countries { totalCount } people { totalCount } organizations { totalCount } agreements { totalCount }
    relations { totalCount } missions { totalCount } statements { totalCount } events { totalCount } sources { totalCount }
    statementIds: statements(first: 100) { edges { node { id } } } }";

#[test]
fn restarting_on_a_seeded_dir_keeps_everything_and_duplicates_nothing() {
    let app = TestApp::spawn();
    let before = app.data(TOTALS);
    assert_eq!(before["sources"]["totalCount"], 4);
    let data_dir = app.data_dir.clone();
    let dir = app.stop();
    for _ in 0..2 {
        let again = TestApp::spawn_with(test_settings(&data_dir));
        assert_eq!(again.data(TOTALS), before);
        let search = again.data(r#"{ search(query: "Hezbollah") { node { id } } }"#);
        assert!(!search["search"].as_array().unwrap().is_empty());
        again.stop();
    }
    drop(dir);
}

#[test]
fn a_data_dir_in_use_is_refused_clearly() {
    let app = TestApp::spawn();
    let settings = test_settings(&app.data_dir);
    let err = match diplograph::app::open_store(&settings) {
        Ok(_) => panic!("a second store opened on a locked dir"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("in use"), "{err}");
    assert_eq!(app.get("/healthz").status, 200);
}

#[test]
fn health_and_offline_playground() {
    let app = TestApp::spawn();
    let health = app.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");

    let page = app.get("/");
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("GraphiQL"));
    assert!(
        !page.body.contains("https://") && !page.body.contains("http://"),
        "the playground must not load from a CDN"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        assert!(page.body.contains(&format!("/assets/graphiql/{asset}")));
        let reply = app.get(&format!("/assets/graphiql/{asset}"));
        assert_eq!(reply.status, 200, "{asset}");
        assert!(reply.body.len() > 5_000, "{asset}");
    }
    assert_eq!(app.get("/assets/graphiql/../../Cargo.toml").status, 404);

    // GET queries, as the playground's history links and caches use them.
    let reply =
        app.get("/graphql?query=%7B%20country(code%3A%20%22XK%22)%20%7B%20name%20%7D%20%7D");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["data"]["country"]["name"], "Kosovo");
    let reply = app.get("/graphql?query=query(%24c%3AString!)%7Bcountry(code%3A%24c)%7Bname%7D%7D&variables=%7B%22c%22%3A%22KE%22%7D");
    assert_eq!(reply.json()["data"]["country"]["name"], "Kenya");
}

#[test]
fn graphql_response_media_type_is_negotiated() {
    let app = TestApp::spawn();
    let ok = serde_json::json!({ "query": "{ country(code: \"XK\") { name } }" });
    let reply = app.post_with_accept("application/graphql-response+json", &ok);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, "application/graphql-response+json");
    let reply = app.post_with_accept("application/json", &ok);
    assert_eq!(reply.content_type, "application/json");
    let invalid = serde_json::json!({ "query": "{ nope }" });
    assert_eq!(
        app.post_with_accept("application/graphql-response+json", &invalid)
            .status,
        400
    );
    assert_eq!(
        app.post_with_accept("application/json", &invalid).status,
        200
    );
}

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_diplograph"));
    cmd.env_remove("RUST_LOG");
    cmd
}

#[test]
fn a_bad_config_value_is_a_one_line_error_naming_the_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("DIPLOGRAPH_LIMITS__MAX_PAGE_SIZE", "lots", "max_page_size"),
        ("DIPLOGRAPH_LISTEN", "not an address", "listen"),
        ("DIPLOGRAPH_WORKERS", "-3", "workers"),
        ("DIPLOGRAPH_NO_SUCH_KEY", "1", "no_such_key"),
    ];
    for (var, value, key) in cases {
        let out = binary()
            .env(var, value)
            .env("DIPLOGRAPH_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.to_lowercase().contains(key), "{var}: {stderr}");
    }
    let out = binary()
        .args(["serve", "--config", "/no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sigterm_stops_the_server_cleanly_and_it_restarts_on_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut child = binary()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            .env("DIPLOGRAPH_WORKERS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let url = format!("http://127.0.0.1:{port}/healthz");
        while ureq::get(&url).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert!(exit.success(), "{exit:?}");
    }
}

#[test]
fn api_keys_never_reach_the_logs_and_json_logs_carry_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .args(["keys", "create", "--name", "logcheck"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let secret = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(secret.starts_with("dg_"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let log = dir.path().join("server.log");
    let mut child = binary()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("RUST_LOG", "trace")
        .env("DIPLOGRAPH_WORKERS", "1")
        .env("DIPLOGRAPH_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}");
    while ureq::get(&format!("{url}/healthz")).call().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for key in [secret.as_str(), "dg_wrong-key"] {
        let _ = ureq::post(&format!("{url}/graphql"))
            .set("Content-Type", "application/json")
            .set("Authorization", &format!("Bearer {key}"))
            .send_string(r#"{"query":"mutation { deleteNode(id: \"eA\") { deletedIds } }"}"#);
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("served"),
        "the log should have request lines"
    );
    assert!(
        !logged.contains(&secret) && !logged.contains("dg_wrong-key"),
        "a key reached the log"
    );
}

/// An import killed after committing records but before writing their reverse references: the
/// server opening the data dir rebuilds that index, and serves the records from both ends.
#[test]
fn a_killed_imports_reference_index_is_rebuilt_when_the_server_opens_the_data_dir() {
    use diplograph::facts::Record;
    use diplograph::ingest::write::{Author, Mode, Writer};
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let mission = r#"{"type":"mission","key":"kosovo-embassy-nairobi-test","kind":"EMBASSY","sendingCountry":"XK","hostCountry":"KE","city":"Mombasa","status":"PLANNED","sources":[{"source":"kosovo-kenya-missions","excerpt":"Kosovo and Kenya"}]}"#;
    {
        let store = diplograph::app::open_store_seeding(&test_settings(&dir), true).unwrap();
        // What `import` does, except that it never gets to write the held edits.
        store.defer_reference_index(1_000_000).unwrap();
        let writer = Writer::new(store.clone(), None);
        let record: Record = serde_json::from_str(mission).unwrap();
        writer
            .write(
                vec![("line 1".into(), record)],
                Mode::Upsert,
                &Author::operator("import"),
            )
            .unwrap();
    }
    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(
        r#"{ missions(first: 100) { edges { node { city } } }
             country(code: "KE") { missionsHosted { city } } }"#,
    );
    let cities = |list: Vec<serde_json::Value>| -> Vec<String> {
        list.iter()
            .map(|m| m["city"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // Read from the mission's own tree, and through Kenya's referrers.
    assert!(cities(nodes(&data["missions"])).contains(&"Mombasa".to_string()));
    let hosted = cities(
        data["country"]["missionsHosted"]
            .as_array()
            .unwrap()
            .clone(),
    );
    assert!(hosted.contains(&"Mombasa".to_string()), "{hosted:?}");
}
