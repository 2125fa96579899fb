//! Command line: `updater [serve]`, `updater config check`, `updater
//! -health-check`, and the key and audit tools `updater keys ...` and
//! `updater audit` (in `admin`), `updater publish` (in `publish`) and `updater
//! import` (in `import`).

mod admin;
mod digest;
mod direct;
mod failure;
pub mod formats;
mod http;
mod import;
mod output;
mod publish;
mod remote;
mod views;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, LoadOptions, Loaded};

#[derive(Parser, Debug)]
#[command(
    name = "updater",
    version,
    about = "A hardened, self-hosted software-update server"
)]
struct Cli {
    /// Configuration file [default: $UPDATER_CONFIG, else ./config.yaml if present, else built-in defaults]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Configuration section [default: $UPDATER_CONFIG_SECTION, else development]
    #[arg(long, global = true, value_name = "NAME")]
    section: Option<String>,
    /// Probe GET /health on the configured port; exit 0 when healthy, 1 otherwise.
    /// Also accepted as `-health-check` (must be the first argument).
    #[arg(long = "health-check")]
    health_check: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (the default).
    Serve {
        /// Override `server.host`.
        #[arg(long)]
        host: Option<String>,
        /// Override `server.port`.
        #[arg(long)]
        port: Option<String>,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Manage API keys: beside the database (the configuration `serve`
    /// uses), or through a server with --server.
    Keys(admin::KeysArgs),
    /// Read the audit log, newest first.
    Audit(admin::AuditArgs),
    /// Move in: import the Go updater's storage or an existing update feed
    /// into the configured store.
    Import(import::ImportArgs),
    /// Publish a version for every platform from the build tools' outputs.
    Publish(Box<publish::PublishArgs>),
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Validate the configuration and print it with secrets redacted.
    Check,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if cli.health_check {
        return crate::probe::run(cli.config, cli.section);
    }
    let mut options = LoadOptions::from_process(cli.config, cli.section);
    match cli.command {
        Some(Command::Config {
            command: ConfigCommand::Check,
        }) => check(&options),
        Some(Command::Serve { host, port }) => {
            options
                .overrides
                .extend(host.map(|h| ("server.host".to_string(), h)));
            options
                .overrides
                .extend(port.map(|p| ("server.port".to_string(), p)));
            serve(&options)
        }
        Some(Command::Keys(args)) => admin::keys(options, args),
        Some(Command::Audit(args)) => admin::audit(options, args),
        Some(Command::Import(args)) => import::run(options, args),
        Some(Command::Publish(args)) => publish::run(*args),
        None => serve(&options),
    }
}

fn describe(loaded: &Loaded) -> String {
    let source = loaded.source.as_ref().map_or_else(
        || "built-in defaults".to_string(),
        |p| p.display().to_string(),
    );
    format!("section `{}` of {source}", loaded.section)
}

fn check(options: &LoadOptions) -> ExitCode {
    match config::load(options) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            let rendered = serde_norway::to_string(&loaded.settings)
                .unwrap_or_else(|e| format!("# cannot render: {e}\n"));
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(
                std::io::stdout(),
                "# configuration OK: {}\n{rendered}",
                describe(&loaded)
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprint!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(options: &LoadOptions) -> ExitCode {
    let loaded = match config::load(options) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprint!("{error}");
            return ExitCode::FAILURE;
        }
    };
    crate::telemetry::init_logging(&loaded.settings.logging);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    tracing::info!(config = %describe(&loaded), version = env!("CARGO_PKG_VERSION"), "starting");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let settings = loaded.settings;
    let result = runtime.block_on(async move {
        let address = (settings.server.host, settings.server.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", address.0, address.1))?;
        let metrics = crate::telemetry::metrics_handle();
        crate::app::run(
            settings,
            listener,
            Some(metrics),
            crate::app::shutdown_signal(),
        )
        .await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "fatal");
            ExitCode::FAILURE
        }
    }
}
