//! The benchmark harness: `cargo run --release --bin bench -- --scale 10`.
//!
//! Generates a data set, imports it into a fresh data dir (records/s, peak RSS), compares the
//! store's size with its export before and after `diplograph compact`, then starts three
//! servers, each pinned to core 0 with one worker: the real server with its caches off (cold
//! start, RSS), the framework floor (the same queries on async-graphql over in-memory structs)
//! and the real server with its caches on. Every query is checked once on each (no errors, the
//! same `data` everywhere) and warmed up; then, `--repeat` rounds, each driving with wrk pinned
//! to core 1 the ceiling (a route answering a fixed body of the nested query's size) and every
//! query on the three servers in turn. The report gives each measurement's median, as ratios to
//! the ceiling and to the floor. Writes bench/results.md.

mod floor;
mod mixed;

use clap::{Parser, Subcommand};
use diplograph::app::Application;
use diplograph::config::Settings;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    child: Option<Phase>,
    /// Data set size (see `diplograph generate`).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds per load run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// Runs per measurement; the report gives medians.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    #[arg(long, default_value = "bench/results.md")]
    output: PathBuf,
    /// Work dir (data set, data dir); a temporary one when omitted.
    #[arg(long)]
    work: Option<PathBuf>,
    /// The bench binary of an earlier build: its server (caches off) runs beside this one's, on
    /// a copy of the same data dir, checked to give the same answers, in the same rounds; the
    /// report adds each query's ratio to it.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Above 0: after the rounds, six ordinary reads from 16 clients against the server with
    /// its default caches, read-only, then with this share of writes, then writes only; reads
    /// and writes reported apart.
    #[arg(long, default_value_t = 0.0)]
    write_share: f64,
}

/// The phases that run in their own process.
#[derive(Subcommand)]
enum Phase {
    #[command(name = "import-child", hide = true)]
    Import { file: PathBuf, dir: PathBuf },
    #[command(name = "serve-child", hide = true)]
    Serve {
        dir: PathBuf,
        port: u16,
        /// With the parsed-query and response caches (off otherwise, to measure the engine).
        #[arg(long)]
        caches: bool,
        /// With the parsed-query cache only (the response cache off).
        #[arg(long)]
        parsed_queries: bool,
    },
    #[command(name = "floor-child", hide = true)]
    Floor { dir: PathBuf, port: u16 },
    #[command(name = "yardstick-child", hide = true)]
    Yardstick { dir: PathBuf, seconds: u64 },
    #[command(name = "mixed-child", hide = true)]
    Mixed {
        port: u16,
        key: String,
        seconds: u64,
        share: f64,
        connections: usize,
    },
}

fn peak_rss_kb(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")
                .or_else(|| l.strip_prefix("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn settings(dir: &Path, listen: String) -> Settings {
    Settings {
        listen,
        data_dir: dir.to_path_buf(),
        workers: 1,
        log: "warn".into(),
        bench_routes: true,
        ..Settings::default()
    }
}

fn import_child(file: &Path, dir: &Path) -> Result<(), String> {
    let settings = diplograph::app::for_bulk_load(&settings(dir, "127.0.0.1:0".into()));
    let store = diplograph::app::open_store(&settings).map_err(|e| e.to_string())?;
    let input = std::io::BufReader::new(std::fs::File::open(file).map_err(|e| e.to_string())?);
    let started = Instant::now();
    let load = diplograph::app::begin_load(&settings, &store).map_err(|e| e.to_string())?;
    let summary = diplograph::ingest::bulk::import(&load.writer, input, true, |_| {}, |_| {})
        .map_err(|e| e.to_string())?;
    // As `diplograph import` into a new data dir: the compaction that follows (timed on its
    // own) settles the store, so it is closed, not reopened.
    diplograph::app::close_after_load(&settings, store, load).map_err(|e| e.to_string())?;
    println!(
        "records={} seconds={} peak_kb={}",
        summary.added,
        started.elapsed().as_secs_f64(),
        peak_rss_kb("self")
    );
    Ok(())
}

fn serve_child(dir: &Path, port: u16, caches: bool, parsed_queries: bool) -> Result<(), String> {
    let mut settings = settings(dir, format!("127.0.0.1:{port}"));
    if !caches {
        settings.cache.response_bytes = 0;
        if !parsed_queries {
            settings.cache.parsed_queries = 0;
        }
    }
    actix_web::rt::System::new().block_on(async {
        let app = Application::build(&settings).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// One POST over a fresh connection: status and body.
fn post(port: u16, path: &str, body: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok((status, body.to_string()))
}

fn graphql(port: u16, query: &str) -> Result<serde_json::Value, String> {
    let (status, body) = post(
        port,
        "/graphql",
        &serde_json::json!({ "query": query }).to_string(),
    )?;
    let value: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if status != 200 || value.get("errors").is_some() || value["data"].is_null() {
        return Err(format!("query failed ({status}): {body}"));
    }
    Ok(value)
}

#[derive(Clone, Copy)]
struct Load {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn duration_ms(text: &str) -> Option<f64> {
    let number: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let value: f64 = number.parse().ok()?;
    let unit = &text[number.len()..];
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        _ => return None,
    })
}

/// wrk on core 1, a fixed POST body, for `seconds`.
fn wrk(
    port: u16,
    path: &str,
    body: &str,
    seconds: u64,
    cli: &Cli,
    work: &Path,
) -> Result<Load, String> {
    let script = work.join("post.lua");
    std::fs::write(
        &script,
        format!("wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [==[{body}]==]\n"),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new("taskset")
        .args([
            "-c",
            "1",
            "wrk",
            "-t1",
            &format!("-c{}", cli.connections),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("wrk saw failed requests:\n{text}"));
    }
    let find = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_string()))
    };
    let rate = find("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no rate in:\n{text}"))?;
    let p50 = find("50%").and_then(|v| duration_ms(&v)).ok_or("no p50")?;
    let p99 = find("99%").and_then(|v| duration_ms(&v)).ok_or("no p99")?;
    Ok(Load {
        rate,
        p50_ms: p50,
        p99_ms: p99,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run(cli: &Cli) -> Result<(), String> {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("installing wrk (Debian package)");
        let ok = Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err("wrk is missing and could not be installed (apt-get install wrk)".into());
        }
    }
    let temp = std::env::temp_dir().join(format!("diplograph-bench-{}", std::process::id()));
    let work = cli.work.clone().unwrap_or_else(|| temp.clone());
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let data = work.join("data.jsonl");
    let dir = work.join("store");
    let _ = std::fs::remove_dir_all(&dir);

    eprintln!("generating scale {}", cli.scale);
    let countries =
        diplograph::ingest::dataset::load(&diplograph::ingest::dataset::DatasetFiles::builtin())
            .map_err(|e| e.to_string())?
            .countries
            .into_iter()
            .map(|c| c.code)
            .collect();
    let mut file =
        std::io::BufWriter::new(std::fs::File::create(&data).map_err(|e| e.to_string())?);
    let plan = diplograph::ingest::generate::generate(cli.scale, cli.seed, countries, &mut file)
        .map_err(|e| e.to_string())?;
    drop(file);

    eprintln!("importing {} records", plan.records());
    let out = Command::new(&me)
        .arg("import-child")
        .arg(&data)
        .arg(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "import failed: {line}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let field = |name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let (records, seconds, import_peak_kb) = (field("records"), field("seconds"), field("peak_kb"));

    let store_bytes = diplograph::app::dir_size(&dir);
    let export_path = work.join("export.jsonl");
    {
        let store = diplograph::store::Store::open(&dir).map_err(|e| e.to_string())?;
        let f = std::fs::File::create(&export_path).map_err(|e| e.to_string())?;
        diplograph::ingest::bulk::export(&store, std::io::BufWriter::new(f))
            .map_err(|e| e.to_string())?;
    }
    let export_bytes = std::fs::metadata(&export_path)
        .map(|m| m.len())
        .unwrap_or(0);

    // What an operator runs after a large import; sled writing every entry in key order, with
    // no checks, is also the floor the import's time is compared with.
    eprintln!("compacting the store");
    let started = Instant::now();
    let compaction = diplograph::app::compact(&settings(&dir, "127.0.0.1:0".into()))
        .map_err(|e| e.to_string())?;
    let compact_seconds = started.elapsed().as_secs_f64();

    // The import's and the compaction's writeback would otherwise land on whichever server
    // is measured first.
    let _ = Command::new("sync").status();
    // sled locks a data dir to one process: the floor loads from a copy, and the cached server
    // serves that copy.
    let copy = work.join("store-copy");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&dir, &copy).map_err(|e| format!("copying the store: {e}"))?;
    // The mixed load writes to the cached server's copy, with a key of its own.
    let writer_key = match cli.write_share > 0.0 {
        true => Some({
            let store = diplograph::store::Store::open(&copy).map_err(|e| e.to_string())?;
            store
                .create_key("bench-writer", diplograph::store::KeyRole::Writer)
                .map_err(|e| e.to_string())?
        }),
        false => None,
    };
    // The server with only its parsed-query cache serves a copy of its own.
    let copy_for_parsed = work.join("store-parsed");
    let _ = std::fs::remove_dir_all(&copy_for_parsed);
    copy_dir(&dir, &copy_for_parsed).map_err(|e| format!("copying the store: {e}"))?;
    // A closed copy for the baseline, whose own copy is made once the others run.
    let dir_for_baseline = work.join("store-closed");
    if cli.baseline.is_some() {
        let _ = std::fs::remove_dir_all(&dir_for_baseline);
        copy_dir(&dir, &dir_for_baseline).map_err(|e| format!("copying the store: {e}"))?;
    }

    eprintln!("starting the server on core 0");
    let started = Instant::now();
    let server = Pinned::start(&me, "serve-child", &dir, &[])?;
    let cold_start = started.elapsed().as_secs_f64();
    let rss_start = rss_kb(server.child.id());
    eprintln!("starting the framework floor, the cached server and the server with its parsed-query cache on core 0");
    let others =
        Pinned::start(&me, "floor-child", &copy, &[]).and_then(|floor| {
            match Pinned::start(&me, "serve-child", &copy, &["--caches"]) {
                Ok(cached) => {
                    match Pinned::start(&me, "serve-child", &copy_for_parsed, &["--parsed-queries"])
                    {
                        Ok(parsed) => Ok((floor, cached, parsed)),
                        Err(e) => {
                            floor.stop();
                            cached.stop();
                            Err(e)
                        }
                    }
                }
                Err(e) => {
                    floor.stop();
                    Err(e)
                }
            }
        });
    let (floor, cached, parsed) = match others {
        Ok(servers) => servers,
        Err(e) => {
            server.stop();
            return Err(e);
        }
    };
    let baseline = match &cli.baseline {
        Some(binary) => {
            eprintln!("starting the baseline server on core 0");
            let copy = work.join("store-baseline");
            let _ = std::fs::remove_dir_all(&copy);
            let started = copy_dir(&dir_for_baseline, &copy)
                .map_err(|e| format!("copying the store: {e}"))
                .and_then(|()| Pinned::start(binary, "serve-child", &copy, &[]));
            match started {
                Ok(pinned) => Some(pinned),
                Err(e) => {
                    server.stop();
                    floor.stop();
                    cached.stop();
                    parsed.stop();
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let port = server.port;
    let result = (|| -> Result<String, String> {
        let queries = queries(port)?;
        // Each query checked once on each server: load tools count a 200 with errors as a
        // success, and the floor and the caches must give the engine's answers.
        let mut checked = Vec::new();
        for (name, query) in &queries {
            let value = graphql(port, query)?;
            let mut others = vec![
                (floor.port, "floor"),
                (cached.port, "cached server"),
                (parsed.port, "server with its parsed-query cache"),
            ];
            if let Some(b) = &baseline {
                others.push((b.port, "baseline server"));
            }
            for (other, label) in others {
                let data = graphql(other, query)?["data"].clone();
                if data != value["data"] {
                    return Err(format!(
                        "the {label}'s answer to '{name}' differs from the server's:\n{data}\n{}",
                        value["data"]
                    ));
                }
            }
            checked.push(Checked {
                name,
                body: serde_json::json!({ "query": query }).to_string(),
                bytes: value.to_string().len(),
            });
        }
        let nested_bytes = checked[NESTED].bytes;
        let ceiling_path = format!("/bench/ceiling?bytes={nested_bytes}");
        let warm_up = cli.duration.clamp(1, 2);
        let mut targets = vec![port, floor.port, cached.port, parsed.port];
        if let Some(b) = &baseline {
            targets.push(b.port);
        }
        for query in &checked {
            for &target in &targets {
                wrk(target, "/graphql", &query.body, warm_up, cli, &work)?;
            }
        }
        // Rounds rather than one server after another: each round runs the ceiling, then
        // each query on the engine, the floor and the cached server in turn, so that the
        // machine drifting over the run weighs on all of them alike.
        let mut ceiling_runs = Vec::new();
        let mut yardstick_runs = Vec::new();
        // Per query, per target (engine, floor, cached, parsed-query cache, baseline), one run
        // per round.
        let mut runs: Vec<Vec<Vec<Result<Load, String>>>> = checked
            .iter()
            .map(|_| targets.iter().map(|_| Vec::new()).collect())
            .collect();
        for round in 0..cli.repeat {
            eprintln!("round {} of {}: ceiling", round + 1, cli.repeat);
            ceiling_runs.push(wrk(
                port,
                &ceiling_path,
                &checked[NESTED].body,
                cli.duration,
                cli,
                &work,
            )?);
            for (position, (query, runs)) in checked.iter().zip(&mut runs).enumerate() {
                eprintln!("round {} of {}: {}", round + 1, cli.repeat, query.name);
                // Every other round runs the servers in reverse order: a server measured
                // right after another pays for what that one left behind, and a fixed order
                // would charge that to the same server every round.
                let mut order: Vec<usize> = (0..targets.len()).collect();
                if round % 2 == 1 {
                    order.reverse();
                }
                for i in order {
                    runs[i].push(wrk(
                        targets[i],
                        "/graphql",
                        &query.body,
                        cli.duration,
                        cli,
                        &work,
                    ));
                }
                if position == SEARCH {
                    eprintln!("round {} of {}: tantivy alone", round + 1, cli.repeat);
                    yardstick_runs.push(yardstick(&me, &dir.join("search"), cli.duration)?);
                }
            }
        }
        let rss_after = rss_kb(server.child.id());
        let search_report = format!(
            "\nFull-text search against tantivy alone (the same index, words and top {SEARCH_HITS} by BM25, \
             no node ids, snippets, store or HTTP; one thread pinned to core 0, {} s a round after the servers' \
             runs of the search): {:.0} queries/s, median of the rounds; the engine at {} of it, the server with \
             its parsed-query cache at {}.\n",
            cli.duration,
            median(yardstick_runs.clone()),
            paired(&runs[SEARCH][0], &yardstick_runs),
            paired(&runs[SEARCH][3], &yardstick_runs),
        );
        let mixed_report = match &writer_key {
            Some(key) => mixed_section(&me, cached.port, key, cli)?,
            None => String::new(),
        };
        let ceiling = summarize(&ceiling_runs);
        let measured: Vec<Vec<Result<Load, String>>> = runs
            .iter()
            .map(|per_target| per_target.iter().map(|r| summarize_all(r)).collect())
            .collect();

        let ceiling_rates: Vec<f64> = ceiling_runs.iter().map(|l| l.rate).collect();
        let rows: Vec<String> = checked
            .iter()
            .zip(measured)
            .zip(&runs)
            .map(|((query, measured), per_target)| {
                let (served, floor, cached) = (&measured[0], &measured[1], &measured[2]);
                let (served_runs, floor_runs) = (&per_target[0], &per_target[1]);
                let cell = |load: &Result<Load, String>| match load {
                    Ok(l) => (format!("{:.0}", l.rate), format!("{:.2}", l.p50_ms), format!("{:.2}", l.p99_ms)),
                    // A query that fails under load is a result too: reported, not hidden.
                    Err(e) => (failure(e), String::new(), String::new()),
                };
                let (rate, p50, p99) = cell(served);
                let (floor_rate, _, _) = cell(floor);
                let (cached_rate, _, cached_p99) = cell(cached);
                let ratio = |a: &Result<Load, String>, b: f64| match a {
                    Ok(l) => format!("{:.2}", l.rate / b),
                    Err(_) => String::new(),
                };
                let floor_rates: Option<Vec<f64>> =
                    floor_runs.iter().map(|r| r.as_ref().ok().map(|l| l.rate)).collect();
                let parsed_cells = format!(
                    "{} | {} | {}",
                    cell(&measured[3]).0,
                    cell(&measured[3]).2,
                    floor_rates
                        .as_ref()
                        .map(|f| paired(&per_target[3], f))
                        .unwrap_or_default()
                );
                let baseline_cells = match per_target.get(4) {
                    Some(baseline_runs) => {
                        let rates: Option<Vec<f64>> = baseline_runs
                            .iter()
                            .map(|r| r.as_ref().ok().map(|l| l.rate))
                            .collect();
                        format!(
                            " {} | {} |",
                            cell(&measured[4]).0,
                            rates.map(|b| paired(served_runs, &b)).unwrap_or_default()
                        )
                    }
                    None => String::new(),
                };
                format!(
                    "| {} | {} | {rate} | {p50} | {p99} | {} | {floor_rate} | {} | {parsed_cells} | {cached_rate} | {cached_p99} | {} |{baseline_cells}",
                    query.name,
                    query.bytes,
                    paired(served_runs, &ceiling_rates),
                    floor_rates.map(|f| paired(served_runs, &f)).unwrap_or_default(),
                    ratio(cached, ceiling.rate),
                )
            })
            .collect();
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_default();
        let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
        let (baseline_head, baseline_rule, baseline_blank, baseline_note) = match &cli.baseline {
            Some(binary) => (
                " baseline requests/s | × baseline |",
                " --- | --- |",
                " | |",
                format!(
                    "\nThe baseline is the server of `{}`, caches off, beside the engine in every round, on a copy of \
                     the same data dir; × baseline is the median of the rounds' engine / baseline ratios.\n",
                    binary.display()
                ),
            ),
            None => ("", "", "", String::new()),
        };
        let command = format!(
            "cargo run --release --bin bench -- --scale {} --seed {} --duration {} --connections {} --repeat {}{}",
            cli.scale,
            cli.seed,
            cli.duration,
            cli.connections,
            cli.repeat,
            cli.baseline
                .as_ref()
                .map(|b| format!(" --baseline {}", b.display()))
                .unwrap_or_default()
                + &match cli.write_share > 0.0 {
                    true => format!(" --write-share {}", cli.write_share),
                    false => String::new(),
                }
        );
        Ok(format!(
            "# Benchmark results\n\nThe last run of `{command}`, {date}, on {} cores ({cpu}). Each server runs \
             pinned to core 0 with one worker, all three side by side; wrk runs pinned to core 1, {} connections, {} s a \
             run, after a warm-up run per query and server. The figures are medians of {} rounds, each round running the \
             ceiling and then every query on the engine, the floor and the cached server in turn (in reverse order every other round), so that the machine's \
             drift over the run weighs on all alike. The engine's ratios are the median of its rounds' ratios, each \
             to the same round's ceiling or floor, with the lowest and highest in brackets. Ratios are to the ceiling (a route answering a fixed body of the nested query's size, {nested_bytes} \
             bytes) and to the framework floor (the same queries on async-graphql over in-memory structs, same \
             answers checked), both measured in the same run.\n\n## Data\n\n| measure | value |\n| --- | --- |\n\
             | records imported (facts and their articles) | {records:.0} |\n| import time | {seconds:.2} s ({:.0} records/s) |\n\
             | import peak RSS | {:.0} MiB |\n| store on disk / export | {:.0} MiB / {:.0} MiB ({:.2}×) |\n\
             | after `diplograph compact` | {:.0} MiB ({:.2}×), {} entries rewritten in key order in {compact_seconds:.2} s \
             (import time / that = {:.2}) |\n\
             | cold start to /healthz | {cold_start:.2} s |\n| server RSS after start / after load | {:.0} MiB / {:.0} MiB |\n\n\
             ## Queries\n\nThe server without its caches (the engine: store, indexes, batching), the floor, the \
             server with its parsed-query cache only (the response cache off: the same document is parsed, and \
             validated in full, once), then the server with its parsed-query and response caches answering the \
             same request again and again.\n\n\
             | query | response bytes | requests/s | p50 ms | p99 ms | × ceiling | floor requests/s | × floor | parsed-query cache requests/s | its p99 ms | its × floor | cached requests/s | cached p99 ms | cached × ceiling |{baseline_head}\n\
             | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |{baseline_rule}\n\
             | ceiling | {nested_bytes} | {:.0} | {:.2} | {:.2} | 1.00 | | | | | | | | |{baseline_blank}\n{}\n{search_report}{baseline_note}{mixed_report}",
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            cli.connections,
            cli.duration,
            cli.repeat,
            records / seconds.max(1e-9),
            import_peak_kb / 1024.0,
            store_bytes as f64 / 1048576.0,
            export_bytes as f64 / 1048576.0,
            store_bytes as f64 / export_bytes.max(1) as f64,
            compaction.bytes_after as f64 / 1048576.0,
            compaction.bytes_after as f64 / export_bytes.max(1) as f64,
            compaction.entries,
            seconds / compact_seconds.max(1e-9),
            rss_start as f64 / 1024.0,
            rss_after as f64 / 1024.0,
            ceiling.rate,
            ceiling.p50_ms,
            ceiling.p99_ms,
            rows.join("\n"),
        ))
    })();
    server.stop();
    floor.stop();
    cached.stop();
    parsed.stop();
    if let Some(b) = baseline {
        b.stop();
    }
    if cli.work.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    let report = result?;
    if let Some(parent) = cli.output.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(&cli.output, &report).map_err(|e| e.to_string())?;
    println!("{report}");
    Ok(())
}

fn mixed_child(
    port: u16,
    key: &str,
    seconds: u64,
    share: f64,
    connections: usize,
) -> Result<(), String> {
    let party = popular_party(port)?;
    let result = mixed::run(
        port,
        key,
        &mixed::reads(&party),
        connections,
        seconds,
        share,
    )?;
    println!(
        "{}",
        serde_json::to_string(&result).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// Clients of the mixed load.
const MIXED_CONNECTIONS: usize = 16;

/// The mixed load, read-only, with `--write-share` writes, then writes only, each from a child
/// pinned to core 1, against the server with its default caches on core 0.
fn mixed_section(me: &Path, port: u16, key: &str, cli: &Cli) -> Result<String, String> {
    let mut rows = Vec::new();
    let mut read_only = 0.0;
    for share in [0.0, cli.write_share, 1.0] {
        eprintln!("mixed load: write share {share}");
        let out = Command::new("taskset")
            .args(["-c", "1"])
            .arg(me)
            .arg("mixed-child")
            .arg(port.to_string())
            .arg(key)
            .arg(cli.duration.to_string())
            .arg(share.to_string())
            .arg(MIXED_CONNECTIONS.to_string())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "the mixed load failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let result: mixed::Mixed =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("mixed load: {e}"))?;
        if share == 0.0 {
            read_only = result.per_second;
        }
        let (r, w) = (&result.reads, &result.writes);
        rows.push(format!(
            "| {share} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {} |",
            result.per_second,
            result.per_second / read_only.max(1e-9),
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            w.per_second,
            w.p50_ms,
            w.p99_ms,
            r.failed + w.failed,
        ));
    }
    Ok(format!(
        "\n## Reads while others write\n\n{MIXED_CONNECTIONS} clients on keep-alive connections (a child process pinned to core 1), each \
         sending one request after another for {} s: one of six ordinary reads (a country's relations, statements about \
         it, a search, a party's agreements, 50 missions, people by name) or, with the write share's probability, a \
         `createPerson` or an `updatePerson` of a person it created, with a writer key. Against the server with its \
         default caches, on core 0. A write is answered once durable.\n\n\
         | write share | requests/s | × read-only | reads/s | read p50 ms | read p99 ms | writes/s | write p50 ms | write p99 ms | failed |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n{}\n",
        cli.duration,
        rows.join("\n")
    ))
}

/// A query checked on every server; its answer's size sizes the ceiling.
struct Checked<'a> {
    name: &'a str,
    body: String,
    bytes: usize,
}

/// The medians of a measurement's runs.
fn summarize(runs: &[Load]) -> Load {
    let median_of = |field: fn(&Load) -> f64| median(runs.iter().map(field).collect());
    Load {
        rate: median_of(|l| l.rate),
        p50_ms: median_of(|l| l.p50_ms),
        p99_ms: median_of(|l| l.p99_ms),
    }
}

/// A measurement fails if any of its runs failed under load.
fn summarize_all(runs: &[Result<Load, String>]) -> Result<Load, String> {
    let loads = runs.iter().cloned().collect::<Result<Vec<_>, _>>()?;
    Ok(summarize(&loads))
}

/// The median of each round's ratio of `runs` to `references` (the same round's), with the
/// lowest and highest: how much the machine moved. Empty if a run failed.
fn paired(runs: &[Result<Load, String>], references: &[f64]) -> String {
    let ratios: Option<Vec<f64>> = runs
        .iter()
        .zip(references)
        .map(|(run, reference)| run.as_ref().ok().map(|l| l.rate / reference))
        .collect();
    match ratios {
        Some(ratios) if !ratios.is_empty() => {
            let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let high = ratios.iter().copied().fold(0.0, f64::max);
            format!("{:.2} ({low:.2}–{high:.2})", median(ratios))
        }
        _ => String::new(),
    }
}

/// A recursive copy of a closed data dir.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Where the nested query stands in `queries`.
const NESTED: usize = 2;
/// The full-text search's position in `queries`, its words and its hits.
const SEARCH: usize = 4;
const SEARCH_WORDS: &str = "partnership trade";
const SEARCH_HITS: usize = 10;

/// Tantivy alone on the index in `dir`: the search's words, its top hits, one query after
/// another for `seconds`; prints queries/s.
fn yardstick_child(dir: &Path, seconds: u64) -> Result<(), String> {
    let yardstick = diplograph::search::Yardstick::open(dir, SEARCH_WORDS, SEARCH_HITS)
        .map_err(|e| e.to_string())?
        .ok_or("the search has no indexed word")?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut queries = 0u64;
    while Instant::now() < deadline {
        if yardstick.run().map_err(|e| e.to_string())? != SEARCH_HITS {
            return Err("tantivy alone found fewer hits than the search".into());
        }
        queries += 1;
    }
    println!("{}", queries as f64 / started.elapsed().as_secs_f64());
    Ok(())
}

/// The yardstick, pinned to core 0 as the servers are.
fn yardstick(me: &Path, dir: &Path, seconds: u64) -> Result<f64, String> {
    let out = Command::new("taskset")
        .args(["-c", "0"])
        .arg(me)
        .arg("yardstick-child")
        .arg(dir)
        .arg(seconds.to_string())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the yardstick failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("the yardstick's rate: {e}"))
}

/// A party of the first agreement: the generator makes popular countries parties most often.
fn popular_party(port: u16) -> Result<String, String> {
    Ok(graphql(
        port,
        "{ agreements(first: 1) { edges { node { parties { code } } } } }",
    )?["data"]["agreements"]["edges"][0]["node"]["parties"][0]["code"]
        .as_str()
        .unwrap_or("US")
        .to_string())
}

/// The query mix, with arguments read from the data set (a popular party, a cursor 10 pages in).
fn queries(port: u16) -> Result<Vec<(&'static str, String)>, String> {
    let party = popular_party(port)?;
    let mut cursor = serde_json::Value::Null;
    for _ in 0..10 {
        let after = match cursor.as_str() {
            Some(c) => format!(", after: \"{c}\""),
            None => String::new(),
        };
        let page = graphql(
            port,
            &format!("{{ statements(first: 100{after}) {{ pageInfo {{ endCursor }} }} }}"),
        )?;
        cursor = page["data"]["statements"]["pageInfo"]["endCursor"].clone();
    }
    let nested = format!(
        "{{ country(code: \"{party}\") {{ name relations(first: 10) {{ edges {{ node {{ kind since subject {{ name }} object {{ name agreements(first: 3) {{ edges {{ node {{ title provisions {{ text }} }} }} }} }} }} }} }} statements(first: 10) {{ edges {{ node {{ text speaker {{ ... on Person {{ name }} }} }} }} }} }} }}"
    );
    Ok(vec![
        ("point lookup", "{ country(code: \"XK\") { name alpha3 capital region } }".to_string()),
        ("filtered list (20 agreements of a party)", format!("{{ agreements(filter: {{ party: \"{party}\" }}, first: 20) {{ edges {{ node {{ title signedOn parties {{ code }} }} }} }} }}")),
        ("nested", nested),
        ("cursor walk (page 11 of statements)", format!("{{ statements(first: 100, after: {cursor}) {{ edges {{ cursor node {{ text }} }} }} }}")),
        // Last: a search that overloads the server would leave it busy for what follows.
        ("full-text search", format!("{{ search(query: \"{SEARCH_WORDS}\", first: {SEARCH_HITS}) {{ score snippet node {{ __typename }} }} }}")),
    ])
}

/// The line of wrk's output that says why a run failed.
fn failure(e: &str) -> String {
    let why = e
        .lines()
        .find(|l| l.contains("Socket errors") || l.contains("Non-2xx"))
        .unwrap_or("failed")
        .trim()
        .to_string();
    format!("failed under load: {why}")
}

/// A server child process pinned to core 0, ready once it answers `/healthz`.
struct Pinned {
    child: std::process::Child,
    port: u16,
}

impl Pinned {
    fn start(me: &Path, role: &str, dir: &Path, flags: &[&str]) -> Result<Pinned, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let started = Instant::now();
        let child = Command::new("taskset")
            .args(["-c", "0"])
            .arg(me)
            .arg(role)
            .arg(dir)
            .arg(port.to_string())
            .args(flags)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let pinned = Pinned { child, port };
        while post(port, "/healthz", "").is_err() {
            if started.elapsed() > Duration::from_secs(300) {
                pinned.stop();
                return Err(format!("the {role} did not start"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(pinned)
    }

    /// SIGINT, as a person would stop it, then wait until it is gone (and the store closed).
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.child {
        Some(Phase::Import { file, dir }) => import_child(file, dir),
        Some(Phase::Serve {
            dir,
            port,
            caches,
            parsed_queries,
        }) => serve_child(dir, *port, *caches, *parsed_queries),
        Some(Phase::Mixed {
            port,
            key,
            seconds,
            share,
            connections,
        }) => mixed_child(*port, key, *seconds, *share, *connections),
        Some(Phase::Floor { dir, port }) => floor::serve(dir, *port),
        Some(Phase::Yardstick { dir, seconds }) => yardstick_child(dir, *seconds),
        None => run(&cli),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rate: f64) -> Result<Load, String> {
        Ok(Load {
            rate,
            p50_ms: 1.0,
            p99_ms: 2.0,
        })
    }

    #[test]
    fn ratios_pair_each_round_with_its_own_reference() {
        // Round by round 0.5, 0.8, 0.6: the median of those, not of the rates (900/1000).
        let runs = [load(500.0), load(800.0), load(900.0)];
        assert_eq!(paired(&runs, &[1000.0, 1000.0, 1500.0]), "0.60 (0.50–0.80)");
        let failed = [load(500.0), Err("Socket errors".into())];
        assert_eq!(paired(&failed, &[1000.0, 1000.0]), "");
        assert!(summarize_all(&failed).is_err());
        let summary = summarize_all(&runs).unwrap();
        assert_eq!(summary.rate, 800.0);
    }
}
