//! kill -9, as a power cut or the OOM killer would: a server under writes and an import are
//! killed mid-flight; no acknowledged write is lost, and the data dir checks clean and serves.

use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_diplograph"));
    command.env("RUST_LOG", "warn");
    command
}

fn run(args: &[&str], dir: &Path) -> Output {
    binary()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn kill9(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
}

/// A server on `dir`, up and answering; returns it and its base URL.
fn serve(dir: &Path) -> (Child, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let child = binary()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .env("DIPLOGRAPH_WORKERS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "no server");
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, base)
}

fn assert_checks_clean(dir: &Path) {
    if !dir.join("db").exists() {
        // Killed before it made a store: nothing to check.
        return;
    }
    let out = run(&["check"], dir);
    assert!(
        out.status.success() && text(&out.stdout).contains("no damage"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_server_killed_under_writes_loses_no_acknowledged_write() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("d");
    let out = run(&["keys", "create", "--name", "crash-bot"], &dir);
    let key = text(&out.stdout).trim().to_string();
    assert!(key.starts_with("dg_"), "{}", text(&out.stderr));
    let mut acknowledged_total = 0;
    for cycle in 0..3 {
        let (mut server, base) = serve(&dir);
        // Two clients write at once; each remembers the titles the server acknowledged.
        let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..2)
            .map(|client| {
                let (acknowledged, stop, count) = (acknowledged.clone(), stop.clone(), count.clone());
                let (base, key) = (base.clone(), key.clone());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let title = format!("Crash {cycle} client {client} write {n}");
                        let body = json!({ "query": "mutation($t: String!) { createSource(input: { title: $t, text: \"Durable?\" }) { id } }", "variables": { "t": title } });
                        let answer = ureq::post(&format!("{base}/graphql"))
                            .set("Authorization", &format!("Bearer {key}"))
                            .timeout(Duration::from_secs(30))
                            .send_json(body);
                        // A write cut off by the kill was never acknowledged; one that failed
                        // otherwise (a loaded machine) is tried again under another title.
                        let Some(value) = answer
                            .ok()
                            .and_then(|a| a.into_json::<serde_json::Value>().ok())
                        else {
                            n += 1;
                            std::thread::sleep(Duration::from_millis(20));
                            continue;
                        };
                        if let Some(id) = value["data"]["createSource"]["id"].as_str() {
                            acknowledged.lock().unwrap().push(id.to_string());
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        let started = Instant::now();
        while count.load(Ordering::Relaxed) < 25 + 10 * cycle {
            assert!(
                started.elapsed() < Duration::from_secs(180),
                "writes do not land"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        kill9(&mut server);
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            client.join().unwrap();
        }
        assert_checks_clean(&dir);
        let (mut server, base) = serve(&dir);
        let acknowledged = acknowledged.lock().unwrap().clone();
        acknowledged_total += acknowledged.len();
        for id in &acknowledged {
            let found: serde_json::Value = ureq::post(&format!("{base}/graphql"))
                .send_json(json!({ "query": "query($id: ID!) { node(id: $id) { id } }", "variables": { "id": id } }))
                .unwrap()
                .into_json()
                .unwrap();
            assert!(
                found["data"]["node"].is_object(),
                "cycle {cycle}: acknowledged write {id} was lost"
            );
        }
        kill9(&mut server);
    }
    assert!(acknowledged_total >= 25 + 35 + 45);
    assert_checks_clean(&dir);
}

#[test]
fn an_import_killed_midway_leaves_a_data_dir_that_checks_clean_and_imports_again() {
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("data.jsonl");
    let out = binary()
        .args(["generate", "--scale", "0.3", "--seed", "7", "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for (round, after) in [(0, 700u64), (1, 1500)].into_iter() {
        let dir = work.path().join(format!("d{round}"));
        let mut import = binary()
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(after));
        kill9(&mut import);
        // Whatever it got to (seeding, lines, the held reference index, the compaction),
        // the data dir opens whole.
        assert_checks_clean(&dir);
        let out = run(&["import", file.to_str().unwrap(), "--no-compact"], &dir);
        assert!(
            out.status.success() && text(&out.stdout).contains("rejected 0"),
            "round {round}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_checks_clean(&dir);
    }
}
