use clap::{Parser, Subcommand};
use diplograph::app::Application;
use diplograph::config::{Overrides, Settings};
use diplograph::store::{KeyError, KeyRole};
use std::path::PathBuf;
use std::process::ExitCode;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, keys) = match cli.command {
        Some(Command::Schema) => {
            print!("{}", diplograph::graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Some(Command::Serve(args)) => (args, None),
        Some(Command::Keys { action }) => (cli.serve, Some(action)),
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
    diplograph::telemetry::init(&settings.log);
    if let Some(action) = keys {
        return run_keys(&settings, action);
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
            .map(|()| eprintln!("key '{name}' revoked")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("diplograph: {e}");
            ExitCode::FAILURE
        }
    }
}
