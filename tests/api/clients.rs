//! Real clients, not our helper: the graphql-http conformance audit, graphql-request and
//! graphql-ws from npm, and GraphiQL in headless Chromium. They need `npm ci --prefix clients`
//! and Debian's chromium, which .ci/run installs; elsewhere, without them, these tests say so
//! and pass, except under CI (CI=true), where a missing tool fails them.

use crate::helpers::*;
use std::path::PathBuf;
use std::process::Command;

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// Runs a client script with node; None when the tools are missing outside CI.
fn node(script: &str, args: &[&str], needs_chromium: bool) -> Option<String> {
    let modules = clients_dir().join("node_modules");
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if Command::new("node").arg("--version").output().is_err() {
        Some("node".to_string())
    } else if !modules.exists() {
        Some(format!(
            "{} (run `npm ci --prefix clients`)",
            modules.display()
        ))
    } else if needs_chromium && !std::path::Path::new(&chromium).exists() {
        Some(format!("{chromium} (apt-get install chromium)"))
    } else {
        None
    };
    if let Some(what) = missing {
        assert!(std::env::var_os("CI").is_none(), "CI must provide {what}");
        eprintln!("skipped {script}: {what} is missing");
        return None;
    }
    let out = Command::new("node")
        .arg(clients_dir().join(script))
        .args(args)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

#[test]
fn graphql_over_http_audit_passes_every_check() {
    let app = TestApp::spawn();
    if let Some(out) = node("audit.mjs", &[&format!("{}/graphql", app.base)], false) {
        assert!(out.contains("audit: 61 passed, 0 failed"), "{out}");
    }
}

#[test]
fn graphql_request_and_graphql_ws_clients_work() {
    let (app, keys) = TestApp::spawn_with_keys();
    if let Some(out) = node(
        "clients.mjs",
        &[&format!("{}/graphql", app.base), &keys.writer],
        false,
    ) {
        assert!(out.contains("clients: 5 passed, 0 failed"), "{out}");
    }
}

#[test]
fn the_playground_runs_a_query_and_a_subscription_in_a_real_browser() {
    let (app, keys) = TestApp::spawn_with_keys();
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("playground.png");
    let _ = std::fs::remove_file(&screenshot);
    let page = format!("{}/", app.base);
    let args = [
        page.as_str(),
        screenshot.to_str().unwrap(),
        keys.writer.as_str(),
    ];
    if let Some(out) = node("browser.mjs", &args, true) {
        assert!(out.contains("browser: 7 passed, 0 failed"), "{out}");
        assert!(
            std::fs::metadata(&screenshot)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "no screenshot"
        );
    }
}
