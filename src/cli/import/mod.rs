//! `updater import go-updater PATH` and `updater import feed URL|FILE`:
//! moving in from the Go updater's storage or from an existing update feed,
//! beside the database (the server's configuration, its store opened
//! directly, every write audited as the command line).
//!
//! Exit codes: 0 the import ran (every importable record imported; refusals
//! are listed in the report, never a failure by themselves); 1 the target
//! refused (configuration, store failure, unknown application); 2 usage or
//! unreadable input (clap's usage errors are 2 as well).

mod feed;
mod fetch;
mod go_updater;
mod plan;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::direct::{Direct, Intent};
use super::failure::Failure;
use crate::cli::formats::Format;
use crate::config::{LoadOptions, StorageType};
use plan::Plan;
use report::Report;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: ImportCommand,
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// Import the Go updater's applications and releases from its JSON
    /// storage file or its SQLite database (told apart by content).
    GoUpdater(GoUpdaterArgs),
    /// Import the versions of an existing feed (Tauri latest.json,
    /// electron-builder latest*.yml, Velopack releases.<channel>.json or
    /// RELEASES, Sparkle appcast.xml) into an existing application.
    Feed(FeedArgs),
}

#[derive(Args, Debug)]
struct FeedArgs {
    /// The feed: an https URL (http only for loopback hosts or with
    /// --allow-http) or a file.
    source: String,
    /// The application to import into; it must exist.
    #[arg(long = "app", value_name = "ID")]
    app: String,
    /// The channel of every imported release [default: the feed's own, else stable].
    #[arg(long)]
    channel: Option<String>,
    /// The feed's format [default: told from the file name, else the content].
    #[arg(long, value_enum)]
    format: Option<FeedFormat>,
    /// Where a FILE's relative file names are (a URL feed resolves them
    /// against its own URL).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The platform of targets the feed does not name (a Velopack `stable` channel).
    #[arg(long)]
    platform: Option<String>,
    /// The architecture of targets the feed does not name.
    #[arg(long = "arch", value_name = "ARCH")]
    architecture: Option<String>,
    /// Download every file the feed gives no SHA-256/SHA-512 for, and hash it.
    #[arg(long)]
    hash_files: bool,
    /// The largest file --hash-files downloads, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024 * 1024)]
    hash_limit: u64,
    /// Fetch the feed and its files over plain http.
    #[arg(long)]
    allow_http: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FeedFormat {
    /// Tauri's latest.json.
    Tauri,
    /// electron-builder's latest*.yml.
    ElectronBuilder,
    /// Velopack's releases.<channel>.json.
    Velopack,
    /// Squirrel / Velopack RELEASES.
    Releases,
    /// Sparkle's appcast.xml.
    Sparkle,
}

impl From<FeedFormat> for Format {
    fn from(format: FeedFormat) -> Self {
        match format {
            FeedFormat::Tauri => Format::TauriLatest,
            FeedFormat::ElectronBuilder => Format::ElectronYml,
            FeedFormat::Velopack => Format::VelopackJson,
            FeedFormat::Releases => Format::VelopackReleases,
            FeedFormat::Sparkle => Format::SparkleAppcast,
        }
    }
}

/// Flags every import takes.
#[derive(Args, Debug)]
struct Common {
    /// Report what would be imported, skipped and refused; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct GoUpdaterArgs {
    /// The Go updater's `storage.path` JSON file or `storage.database.dsn`
    /// SQLite file (read only).
    path: PathBuf,
    /// Also copy the config fields the Go updater stored but never applied
    /// (required_update, allow_prerelease, min_version, max_version); here
    /// they change update answers.
    #[arg(long)]
    apply_policy: bool,
    #[command(flatten)]
    common: Common,
}

/// Why an import stopped, with its exit code.
enum Stop {
    /// Unreadable or unrecognised input: 2.
    Input(Failure),
    /// The configuration or the store refused: 1.
    Target(Failure),
}

pub fn run(options: LoadOptions, args: ImportArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            Failure::new(format!("cannot start the async runtime: {e}")).report();
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            ImportCommand::GoUpdater(args) => go_updater_import(&options, args).await,
            ImportCommand::Feed(args) => feed_import(&options, args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Input(failure)) => {
            failure.report();
            ExitCode::from(2)
        }
        Err(Stop::Target(failure)) => {
            failure.report();
            ExitCode::FAILURE
        }
    }
}

/// Opens the configured store; a dry run never creates one.
async fn open(options: &LoadOptions, dry_run: bool) -> Result<(Direct, String), Stop> {
    let intent = if dry_run {
        Intent::Peek
    } else {
        Intent::MayCreate
    };
    let direct = Direct::open(options, intent).await.map_err(Stop::Target)?;
    let storage = &direct.settings().storage;
    let target = match storage.kind {
        StorageType::Sqlite => format!("sqlite:{}", storage.sqlite_path().display()),
        StorageType::Postgres => "postgres".to_string(),
        StorageType::Memory => "memory".to_string(),
    };
    Ok((direct, target))
}

/// Writes the plan (unless a dry run), prints the report, closes the store.
async fn finish(direct: Direct, plan: Plan<'_>, dry_run: bool, as_json: bool) -> Result<(), Stop> {
    let (mut report, written) = if dry_run {
        (plan.finish_dry_run(), Ok(()))
    } else {
        plan.apply(direct.origin()).await
    };
    let failure = written.err().map(|e| {
        Failure::new(format!(
            "the store refused a write, so the import stopped: {e}"
        ))
    });
    if let Some(failure) = &failure {
        report.error = Some(failure.message.clone());
    }
    let refused = report.refused();
    let printed = report.print(as_json);
    direct.close().await;
    printed.map_err(Stop::Target)?;
    if let Some(failure) = failure {
        return Err(Stop::Target(failure));
    }
    if refused > 0 && !as_json {
        eprintln!("note: {refused} record(s) refused; see the reasons above");
    }
    Ok(())
}

async fn go_updater_import(options: &LoadOptions, args: GoUpdaterArgs) -> Result<(), Stop> {
    let (format, storage) = go_updater::read(&args.path)
        .await
        .map_err(|e| Stop::Input(Failure::new(e)))?;
    let candidates = go_updater::candidates(storage, args.apply_policy);
    let (direct, target) = open(options, args.common.dry_run).await?;
    let registry = direct.registry().await.map_err(Stop::Target)?;
    let allow_http = direct.settings().security.allow_http_download_urls;
    let report = Report::new(
        args.path.display().to_string(),
        format.name(),
        target,
        args.common.dry_run,
    );
    let mut plan = Plan::new(&registry, report);
    plan.report.notes = candidates.notes;
    for application in candidates.applications {
        match application {
            Ok(candidate) => plan.add_application(candidate),
            Err(refused) => plan.refuse_application(&refused.id, refused.source, refused.reason),
        }
    }
    for release in candidates.releases {
        plan.add_release(release, allow_http);
    }
    finish(direct, plan, args.common.dry_run, args.common.json).await
}

async fn feed_import(options: &LoadOptions, args: FeedArgs) -> Result<(), Stop> {
    let input = |e: String| Stop::Input(Failure::new(e));
    let fetcher = fetch::Fetcher::new(args.allow_http).map_err(input)?;
    let source = feed::read(&args.source, args.base_url.as_deref(), &fetcher)
        .await
        .map_err(input)?;
    let (format, releases) = feed::parse(&source, args.format.map(Format::from))
        .map_err(|e| input(format!("{}: {e}", args.source)))?;
    let (direct, target) = open(options, args.common.dry_run).await?;
    let registry = direct.registry().await.map_err(Stop::Target)?;
    let allow_http = direct.settings().security.allow_http_download_urls;
    let report = Report::new(
        args.source.clone(),
        format.as_str(),
        target,
        args.common.dry_run,
    );
    let mut plan = Plan::new(&registry, report);
    if plan.existing_application(&args.app).is_none() {
        direct.close().await;
        return Err(Stop::Target(Failure::new(format!(
            "application `{}` does not exist: create it first (POST /api/v1/applications \
             with a write key, see docs/api.md), or import it with `updater import go-updater`",
            super::output::clean(&args.app)
        ))));
    }
    let mapping = feed::Mapping {
        app_id: &args.app,
        channel: args.channel.as_deref(),
        platform: args.platform.as_deref(),
        architecture: args.architecture.as_deref(),
        base: source.base.as_ref(),
        hashing: args.hash_files.then_some((&fetcher, args.hash_limit)),
    };
    for candidate in feed::candidates(releases, &mapping).await {
        plan.add_release(candidate, allow_http);
    }
    finish(direct, plan, args.common.dry_run, args.common.json).await
}
