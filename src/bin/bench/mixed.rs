//! Reads while others write: `connections` clients on keep-alive connections, each sending, one
//! request after another, one of six ordinary reads or, with probability `write_share`, a write
//! (a `createPerson`, or an `updatePerson` of one it created). Latencies are kept per class, so
//! reads and writes are reported apart. Runs in a child process pinned to the load core.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Class {
    pub count: u64,
    /// Answers with `errors`, or not 200.
    pub failed: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Mixed {
    pub reads: Class,
    pub writes: Class,
    pub per_second: f64,
}

/// The six reads, with a party code and a country from the data set.
pub fn reads(party: &str) -> Vec<String> {
    [
        format!("{{ country(code: \"{party}\") {{ relations(first: 10) {{ edges {{ node {{ kind since object {{ name }} }} }} }} }} }}"),
        format!("{{ statements(filter: {{ about: \"{party}\" }}, first: 10) {{ edges {{ node {{ text date }} }} }} }}"),
        "{ search(query: \"partnership trade\", first: 10) { score node { __typename } } }".to_string(),
        format!("{{ agreements(filter: {{ party: \"{party}\" }}, first: 20) {{ edges {{ node {{ title signedOn }} }} }} }}"),
        "{ missions(first: 50) { edges { node { city status } } } }".to_string(),
        "{ people(filter: { name: \"Person 12\" }, first: 10) { edges { node { name } } } }".to_string(),
    ]
    .into_iter()
    .map(|query| serde_json::json!({ "query": query }).to_string())
    .collect()
}

struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(port: u16) -> Result<Connection, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Connection {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// One POST /graphql on the kept-alive connection: (status, body).
    fn post(&mut self, body: &str, key: Option<&str>) -> Result<(u16, String), String> {
        let auth = key
            .map(|k| format!("Authorization: Bearer {k}\r\n"))
            .unwrap_or_default();
        write!(
            self.writer,
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .map_err(|e| e.to_string())?;
        let mut status = 0;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if self
                .reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("the server closed the connection".into());
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if status == 0 {
                status = trimmed
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some((name, value)) = trimmed.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

#[derive(Default)]
struct Samples {
    reads: Vec<f64>,
    writes: Vec<f64>,
    read_failures: u64,
    write_failures: u64,
}

/// One client: until `deadline`, a read or (with probability `write_share`) a write.
fn client(
    id: usize,
    port: u16,
    key: &str,
    reads: &[String],
    write_share: f64,
    deadline: Instant,
) -> Result<Samples, String> {
    let mut connection = Connection::open(port)?;
    let mut rng = fastrand::Rng::with_seed(id as u64 + 1);
    let mut samples = Samples::default();
    let mut created: Vec<String> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let write = rng.f64() < write_share;
        let body = match (write, created.is_empty() || rng.bool()) {
            (false, _) => reads[rng.usize(..reads.len())].clone(),
            (true, true) => serde_json::json!({
                "query": "mutation($name: String!) { createPerson(input: { name: $name }) { id } }",
                "variables": { "name": format!("Bench Writer {id} {n}") },
            })
            .to_string(),
            (true, false) => serde_json::json!({
                "query": "mutation($id: ID!, $name: String!) { updatePerson(id: $id, input: { name: $name }) { id } }",
                "variables": {
                    "id": created[rng.usize(..created.len())],
                    "name": format!("Bench Writer {id} {n} renamed"),
                },
            })
            .to_string(),
        };
        let started = Instant::now();
        let (status, answer) = connection.post(&body, write.then_some(key))?;
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let failed = status != 200 || answer.contains("\"errors\"");
        if write {
            samples.writes.push(millis);
            samples.write_failures += failed as u64;
            if let Some(id) = serde_json::from_str::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["data"]["createPerson"]["id"].as_str().map(str::to_string))
            {
                created.push(id);
            }
        } else {
            samples.reads.push(millis);
            samples.read_failures += failed as u64;
        }
    }
    Ok(samples)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn class(mut latencies: Vec<f64>, failed: u64, seconds: f64) -> Class {
    latencies.sort_by(f64::total_cmp);
    Class {
        count: latencies.len() as u64,
        failed,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

pub fn run(
    port: u16,
    key: &str,
    reads: &[String],
    connections: usize,
    seconds: u64,
    write_share: f64,
) -> Result<Mixed, String> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let results: Vec<Result<Samples, String>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..connections)
            .map(|id| scope.spawn(move || client(id, port, key, reads, write_share, deadline)))
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|_| Err("a client panicked".into())))
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Samples::default();
    for samples in results {
        let samples = samples?;
        all.reads.extend(samples.reads);
        all.writes.extend(samples.writes);
        all.read_failures += samples.read_failures;
        all.write_failures += samples.write_failures;
    }
    let reads = class(all.reads, all.read_failures, elapsed);
    let writes = class(all.writes, all.write_failures, elapsed);
    Ok(Mixed {
        per_second: reads.per_second + writes.per_second,
        reads,
        writes,
    })
}
