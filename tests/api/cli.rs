//! The command line: import, export and keys, as an operator runs them.

use crate::helpers::*;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

fn diplograph(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diplograph"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn export_import_export_is_byte_identical_and_reimport_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    let first = work.path().join("first.jsonl");
    let second = work.path().join("second.jsonl");
    // Some written data on top of the built-in set, through the example import.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/import-example.jsonl");
    let out = diplograph(&a, &["import", example]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "added 5, updated 0, unchanged 0, rejected 0"
    );
    assert!(diplograph(&a, &["export", "-o", first.to_str().unwrap()])
        .status
        .success());

    let out = diplograph(&b, &["import", "--no-builtin", first.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(diplograph(&b, &["export", "-o", second.to_str().unwrap()])
        .status
        .success());
    let (x, y) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert!(x.len() > 50_000, "{} bytes", x.len());
    assert!(x == y, "the second export differs from the first");

    let out = diplograph(&b, &["import", first.to_str().unwrap()]);
    let lines = String::from_utf8_lossy(&x).lines().count();
    assert_eq!(
        stdout(&out).trim(),
        format!("added 0, updated 0, unchanged {lines}, rejected 0")
    );
}

#[test]
fn rejected_lines_are_reported_and_the_rest_imported_unless_strict() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("mixed.jsonl");
    let lines = [
        r#"{"type":"organization","key":"org-one","name":"Org One","kind":"NGO","sources":[{"source":"kosovo-kenya-missions","excerpt":"Kosovo and Kenya"}]}"#,
        r#"{"type":"organization","key":"org-two","name":"Org Two","kind":"NGO","country":"QQ","sources":[{"source":"kosovo-kenya-missions","excerpt":"Kosovo and Kenya"}]}"#,
        r#"this is not json"#,
        r#"{"type":"organization","key":"org-three","name":"Org Three","kind":"NGO","sources":[{"source":"kosovo-kenya-missions","excerpt":"Kosovo and Kenya"}]}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let lenient = work.path().join("lenient");
    let out = diplograph(&lenient, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).trim(),
        "added 2, updated 0, unchanged 0, rejected 2"
    );
    let err = stderr(&out);
    assert!(
        err.contains("line 2: rejected") && err.contains("QQ"),
        "{err}"
    );
    assert!(
        err.contains("line 3: rejected") && err.contains("not a record"),
        "{err}"
    );

    let strict = work.path().join("strict");
    let out = diplograph(&strict, &["import", "--strict", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
    let app = TestApp::spawn_with(test_settings(&strict));
    let orgs = app.data(r#"{ organizations(filter: { kind: NGO }) { edges { node { name } } } }"#);
    assert_eq!(
        names(&serde_json::Value::Array(nodes(&orgs["organizations"]))),
        ["Org One"]
    );
}

#[test]
fn imported_facts_are_served_and_searchable() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/import-example.jsonl");
    assert!(diplograph(&dir, &["import", example]).status.success());
    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(r#"{ people(filter: { name: "Gervalla" }) { edges { node { name statements { edges { node { text direct source { excerpt } } } } } } }
                             search(query: "partner every day") { node { __typename } } }"#);
    let person = &nodes(&data["people"])[0];
    assert_eq!(person["name"], "Donika Gërvalla");
    assert_eq!(nodes(&person["statements"])[0]["direct"], true);
    assert!(data["search"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["node"]["__typename"] == "Statement"));
    // The server holds the store: the CLI is refused clearly.
    let out = diplograph(&dir, &["import", example]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
}

#[test]
fn keys_are_created_used_listed_and_revoked() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let out = diplograph(
        &dir,
        &["keys", "create", "--name", "newsroom", "--role", "writer"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_string();
    assert!(secret.starts_with("dg_"));
    let out = diplograph(&dir, &["keys", "create", "--name", "x", "--role", "boss"]);
    assert_eq!(out.status.code(), Some(2));

    let mutation = r#"mutation { createOrganization(input: { name: "Newsroom Org", kind: MEDIA, sources: [{ source: "kosovo-kenya-missions", excerpt: "Kosovo and Kenya" }] }) { name } }"#;
    let app = TestApp::spawn_with(test_settings(&dir));
    assert_eq!(
        app.data_as(&secret, mutation, json!({}))["createOrganization"]["name"],
        "Newsroom Org"
    );
    let history = app.data(r#"{ organizations(filter: { name: "Newsroom Org" }) { edges { node { changeLog { revisions { by } } } } } }"#);
    assert_eq!(
        nodes(&history["organizations"])[0]["changeLog"]["revisions"][0]["by"],
        "key:newsroom"
    );
    app.stop();

    let list = stdout(&diplograph(&dir, &["keys", "list"]));
    assert!(
        list.contains("newsroom\twriter") && list.contains("active"),
        "{list}"
    );
    assert!(!list.contains(&secret));
    assert!(diplograph(&dir, &["keys", "revoke", "newsroom"])
        .status
        .success());
    assert!(stdout(&diplograph(&dir, &["keys", "list"])).contains("revoked"));
    assert!(!diplograph(&dir, &["keys", "revoke", "nobody"])
        .status
        .success());

    let app = TestApp::spawn_with(test_settings(&dir));
    assert_eq!(
        app.error_as(&secret, mutation, json!({}))["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}

#[test]
fn generated_data_sets_are_deterministic_and_import_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let file = |name: &str| work.path().join(name);
    let dir = file("d");
    for (name, seed) in [("a.jsonl", "7"), ("b.jsonl", "7"), ("c.jsonl", "8")] {
        let out = diplograph(
            &dir,
            &[
                "generate",
                "--scale",
                "0.05",
                "--seed",
                seed,
                "-o",
                file(name).to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (a, b, c) = (
        std::fs::read(file("a.jsonl")).unwrap(),
        std::fs::read(file("b.jsonl")).unwrap(),
        std::fs::read(file("c.jsonl")).unwrap(),
    );
    assert!(a == b, "the same seed must give the same bytes");
    assert!(a != c, "another seed, other data");
    let out = diplograph(&dir, &["import", file("a.jsonl").to_str().unwrap()]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    // A bulk load into a new data dir is compacted after it.
    assert!(stderr(&out).contains("compacted"), "{}", stderr(&out));
    let lines = String::from_utf8_lossy(&a).lines().count();
    assert_eq!(
        stdout(&out).trim(),
        format!("added {lines}, updated 0, unchanged 0, rejected 0")
    );
    assert!(!diplograph(&dir, &["generate", "--scale", "-1"])
        .status
        .success());

    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(r#"{ statements { totalCount } events { totalCount } search(query: "statement 42") { node { __typename } } }"#);
    assert_eq!(data["statements"]["totalCount"], 16 + 500);
    assert_eq!(data["events"]["totalCount"], 9 + 50);
    assert!(!data["search"].as_array().unwrap().is_empty());
}

#[test]
fn compaction_keeps_every_record_and_is_refused_while_serving() {
    let work = tempfile::tempdir().unwrap();
    let file = |name: &str| work.path().join(name);
    let dir = file("d");
    let out = diplograph(&dir, &["compact"]);
    assert!(!out.status.success(), "nothing to compact yet");
    assert!(stderr(&out).contains("holds no store"), "{}", stderr(&out));

    let data = file("data.jsonl");
    let generated = ["generate", "--scale", "0.05", "-o", data.to_str().unwrap()];
    assert!(diplograph(&dir, &generated).status.success());
    let out = diplograph(&dir, &["import", "--no-compact", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("compacted"), "{}", stderr(&out));
    let before = file("before.jsonl");
    assert!(
        diplograph(&dir, &["export", "-o", before.to_str().unwrap()])
            .status
            .success()
    );

    // What a compaction that stopped half-way leaves beside the data dir; the next one clears it.
    let stopped = work.path().join(".d.compacting");
    std::fs::create_dir_all(stopped.join("search")).unwrap();
    std::fs::write(stopped.join("db"), b"half a copy").unwrap();
    let out = diplograph(&dir, &["compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("compacted "), "{}", stdout(&out));
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("compacting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let after = file("after.jsonl");
    assert!(diplograph(&dir, &["export", "-o", after.to_str().unwrap()])
        .status
        .success());
    assert!(
        std::fs::read(&before).unwrap() == std::fs::read(&after).unwrap(),
        "the compacted store exports other records"
    );

    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(
        r#"{ statements { totalCount } search(query: "statement 42") { node { __typename } } }"#,
    );
    assert_eq!(data["statements"]["totalCount"], 16 + 500);
    assert!(!data["search"].as_array().unwrap().is_empty());
    let out = diplograph(&dir, &["compact"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
    assert_eq!(
        app.data("{ statements { totalCount } }")["statements"]["totalCount"],
        16 + 500
    );
}

/// The referrers of a popular country span several chunks of the packed index: a cursor walk
/// through them finds exactly the statements the imported file says are about it.
#[test]
fn a_popular_countrys_statements_page_across_index_chunks_as_imported() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let data = work.path().join("data.jsonl");
    let generated = [
        "generate",
        "--scale",
        "0.2",
        "--seed",
        "3",
        "-o",
        data.to_str().unwrap(),
    ];
    assert!(diplograph(&dir, &generated).status.success());
    let mut about: std::collections::HashMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for line in std::fs::read_to_string(&data).unwrap().lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        if record["type"] == "statement" {
            for target in record["about"].as_array().unwrap() {
                if let Some(code) = target.as_str().unwrap().strip_prefix("country:") {
                    about
                        .entry(code.to_string())
                        .or_default()
                        .insert(record["text"].as_str().unwrap().to_string());
                }
            }
        }
    }
    let (code, expected) = about.iter().max_by_key(|(_, texts)| texts.len()).unwrap();
    assert!(
        expected.len() > 256,
        "only {} statements about {code}",
        expected.len()
    );
    let out = diplograph(&dir, &["import", data.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let app = TestApp::spawn_with(test_settings(&dir));
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.data_with(
            "query($code: String!, $after: String) { country(code: $code) { statements(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { text } } } } }",
            json!({ "code": code, "after": after }),
        );
        let statements = &page["country"]["statements"];
        assert_eq!(statements["totalCount"], expected.len());
        walked.extend(
            statements["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["text"].as_str().unwrap().to_string()),
        );
        if statements["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = statements["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_string);
    }
    assert_eq!(walked.len(), expected.len(), "each statement once");
    let walked: std::collections::BTreeSet<String> = walked.into_iter().collect();
    assert_eq!(&walked, expected);
}

fn organization_line(key: &str) -> String {
    format!(
        r#"{{"type":"organization","key":"{key}","name":"Org {key}","kind":"NGO","sources":[{{"source":"kosovo-kenya-missions","excerpt":"Kosovo and Kenya"}}]}}"#
    )
}

/// A line that is not UTF-8 is one rejected line, with its number; the lines around it land.
#[test]
fn a_line_of_invalid_utf8_is_rejected_alone() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("bytes.jsonl");
    let mut bytes = Vec::new();
    for i in 0..5 {
        bytes.extend_from_slice(organization_line(&format!("before-{i}")).as_bytes());
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(b"{\"type\":\"organization\",\"key\":\"bad\xff\xfe\"}\n");
    for i in 0..5 {
        bytes.extend_from_slice(organization_line(&format!("after-{i}")).as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    std::fs::write(&file, bytes).unwrap();
    let dir = work.path().join("d");
    let out = diplograph(&dir, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "added 10, updated 0, unchanged 0, rejected 1"
    );
    let err = stderr(&out);
    assert!(err.contains("line 6") && err.contains("UTF-8"), "{err}");
}

/// A data dir made without the built-in dataset stays without it, whatever opens it next.
#[test]
fn a_store_imported_without_the_builtin_dataset_is_never_seeded_later() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("xk.jsonl");
    std::fs::write(
        &file,
        r#"{"type":"country","code":"XK","alpha3":"XKX","name":"Dardania (renamed)"}"#,
    )
    .unwrap();
    let dir = work.path().join("d");
    let out = diplograph(&dir, &["import", "--no-builtin", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for _ in 0..2 {
        let export = Command::new(env!("CARGO_BIN_EXE_diplograph"))
            .args(["export", "--data-dir"])
            .arg(&dir)
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        assert!(export.status.success(), "{}", stderr(&export));
        let text = stdout(&export);
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("Dardania (renamed)"), "{text}");
        assert!(
            !stderr(&export).contains("seeded the store"),
            "{}",
            stderr(&export)
        );
    }
    // And a server on it serves only what was imported.
    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(r#"{ country(code: "XK") { name } countries { totalCount } }"#);
    assert_eq!(data["country"]["name"], "Dardania (renamed)");
    assert_eq!(data["countries"]["totalCount"], 1);
}

/// A compaction killed before it finished leaves its copy beside the data dir; whatever opens
/// the store next removes it.
#[test]
fn the_next_open_clears_what_a_killed_compaction_left() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let out = diplograph(&dir, &["keys", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let leftover = work.path().join(".d.compacting");
    std::fs::create_dir_all(leftover.join("search")).unwrap();
    std::fs::write(leftover.join("db"), vec![0u8; 4096]).unwrap();
    let out = diplograph(
        &dir,
        &[
            "export",
            "-o",
            work.path().join("x.jsonl").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!leftover.exists(), "the leftover copy is still there");
}

/// An export that forgot a kind would still round-trip; so the export of the built-in set must
/// hold every kind the registry lists (the seed has facts of each).
#[test]
fn an_export_holds_every_kind_of_the_registry() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let file = work.path().join("all.jsonl");
    let out = diplograph(&dir, &["export", "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut types = std::collections::BTreeSet::new();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        types.insert(record["type"].as_str().unwrap().to_string());
    }
    for kind in diplograph::domain::STORED {
        let name = kind.as_str();
        let tag = name[..1].to_ascii_lowercase() + &name[1..];
        assert!(types.contains(&tag), "the export has no {tag}: {types:?}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A data dir written by the build that introduced storage format 3 (the built-in set, the
/// example import with its revisions, a writer key), kept in the repository: every later build
/// must open it, find it undamaged and export exactly what that build exported. A change of
/// format that forgets its upgrade fails here.
#[test]
fn a_data_dir_from_the_format_3_build_opens_checks_and_exports_the_same() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    copy_dir(&fixtures.join("data-format-3"), &dir);

    let out = diplograph(&dir, &["check"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let exported = work.path().join("export.jsonl");
    let out = diplograph(&dir, &["export", "-o", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = std::fs::read_to_string(fixtures.join("data-format-3.jsonl")).unwrap();
    let got = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(got.lines().count(), expected.lines().count());
    for (got, expected) in got.lines().zip(expected.lines()) {
        assert_eq!(got, expected);
    }
    let out = diplograph(&dir, &["keys", "list"]);
    assert!(
        stdout(&out).contains("fixture-writer\twriter"),
        "{}",
        stdout(&out)
    );

    let app = TestApp::spawn_with(test_settings(&dir));
    let data = app.data(
        r#"{ country(code: "XK") { memberships { status } } node(id: "Q291bnRyeTpYSw") { id } }"#,
    );
    assert_eq!(
        data["country"]["memberships"],
        json!([{ "status": "INTENDS_TO_JOIN" }])
    );
}

#[test]
fn eval_scores_a_directory_of_articles_and_names_what_it_cannot_read() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("one.txt"),
        "date 2021-02-01\n\nKosovo and Israel established relations. \"This is a historic day for us,\" \
         Kosovo Foreign Minister Meliza Haradinaj-Stublla said.",
    )
    .unwrap();
    std::fs::write(
        work.path().join("one.expected.json"),
        r#"{"countries": ["XK", "IL"], "organizations": [],
            "people": [{"name": "Meliza Haradinaj-Stublla", "posts": [{"title": "Foreign Minister", "country": "XK"}]}],
            "quotes": [{"starts": "This is a historic day", "speaker": "Meliza Haradinaj-Stublla", "direct": true}]}"#,
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_diplograph"))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    };
    let dir = work.path().to_str().unwrap();
    let out = run(&["eval", dir, "--each"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(table.contains("## one"), "{table}");
    assert!(table.contains("## 1 articles"), "{table}");
    assert!(table.contains("words/s on one thread"), "{table}");
    for row in [
        "| countries | 1.00 | 1.00 | 2 | 2 | 2 | 2 |",
        "| people | 1.00 | 1.00 | 1 | 1 | 1 | 1 |",
        "| posts | 1.00 | 1.00 | 1 | 1 | 1 | 1 |",
        "| direct quotes with their speaker | 1.00 | 1.00 | 1 | 1 | 1 | 1 |",
    ] {
        assert!(table.contains(row), "{row} missing from\n{table}");
    }
    let missing = work.path().join("nowhere");
    let out = run(&["eval", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nowhere"), "{}", stderr(&out));
}
