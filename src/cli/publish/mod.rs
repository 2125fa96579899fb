//! `updater publish`: one command from a CI job to a published release. It
//! recognises what the build tools wrote under PATHS ([`detect`]), computes
//! sizes and digests and checks them against the tools' own feeds
//! ([`prepare`]), optionally uploads the files to S3-compatible storage
//! ([`upload`]), and registers every platform at once with
//! `POST /api/v1/applications/{app}/releases` ([`client`]).
//!
//! Exit codes: 0 published or unchanged, 1 refused by the server, 2 usage or
//! local input error, 3 server unreachable, 5xx or timeout.

mod client;
mod detect;
mod digest;
mod inventory;
mod prepare;
mod report;
mod upload;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::cli::failure::Failure;
use crate::domain::{
    ArtifactKind, parse_architecture, parse_channel, parse_platform, parse_version,
};
use detect::Overrides;

pub const TOKEN_ENV: &str = "UPDATER_TOKEN";

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The updater server's base URL; not needed with --dry-run.
    #[arg(long, env = "UPDATER_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Application id.
    #[arg(long, value_name = "ID")]
    app: String,
    /// The version to publish; feeds holding several versions give this one's files.
    #[arg(long, value_name = "V")]
    version: String,
    #[arg(long, value_name = "C", default_value = "stable")]
    channel: String,
    /// Release notes from a file, or `-` for stdin [default: the feed's notes].
    #[arg(long, value_name = "FILE|-")]
    notes: Option<PathBuf>,
    /// Staged rollout percentage (0-100) [default: the feed's, else 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    rollout: Option<u8>,
    /// Clients must install this update.
    #[arg(long)]
    required: bool,
    /// Clients below this version are not offered the release.
    #[arg(long, value_name = "V")]
    minimum_version: Option<String>,
    /// Download URL of each file: placeholders {version} {app} {channel}
    /// {platform} {arch} {file}; without {file} the file name is appended.
    /// Default: the absolute URL a feed gives (latest.json, appcast.xml).
    #[arg(long, value_name = "TEMPLATE")]
    base_url: Option<String>,
    /// Upload every file (and .blockmap) first to s3://bucket/prefix (same
    /// placeholders; the file name is appended). Credentials from
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL.
    #[arg(long, value_name = "s3://BUCKET/PREFIX", requires = "base_url")]
    upload: Option<String>,
    /// S3-compatible endpoint (MinIO, R2 ...) [default: AWS_ENDPOINT_URL, else AWS].
    #[arg(long, value_name = "URL", requires = "upload")]
    s3_endpoint: Option<String>,
    /// Platform of files whose name and feed do not say.
    #[arg(long, value_name = "P")]
    platform: Option<String>,
    /// Architecture of files whose name and feed do not say.
    #[arg(long, value_name = "A")]
    arch: Option<String>,
    /// Installer kind of plain files given by name.
    #[arg(long, value_name = "K")]
    kind: Option<String>,
    /// Read the API key (publish permission) from this file instead of UPDATER_TOKEN.
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Show what would be published; contact no server and upload nothing.
    #[arg(long)]
    dry_run: bool,
    /// Bound on the whole publish: uploads, the request and waiting for its job.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Build outputs: files or directories (walked).
    #[arg(required = true, value_name = "PATHS")]
    paths: Vec<PathBuf>,
}

/// The checked options the later steps read.
#[derive(Default)]
pub struct PublishOptions {
    pub app: String,
    pub version: String,
    pub channel: String,
    pub notes: Option<String>,
    pub rollout: Option<u8>,
    pub required: bool,
    pub minimum_version: Option<String>,
    pub base_url: Option<String>,
}

/// A failure and the exit code it ends with.
pub struct Exit {
    pub code: u8,
    pub failure: Failure,
}

impl Exit {
    pub fn refused(failure: Failure) -> Self {
        Self { code: 1, failure }
    }
    pub fn usage(failure: Failure) -> Self {
        Self { code: 2, failure }
    }
    pub fn unreachable(failure: Failure) -> Self {
        Self { code: 3, failure }
    }
}

fn usage(message: impl Into<String>) -> Exit {
    Exit::usage(Failure::new(message))
}

fn options(args: &PublishArgs) -> Result<(PublishOptions, Overrides), Exit> {
    let version = parse_version(&args.version)
        .map_err(|e| usage(format!("--version `{}` {e}", args.version.escape_debug())))?;
    let channel = parse_channel(&args.channel).map_err(|e| usage(format!("--channel {e}")))?;
    let notes = match args.notes.as_deref() {
        None => None,
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| usage(format!("cannot read the notes from stdin: {e}")))?;
            Some(text)
        }
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?,
        ),
    };
    if let Some(minimum) = &args.minimum_version {
        parse_version(minimum).map_err(|e| usage(format!("--minimum-version {e}")))?;
    }
    let overrides = Overrides {
        platform: args
            .platform
            .as_deref()
            .map(parse_platform)
            .transpose()
            .map_err(|e| usage(format!("--platform: {e}")))?,
        architecture: args
            .arch
            .as_deref()
            .map(parse_architecture)
            .transpose()
            .map_err(|e| usage(format!("--arch: {e}")))?,
        kind: args
            .kind
            .as_deref()
            .map(|k| {
                ArtifactKind::parse(k).filter(|k| *k != ArtifactKind::Other).ok_or_else(|| {
                    usage(format!(
                        "--kind `{}`: use appimage, deb, rpm, app, dmg, msi, nsis, nupkg, nupkg_delta or zip",
                        k.escape_debug()
                    ))
                })
            })
            .transpose()?,
    };
    if let Some(template) = &args.base_url
        && !(template.starts_with("https://") || template.starts_with("http://"))
    {
        return Err(usage("--base-url must start with https:// (or http://)"));
    }
    let options = PublishOptions {
        app: args.app.clone(),
        version: version.to_string(),
        channel,
        notes: notes
            .map(|n| n.trim_end().to_string())
            .filter(|n| !n.is_empty()),
        rollout: args.rollout,
        required: args.required,
        minimum_version: args.minimum_version.clone(),
        base_url: args.base_url.clone(),
    };
    Ok((options, overrides))
}

pub fn run(args: PublishArgs) -> ExitCode {
    let mut reporter = report::Reporter::new(args.json, &args.app, &args.version);
    match publish(&args, &mut reporter) {
        Ok(status) => reporter.success(status),
        Err(exit) => reporter.failure(exit),
    }
}

fn publish(args: &PublishArgs, reporter: &mut report::Reporter) -> Result<report::Status, Exit> {
    let (options, overrides) = options(args)?;
    reporter.version = options.version.clone();
    let inventory = inventory::Inventory::walk(&args.paths).map_err(Exit::usage)?;
    let detected = detect::detect(inventory, &options.version, overrides).map_err(Exit::usage)?;
    reporter.recognised(&detected.recognised, detected.skipped);
    let prepared = prepare::prepare(&detected, &options)?;
    reporter.prepared(&prepared);
    if args.dry_run {
        return Ok(report::Status::DryRun);
    }
    let server = args
        .server
        .as_deref()
        .ok_or_else(|| usage("give --server URL (or set UPDATER_SERVER), or --dry-run"))?;
    let token = client::token(args.token_file.as_deref()).map_err(Exit::usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + args.timeout;
        if let Some(destination) = &args.upload {
            let target =
                upload::Destination::parse(destination, args.s3_endpoint.as_deref(), args.timeout)
                    .map_err(Exit::usage)?;
            tokio::time::timeout_at(deadline, upload::upload_all(&target, &prepared, &options))
                .await
                .map_err(|_| {
                    Exit::unreachable(Failure::new(format!(
                        "the upload did not finish within --timeout {}",
                        humantime::format_duration(args.timeout)
                    )))
                })??;
        }
        let server = client::Server::new(server, token, args.timeout).map_err(Exit::usage)?;
        let answer = server.publish(&options.app, &prepared, deadline).await?;
        reporter.answer(&answer);
        Ok(if answer.status == "unchanged" {
            report::Status::Unchanged
        } else {
            report::Status::Published
        })
    })
}
