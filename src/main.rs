use clap::{Parser, Subcommand};
use diplograph::app::Application;
use diplograph::config::{Overrides, Settings};
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
    let args = match cli.command {
        Some(Command::Schema) => {
            print!("{}", diplograph::graphql::sdl());
            return ExitCode::SUCCESS;
        }
        Some(Command::Serve(args)) => args,
        None => cli.serve,
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
