//! Operations on a live server: an online backup taken while another client writes, restored
//! into a new data dir, checked, and served.

use crate::helpers::*;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn diplograph(args: &[&str], data_dir: &Path, key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_diplograph"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn");
    if let Some(key) = key {
        command.env("DIPLOGRAPH_KEY", key);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CREATE: &str = "mutation($title: String!) { createSource(input: { title: $title, text: \"Written while a backup runs.\" }) { id } }";

#[test]
fn an_online_backup_taken_during_writes_restores_to_a_consistent_checked_store() {
    let work = tempfile::tempdir().unwrap();
    let backups = work.path().join("backups");
    let (app, keys) = TestApp::spawn_with_keys_and(|s| s.backup_dir = backups.clone());
    // A client writes numbered sources, one after another, for as long as the backup runs.
    let acknowledged = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        let (base, key) = (app.base.clone(), keys.writer.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 2000 {
                let body = json!({ "query": CREATE, "variables": { "title": format!("Backup write {n:05}") } });
                let response: serde_json::Value = ureq::post(&format!("{base}/graphql"))
                    .set("Authorization", &format!("Bearer {key}"))
                    .send_json(body)
                    .unwrap()
                    .into_json()
                    .unwrap();
                assert!(response.get("errors").is_none(), "{response}");
                n += 1;
                *acknowledged.lock().unwrap() = n;
            }
        })
    };
    while *acknowledged.lock().unwrap() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let before = *acknowledged.lock().unwrap();
    let out = diplograph(
        &["backup", "during-writes", "--server", &app.base],
        &work.path().join("unused"),
        Some(&keys.admin),
    );
    let after = *acknowledged.lock().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = text(&out.stdout).trim().to_string();
    assert_eq!(Path::new(&path), backups.join("during-writes"));
    // Writes go on after the backup, and the server still serves.
    while *acknowledged.lock().unwrap() < after + 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // Another backup of the same name is refused; writers may not take backups.
    let again = diplograph(
        &["backup", "during-writes", "--server", &app.base],
        work.path(),
        Some(&keys.admin),
    );
    assert!(
        !again.status.success() && text(&again.stderr).contains("CONFLICT"),
        "{}",
        text(&again.stderr)
    );
    let writer_key = diplograph(
        &["backup", "other", "--server", &app.base],
        work.path(),
        Some(&keys.writer),
    );
    assert!(
        text(&writer_key.stderr).contains("FORBIDDEN"),
        "{}",
        text(&writer_key.stderr)
    );

    let restored = work.path().join("restored");
    let out = diplograph(&["restore", &path], &restored, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = diplograph(&["check"], &restored, None);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("no damage"),
        "{}",
        text(&out.stdout)
    );
    // Restoring over a store needs --force, and keeps the old one.
    let out = diplograph(&["restore", &path], &restored, None);
    assert!(!out.status.success());
    let out = diplograph(&["restore", &path, "--force"], &restored, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("before-restore"),
        "{}",
        text(&out.stderr)
    );

    // The copy is one moment of the store: every write acknowledged before the backup began,
    // a run of the writes after it, and none it never saw.
    let served = TestApp::spawn_with(test_settings(&restored));
    let count = |app: &TestApp| {
        app.data(r#"{ sources(first: 1) { totalCount } }"#)["sources"]["totalCount"]
            .as_u64()
            .unwrap() as usize
    };
    let builtin = count(&app) - *acknowledged.lock().unwrap();
    let in_backup = count(&served) - builtin;
    assert!(
        (before..=after).contains(&in_backup),
        "{in_backup} writes in the backup; {before} were acknowledged before it began, {after} when it ended"
    );
    let exists = |n: usize| {
        use base64::Engine;
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("Source:backup-write-{n:05}"));
        served.data_with(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )["node"]
            .is_object()
    };
    for n in [0, before - 1, in_backup - 1] {
        assert!(exists(n), "write {n} is missing from the backup");
    }
    assert!(
        !exists(in_backup),
        "write {in_backup} is in the backup, but not those before it"
    );
}

/// `check` on a healthy data dir says so and exits 0; on a dir with no store it refuses,
/// and leaves the dir as it was (a mistyped path must not become a store that is never seeded).
#[test]
fn check_passes_a_fresh_store_and_refuses_a_dir_without_one() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let out = diplograph(&["check"], &dir, None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("holds no store"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("db").exists());
    let out = diplograph(&["keys", "list"], &dir, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = diplograph(&["check"], &dir, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no damage"));
}
