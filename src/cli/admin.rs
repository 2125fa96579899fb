//! `updater keys create|list|revoke|rotate` and `updater audit`: beside the
//! database by default (the server's configuration, its store opened
//! directly), or through a server's admin API with `--server URL`.
//! Exit codes: 0 done, 1 failed (one line says why), 2 usage (clap).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use super::direct::{Direct, Intent};
use super::failure::Failure;
use super::output;
use super::remote::{ADMIN_KEY_ENV, Remote};
use super::views::AuditFilter;
use crate::access::manage::KeyDraft;
use crate::config::{LoadOptions, Permission};
use crate::domain::keys::Token;

#[derive(Args, Debug)]
pub struct Target {
    /// Use this server's admin API (https://host:port) instead of opening the
    /// database the configuration names.
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// File holding the admin API key for --server [default: $UPDATER_ADMIN_KEY].
    /// There is no flag for the key itself: other users can read command lines.
    #[arg(long, global = true, value_name = "PATH", requires = "server")]
    admin_key_file: Option<PathBuf>,
    /// Print JSON (the admin API's shapes) instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Args, Debug)]
pub struct KeysArgs {
    #[command(flatten)]
    target: Target,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Create a key; its token is printed once, on stdout.
    Create(CreateArgs),
    /// List the managed keys (never their tokens).
    List,
    /// Revoke a key for good (revoking a revoked key is not an error).
    Revoke {
        /// The key's id: 16 hex characters, as `keys list` shows.
        key_id: String,
    },
    /// Give a key a new token (printed once); the old one stops working.
    Rotate {
        /// The key's id: 16 hex characters, as `keys list` shows.
        key_id: String,
    },
}

#[derive(Args, Debug)]
struct CreateArgs {
    /// Who or what uses the key (`release-pipeline`).
    #[arg(long)]
    name: String,
    /// read, publish, rollout, delete, write, admin or monitor; repeat or
    /// separate with commas.
    #[arg(
        long = "permission",
        value_name = "PERMISSION",
        required = true,
        value_delimiter = ','
    )]
    permissions: Vec<String>,
    /// Limit the key to these applications; repeat or separate with commas
    /// [default: every application].
    #[arg(long = "application", value_name = "APP", value_delimiter = ',')]
    applications: Vec<String>,
    /// Lifetime from now: `90d`, `12h`, `1y`.
    #[arg(long, value_name = "DURATION", value_parser = crate::access::manage::parse_lifetime)]
    expires_in: Option<Duration>,
    /// Expiry time (RFC 3339: 2030-01-31T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "expires_in")]
    expires_at: Option<DateTime<Utc>>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    target: Target,
    /// Only entries about this application.
    #[arg(long, value_name = "APP")]
    application: Option<String>,
    /// Only entries by this key id or actor name (`cli:alice`, `admin`).
    #[arg(long)]
    actor: Option<String>,
    /// Only this action (`key.created`) or actions under a prefix ending in `.` (`release.`).
    #[arg(long)]
    action: Option<String>,
    /// Entries at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<DateTime<Utc>>,
    /// Entries per page, 1-1000.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
    /// The `next_cursor` of the previous page: older entries.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    cursor: Option<i64>,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2030-01-31T00:00:00Z: {e}"))
}

/// A key id as the path wants it; a whole token or a configured key is
/// refused without being echoed.
fn key_id(text: &str) -> Result<String, Failure> {
    if Token::is_id(text) {
        return Ok(text.to_string());
    }
    if let Some(token) = Token::parse(text) {
        return Err(Failure::new(format!(
            "give the key id `{}`, not its token (a token typed on a command line is exposed: rotate it)",
            token.id
        )));
    }
    let shown = if text.chars().count() <= 32 {
        format!("`{}` is not a key id", output::clean(text))
    } else {
        "that is not a key id".to_string()
    };
    Err(Failure::new(format!(
        "{shown}: 16 lowercase hex characters, as `updater keys list` shows"
    )))
}

/// Where the command goes: the database, or a server's admin API.
enum Backend {
    Direct(Box<Direct>),
    Remote(Remote),
}

impl Backend {
    async fn open(target: &Target, options: &LoadOptions, intent: Intent) -> Result<Self, Failure> {
        match &target.server {
            Some(server) => Ok(Self::Remote(Remote::new(
                server,
                target.admin_key_file.as_deref(),
            )?)),
            None => {
                if std::env::var_os(ADMIN_KEY_ENV).is_some() {
                    eprintln!(
                        "note: {ADMIN_KEY_ENV} is set but unused without --server; opening the database"
                    );
                }
                Ok(Self::Direct(Box::new(Direct::open(options, intent).await?)))
            }
        }
    }

    async fn close(self) {
        if let Self::Direct(direct) = self {
            direct.close().await;
        }
    }
}

/// What a `keys` command asks for, checked before anything is opened.
enum KeyAction {
    Create(KeyDraft),
    List,
    Revoke(String),
    Rotate(String),
}

fn key_action(command: KeysCommand) -> Result<KeyAction, Failure> {
    Ok(match command {
        KeysCommand::Create(args) => {
            // Checked here too, so a typo never opens (or creates) a database.
            for permission in &args.permissions {
                if Permission::parse(permission.trim()).is_none() {
                    return Err(Failure::new(format!(
                        "unknown permission `{}`; known: {}",
                        output::clean(permission.trim()),
                        Permission::ALL.map(Permission::as_str).join(", ")
                    )));
                }
            }
            let expires_at = match (args.expires_at, args.expires_in) {
                (Some(at), _) => Some(at),
                (None, Some(lifetime)) => {
                    let lifetime = chrono::Duration::from_std(lifetime)
                        .map_err(|_| Failure::new("--expires-in is too long"))?;
                    Some(crate::domain::now() + lifetime)
                }
                (None, None) => None,
            };
            KeyAction::Create(KeyDraft {
                name: args.name,
                permissions: args
                    .permissions
                    .iter()
                    .map(|p| p.trim().to_string())
                    .collect(),
                applications: (!args.applications.is_empty()).then_some(args.applications),
                expires_at,
                expires_in: None,
            })
        }
        KeysCommand::List => KeyAction::List,
        KeysCommand::Revoke { key_id: id } => KeyAction::Revoke(key_id(&id)?),
        KeysCommand::Rotate { key_id: id } => KeyAction::Rotate(key_id(&id)?),
    })
}

async fn run_key_action(
    backend: &Backend,
    action: KeyAction,
    as_json: bool,
) -> Result<(), Failure> {
    match (backend, action) {
        (Backend::Direct(d), KeyAction::Create(draft)) => {
            output::issued(&d.create(draft).await?, "created", as_json)
        }
        (Backend::Remote(r), KeyAction::Create(draft)) => {
            output::issued(&r.create(draft).await?, "created", as_json)
        }
        (Backend::Direct(d), KeyAction::List) => output::keys(&d.list().await?, as_json),
        (Backend::Remote(r), KeyAction::List) => output::keys(&r.list().await?, as_json),
        (Backend::Direct(d), KeyAction::Rotate(id)) => {
            output::issued(&d.rotate(&id).await?, "rotated", as_json)
        }
        (Backend::Remote(r), KeyAction::Rotate(id)) => {
            output::issued(&r.rotate(&id).await?, "rotated", as_json)
        }
        (Backend::Direct(d), KeyAction::Revoke(id)) => output::key(&d.revoke(&id).await?, as_json),
        (Backend::Remote(r), KeyAction::Revoke(id)) => output::key(&r.revoke(&id).await?, as_json),
    }
}

pub fn keys(options: LoadOptions, args: KeysArgs) -> ExitCode {
    let KeysArgs { target, command } = args;
    finish(block_on(async move {
        let action = key_action(command)?;
        let intent = match action {
            KeyAction::Create(_) => Intent::MayCreate,
            _ => Intent::Existing,
        };
        let backend = Backend::open(&target, &options, intent).await?;
        let result = run_key_action(&backend, action, target.json).await;
        backend.close().await;
        result
    }))
}

pub fn audit(options: LoadOptions, args: AuditArgs) -> ExitCode {
    let filter = AuditFilter {
        application: args.application,
        actor: args.actor,
        action: args.action,
        since: args.since,
        until: args.until,
        cursor: args.cursor,
        limit: args.limit,
    };
    let target = args.target;
    finish(block_on(async move {
        let backend = Backend::open(&target, &options, Intent::Existing).await?;
        let page = match &backend {
            Backend::Direct(d) => d.audit(&filter).await,
            Backend::Remote(r) => r.audit(&filter).await,
        };
        backend.close().await;
        output::audit(&page?, target.json)
    }))
}

fn block_on(work: impl std::future::Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("cannot start the async runtime: {e}")))?
        .block_on(work)
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_tokens_and_others() {
        assert_eq!(key_id("0123456789abcdef").unwrap(), "0123456789abcdef");
        let token = format!("upd_0123456789abcdef_{}", "a".repeat(64));
        let refused = key_id(&token).unwrap_err().message;
        assert!(refused.contains("`0123456789abcdef`"), "{refused}");
        assert!(
            !refused.contains(&"a".repeat(64)),
            "never echoes the secret"
        );
        let long = "x".repeat(40);
        assert!(!key_id(&long).unwrap_err().message.contains(&long));
        assert!(key_id("ABC").unwrap_err().message.contains("`ABC`"));
    }

    #[test]
    fn lifetimes() {
        use crate::access::manage::parse_lifetime;
        assert_eq!(
            parse_lifetime("90d").unwrap(),
            Duration::from_secs(90 * 86400)
        );
        assert!(parse_lifetime("0s").is_err());
        assert!(parse_lifetime("11y").is_err());
        assert!(parse_lifetime("soon").is_err());
    }
}
