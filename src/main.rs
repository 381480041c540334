use clap::{Parser, Subcommand};
use diplograph::app::Application;
use diplograph::config::{Overrides, Settings};
use diplograph::store::{KeyError, KeyRole};
use std::path::PathBuf;
use std::process::ExitCode;

// sled allocates and frees a node copy on most writes: with mimalloc, importing the scale-10
// data set took 0.68 of the time it took with the system allocator (one run each).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// diplograph: a GraphQL API over a sourced knowledge graph of diplomatic relations.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(ServeArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Import JSON Lines records (the server must be stopped); see schema/import-format.md.
    Import {
        /// The file to read; `-` for standard input.
        file: PathBuf,
        /// Stop at the first rejected line (lines before it stay imported).
        #[arg(long)]
        strict: bool,
        /// Do not load the built-in dataset into a new data dir first.
        #[arg(long)]
        no_builtin: bool,
        /// Leave a new data dir as written, without compacting it after the import.
        #[arg(long)]
        no_compact: bool,
    },
    /// Write the whole store as JSON Lines (the server must be stopped).
    Export {
        /// The file to write [default: standard output].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Rewrite the data dir to take less space, e.g. after a large import (the server must be
    /// stopped). The old copy is replaced only once the new one is complete.
    Compact,
    /// Write a deterministic synthetic data set (JSON Lines, the import format) for benchmarks.
    Generate {
        /// Size: 1 is 10,000 statements, 1,000 events, ... (fractions allowed).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The file to write [default: standard output].
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check the store's integrity (the server must be stopped): every index entry points to a
    /// record, every record is indexed, every reference resolves, every citation lies within
    /// its source. Exits 1 and names the damage if there is any.
    Check,
    /// Write a consistent copy of the store to <backup_dir>/NAME. With --server, the running
    /// server writes it while it serves (an admin key in --key or DIPLOGRAPH_KEY); without,
    /// this process does (the server must be stopped).
    Backup {
        name: String,
        /// The running server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        server: Option<String>,
        /// An admin key for --server.
        #[arg(long, env = "DIPLOGRAPH_KEY", hide_env_values = true)]
        key: Option<String>,
    },
    /// Put a backup in place as the data dir (the server must be stopped). The backup is
    /// checked first; a data dir that holds a store is replaced only with --force, and kept
    /// beside it.
    Restore {
        /// The backup's directory (what `backup` printed).
        from: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Score extraction on a directory of articles (NAME.txt) and the facts expected of them
    /// (NAME.expected.json, see tests/articles/README.md): precision and recall per kind of
    /// finding, with only the gazetteer and the organizations dictionary known, as in a new
    /// store. Exits 1 if the directory cannot be read.
    Eval {
        dir: PathBuf,
        /// Print each article's scores too.
        #[arg(long)]
        each: bool,
    },
    /// Manage API keys (the server must be stopped: the store is locked while it runs).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Make a key and print it once; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        /// writer: create, update and delete facts; admin: also cascade deletes and countries.
        #[arg(long, default_value = "writer")]
        role: String,
    },
    /// List keys (names, roles, dates; never the keys).
    List,
    /// Revoke a key for good.
    Revoke { name: String },
}

#[derive(clap::Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on, host:port (config key `listen`).
    #[arg(long, global = true)]
    listen: Option<String>,
    /// Directory of the store (config key `data_dir`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Config file [default: config/default.toml when present; env DIPLOGRAPH_CONFIG].
    #[arg(long, global = true, env = "DIPLOGRAPH_CONFIG")]
    config: Option<PathBuf>,
}

fn run_eval(dir: &std::path::Path, each: bool) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("diplograph: {e}");
        ExitCode::FAILURE
    };
    let graph = match diplograph::ingest::dataset::load(
        &diplograph::ingest::dataset::DatasetFiles::builtin(),
    ) {
        Ok(graph) => graph,
        Err(e) => return fail(&e),
    };
    let extractor =
        diplograph::extract::organizations::builtin_dictionary().and_then(|dictionary| {
            diplograph::extract::Extractor::new(&graph.countries, &[], &[], dictionary)
        });
    let extractor = match extractor {
        Ok(extractor) => extractor,
        Err(e) => return fail(&e),
    };
    match diplograph::extract::eval::evaluate(&extractor, dir) {
        Ok((articles, all)) => {
            if each {
                for (name, scores) in &articles {
                    println!("## {name}\n\n{}", scores.table());
                }
            }
            println!("## {} articles\n\n{}", articles.len(), all.table());
            match diplograph::extract::eval::words_per_second(
                &extractor,
                dir,
                std::time::Duration::from_secs(1),
            ) {
                Ok(speed) => println!(
                    "speed: {speed:.0} words/s on one thread ({:.0} articles of 1,000 words/s)",
                    speed / 1000.0
                ),
                Err(e) => return fail(&e),
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut bulk = None;
    let (args, keys) = match cli.command {
        Some(Command::Schema) => {
            print!("{}", diplograph::graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Some(Command::Generate {
            scale,
            seed,
            output,
        }) => return run_generate(scale, seed, output),
        Some(Command::Eval { dir, each }) => return run_eval(&dir, each),
        Some(Command::Serve(args)) => (args, None),
        Some(Command::Keys { action }) => (cli.serve, Some(action)),
        Some(
            command @ (Command::Import { .. }
            | Command::Export { .. }
            | Command::Compact
            | Command::Check
            | Command::Backup { .. }
            | Command::Restore { .. }),
        ) => {
            bulk = Some(command);
            (cli.serve, None)
        }
        None => (cli.serve, None),
    };
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
    };
    let settings = match Settings::load(args.config.as_deref(), &overrides) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("diplograph: config error: {e}");
            return ExitCode::from(2);
        }
    };
    diplograph::telemetry::init(&settings.log, settings.log_format);
    if let Some(action) = keys {
        return run_keys(&settings, action);
    }
    if let Some(command) = bulk {
        return run_bulk(&settings, command);
    }
    let result = actix_web::rt::System::new().block_on(async {
        let app = Application::build(&settings)?;
        app.run_until_stopped().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("diplograph: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_keys(settings: &Settings, action: KeysAction) -> ExitCode {
    let store = match diplograph::app::open_store(settings) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("diplograph: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match action {
        KeysAction::Create { name, role } => match role.parse::<KeyRole>() {
            Err(e) => {
                eprintln!("diplograph: {e}");
                return ExitCode::from(2);
            }
            Ok(role) => store.create_key(&name, role).map(|secret| {
                println!("{secret}");
                eprintln!("key '{name}' ({role}) created; it is shown only this once");
            }),
        },
        KeysAction::List => store.api_keys().map_err(KeyError::from).map(|keys| {
            for k in keys {
                let created =
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(k.created_ms);
                let state = if k.revoked { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}",
                    k.name,
                    k.role,
                    humantime::format_rfc3339_seconds(created),
                    state
                );
            }
        }),
        KeysAction::Revoke { name } => store
            .revoke_key(&name)
            .map(|_| eprintln!("key '{name}' revoked")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("diplograph: {e}");
            ExitCode::FAILURE
        }
    }
}

fn compaction_line(done: &diplograph::app::Compaction) -> String {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    format!(
        "compacted {} entries: {:.0} MiB -> {:.0} MiB",
        done.entries,
        mib(done.bytes_before),
        mib(done.bytes_after)
    )
}

fn run_bulk(settings: &Settings, command: Command) -> ExitCode {
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("diplograph: {e}");
        ExitCode::FAILURE
    };
    match command {
        Command::Backup { name, server, key } => {
            let done = match server {
                Some(server) => diplograph::ops::backup_through_api(&server, key.as_deref(), &name),
                None => diplograph::ops::backup_offline(settings, &name),
            };
            match done {
                Ok(backup) => {
                    println!("{}", backup.path.display());
                    eprintln!("backed up {} entries", backup.entries);
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Restore { from, force } => {
            match diplograph::ops::restore(settings, &from, force) {
                Ok(restored) => {
                    if let Some(old) = &restored.replaced {
                        eprintln!("the store it replaced is in {}", old.display());
                    }
                    println!(
                        "restored {} entities into {}",
                        restored.entities,
                        settings.data_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Check => {
            let store = match diplograph::ops::open_existing(settings) {
                Ok(store) => store,
                Err(e) => return fail(&e),
            };
            match store.check() {
                Ok(report) => {
                    for line in &report.damage {
                        println!("damage: {line}");
                    }
                    if report.damage_count > report.damage.len() as u64 {
                        println!(
                            "damage: ... and {} more",
                            report.damage_count - report.damage.len() as u64
                        );
                    }
                    println!(
                        "checked {} entities, {} index entries, {} references and citations: {}",
                        report.entities,
                        report.index_entries,
                        report.links,
                        if report.is_clean() {
                            "no damage".to_string()
                        } else {
                            format!("{} findings", report.damage_count)
                        }
                    );
                    if report.is_clean() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Command::Export { output } => {
            let store = match diplograph::app::open_store(settings) {
                Ok(store) => store,
                Err(e) => return fail(&e),
            };
            let result = match &output {
                Some(path) => std::fs::File::create(path)
                    .map_err(diplograph::ingest::bulk::BulkError::from)
                    .and_then(|f| {
                        diplograph::ingest::bulk::export(&store, std::io::BufWriter::new(f))
                    }),
                None => diplograph::ingest::bulk::export(
                    &store,
                    std::io::BufWriter::new(std::io::stdout().lock()),
                ),
            };
            match result {
                Ok(n) => {
                    eprintln!("exported {n} records");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Import {
            file,
            strict,
            no_builtin,
            no_compact,
        } => {
            let settings = &diplograph::app::for_bulk_load(settings);
            // A bulk load into a new data dir is compacted after it: written in arrival order,
            // sled's files take about twice the room, and the server starts slower on them.
            let compact_after = !no_compact && !diplograph::app::holds_store(&settings.data_dir);
            let store = match diplograph::app::open_store_seeding(settings, !no_builtin) {
                Ok(store) => store,
                Err(e) => return fail(&e),
            };
            let (reader, size): (Box<dyn std::io::BufRead>, u64) = if file.as_os_str() == "-" {
                (Box::new(std::io::stdin().lock()), 0)
            } else {
                match std::fs::File::open(&file) {
                    Ok(f) => {
                        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                        (Box::new(std::io::BufReader::new(f)), size)
                    }
                    Err(e) => return fail(&format!("cannot read {}: {e}", file.display())),
                }
            };
            let load = match diplograph::app::begin_load(settings, &store) {
                Ok(load) => load,
                Err(e) => return fail(&e),
            };
            // Drawn only on a terminal; otherwise hidden.
            let progress = indicatif::ProgressBar::new(size);
            let result = diplograph::ingest::bulk::import(
                &load.writer,
                reader,
                strict,
                |r| progress.suspend(|| eprintln!("line {}: rejected: {}", r.line, r.reason)),
                |read| progress.set_position(read),
            );
            progress.finish_and_clear();
            if compact_after && result.is_ok() {
                // Compaction settles the store itself, so it is closed, not reopened, first.
                if let Err(e) = diplograph::app::close_after_load(settings, store, load) {
                    return fail(&e);
                }
                // The import itself is complete either way: a failed compaction only warns.
                match diplograph::app::compact(settings) {
                    Ok(done) => eprintln!("{}", compaction_line(&done)),
                    Err(e) => eprintln!("diplograph: the import is complete, but {e}"),
                }
            } else if let Err(e) = diplograph::app::settle_after_load(settings, store, load) {
                return fail(&e);
            }
            match result {
                Ok(summary) => {
                    println!("{summary}");
                    if summary.rejected > 0 {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => fail(&e),
            }
        }
        Command::Compact => match diplograph::app::compact(settings) {
            Ok(done) => {
                println!("{}", compaction_line(&done));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        _ => ExitCode::FAILURE,
    }
}

fn run_generate(scale: f64, seed: u64, output: Option<PathBuf>) -> ExitCode {
    if !(scale.is_finite() && scale > 0.0) {
        eprintln!("diplograph: --scale must be a positive number");
        return ExitCode::from(2);
    }
    let countries = match diplograph::ingest::dataset::load(
        &diplograph::ingest::dataset::DatasetFiles::builtin(),
    ) {
        Ok(graph) => graph.countries.into_iter().map(|c| c.code).collect(),
        Err(e) => {
            eprintln!("diplograph: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &output {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            diplograph::ingest::generate::generate(
                scale,
                seed,
                countries,
                &mut std::io::BufWriter::new(f),
            )
        }),
        None => diplograph::ingest::generate::generate(
            scale,
            seed,
            countries,
            &mut std::io::BufWriter::new(std::io::stdout().lock()),
        ),
    };
    match result {
        Ok(plan) => {
            eprintln!(
                "generated {} records ({} statements)",
                plan.records(),
                plan.statements
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("diplograph: {e}");
            ExitCode::FAILURE
        }
    }
}
