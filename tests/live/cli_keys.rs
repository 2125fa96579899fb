//! `updater keys` and `updater audit`, the real binary: beside a SQLite data
//! directory a server has open, through a server's admin API (`--server`),
//! on PostgreSQL with and without a pepper, and refusing bad input.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::durability::blocking_client;

const TOKEN_SHAPE: &str = r"^upd_[0-9a-f]{16}_[0-9a-f]{64}$";

/// The binary with the test configuration of `dir`, a clean environment
/// and `env` on top.
fn cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let config = dir.join("config.yaml");
    Command::new(binary())
        .args(["--config", config.to_str().unwrap(), "--section", "test"])
        .args(args)
        .env_remove("UPDATER_CONFIG_SECTION")
        .env_remove("UPDATER_ADMIN_KEY")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn ok(output: Output) -> Output {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(output), stderr(output)))
}

/// A token printed by `keys create|rotate` in table mode: alone on stdout,
/// with the warning on stderr.
fn printed_token(output: &Output) -> String {
    let token = stdout(output).trim().to_string();
    assert!(
        regex::Regex::new(TOKEN_SHAPE).unwrap().is_match(&token),
        "stdout is the token alone: {token:?}"
    );
    assert!(
        stderr(output).contains("shown only this once"),
        "{}",
        stderr(output)
    );
    token
}

fn applications_status(client: &reqwest::blocking::Client, base: &str, token: &str) -> u16 {
    client
        .get(format!("{base}/api/v1/applications"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Polls until `token` gets `want` (the server reloads keys every 5 s).
fn wait_for_status(
    client: &reqwest::blocking::Client,
    base: &str,
    token: &str,
    want: u16,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    loop {
        let got = applications_status(client, base, token);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still {got}, not {want}, after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `args` then the `--server` flags.
fn with<'a>(remote: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    [args, remote].concat()
}

fn key_ids(list: &Value) -> Vec<(String, String)> {
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap().to_string(),
                k["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn direct_mode_beside_a_running_sqlite_server_creates_revokes_and_audits() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let client = blocking_client();

    // Before any server: the command makes the database and its pepper.
    let before = printed_token(&ok(cli(
        dir.path(),
        &["keys", "create", "--name", "ci", "--permission", "read"],
        &[],
    )));
    let port = free_port();
    // Polling with a token not yet loaded is a failed authentication each
    // time: lift the lock-out so the test measures propagation alone.
    let server = ChildServer::spawn_with_env(
        dir.path(),
        port,
        &[(
            "UPDATER_SECURITY__AUTH_FAILURE_LIMIT__FAILURES_PER_MINUTE",
            "10000",
        )],
    );
    assert_eq!(applications_status(&client, &server.base, &before), 200);

    // While the server has the file open.
    let during = printed_token(&ok(cli(
        dir.path(),
        &[
            "keys",
            "create",
            "--name",
            "deploy",
            "--permission",
            "read,publish",
            "--expires-in",
            "90d",
        ],
        &[],
    )));
    wait_for_status(&client, &server.base, &during, 200, Duration::from_secs(10));

    let before_id = &before[4..20];
    let revoked = ok(cli(
        dir.path(),
        &["keys", "revoke", before_id, "--json"],
        &[],
    ));
    assert_eq!(json(&revoked)["status"], "revoked");
    wait_for_status(&client, &server.base, &before, 401, Duration::from_secs(10));
    assert_eq!(applications_status(&client, &server.base, &during), 200);

    let listed = ok(cli(dir.path(), &["keys", "list", "--json"], &[]));
    let list = json(&listed);
    let keys = key_ids(&list);
    assert!(
        keys.contains(&(before_id.to_string(), "revoked".into())),
        "{list}"
    );
    assert!(
        keys.contains(&(during[4..20].to_string(), "active".into())),
        "{list}"
    );
    let table = ok(cli(dir.path(), &["keys", "list"], &[]));
    for text in [stdout(&listed), stdout(&table), stderr(&listed)] {
        assert!(!text.contains(&before[21..]) && !text.contains(&during[21..]));
        assert!(!text.contains("digest"), "{text}");
    }

    let audited = ok(cli(dir.path(), &["audit", "--json"], &[]));
    let entries = json(&audited)["entries"].as_array().unwrap().clone();
    for action in ["key.created", "key.revoked"] {
        let entry = entries
            .iter()
            .find(|e| e["action"] == action && e["target"] == before_id)
            .unwrap_or_else(|| panic!("no {action} for {before_id}: {entries:?}"));
        assert_eq!(entry["actor"]["kind"], "cli", "{entry}");
    }
    assert!(!stdout(&audited).contains(&before[21..]));
    let filtered = ok(cli(
        dir.path(),
        &["audit", "--json", "--action", "key.revoked", "--limit", "1"],
        &[],
    ));
    let page = json(&filtered);
    assert_eq!(page["entries"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["entries"][0]["target"], before_id);
    drop(server);
}

#[test]
fn server_mode_creates_rotates_and_lists_a_scoped_key() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let key_file = dir.path().join("admin-key");
    std::fs::write(&key_file, format!("{ADMIN_KEY}\n")).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let port = free_port();
    let server = ChildServer::spawn(dir.path(), port);
    let client = blocking_client();
    let remote = [
        "--server",
        server.base.as_str(),
        "--admin-key-file",
        key_file.to_str().unwrap(),
    ];

    let created = ok(cli(
        dir.path(),
        &with(
            &remote,
            &[
                "keys",
                "create",
                "--name",
                "pipeline",
                "--permission",
                "publish",
                "--application",
                "app1",
                "--json",
            ],
        ),
        &[],
    ));
    let created = json(&created);
    let id = created["key"]["id"].as_str().unwrap().to_string();
    let old = created["token"].as_str().unwrap().to_string();
    assert!(regex::Regex::new(TOKEN_SHAPE).unwrap().is_match(&old));
    assert_eq!(created["key"]["applications"], serde_json::json!(["app1"]));
    assert_eq!(applications_status(&client, &server.base, &old), 200);

    let rotated = ok(cli(
        dir.path(),
        &with(&remote, &["keys", "rotate", &id]),
        &[],
    ));
    let new = printed_token(&rotated);
    assert_eq!(&new[4..20], id, "same id, new secret");
    assert_ne!(new, old);
    assert_eq!(applications_status(&client, &server.base, &old), 401);
    assert_eq!(applications_status(&client, &server.base, &new), 200);

    // The admin key from the environment works as well as from a file.
    let listed = ok(cli(
        dir.path(),
        &["keys", "list", "--json", "--server", &server.base],
        &[("UPDATER_ADMIN_KEY", ADMIN_KEY)],
    ));
    let list = json(&listed);
    assert_eq!(key_ids(&list), vec![(id.clone(), "active".to_string())]);
    assert_eq!(
        list["keys"][0]["permissions"],
        serde_json::json!(["publish"])
    );
    assert!(!stdout(&listed).contains(&old[21..]) && !stdout(&listed).contains(&new[21..]));

    let audited = ok(cli(
        dir.path(),
        &with(&remote, &["audit", "--json", "--action", "key."]),
        &[],
    ));
    let entries = json(&audited)["entries"].clone();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["key.rotated", "key.created"], "{entries}");
    assert_eq!(entries[0]["actor"]["kind"], "config");

    // The server's refusal, with its message, is exit 1.
    let refused = cli(
        dir.path(),
        &with(
            &remote,
            &["keys", "create", "--name", "x", "--permission", "superuser"],
        ),
        &[],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("superuser"),
        "{}",
        stderr(&refused)
    );
    let wrong_key = cli(
        dir.path(),
        &["keys", "list", "--server", &server.base],
        &[("UPDATER_ADMIN_KEY", "not-the-admin-key-0123456789")],
    );
    assert_eq!(wrong_key.status.code(), Some(1));
    assert!(stderr(&wrong_key).contains("401"), "{}", stderr(&wrong_key));
    drop(server);
}

#[test]
fn bad_input_fails_with_a_clear_reason_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let database = dir.path().join("data");

    let unknown = cli(
        dir.path(),
        &[
            "keys",
            "create",
            "--name",
            "x",
            "--permission",
            "read,bogus",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("`bogus`"), "{}", stderr(&unknown));
    assert!(unknown.stdout.is_empty());
    assert!(!database.exists(), "a typo opens no database");

    let missing = cli(dir.path(), &["keys", "list"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no database"),
        "{}",
        stderr(&missing)
    );

    let token = format!("upd_0123456789abcdef_{}", "e".repeat(64));
    let by_token = cli(dir.path(), &["keys", "revoke", &token], &[]);
    assert_eq!(by_token.status.code(), Some(1));
    assert!(
        !stderr(&by_token).contains(&"e".repeat(64)),
        "the secret is not echoed"
    );

    let closed = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let unreachable = cli(
        dir.path(),
        &["keys", "list", "--server", &closed],
        &[("UPDATER_ADMIN_KEY", ADMIN_KEY)],
    );
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr(&unreachable).contains("cannot connect"),
        "{}",
        stderr(&unreachable)
    );

    let no_key = cli(dir.path(), &["audit", "--server", &closed], &[]);
    assert_eq!(no_key.status.code(), Some(1));
    assert!(
        stderr(&no_key).contains("UPDATER_ADMIN_KEY"),
        "{}",
        stderr(&no_key)
    );

    for usage in [
        &["keys", "list", "--admin-key-file", "/dev/null"][..],
        &["keys", "create", "--name", "x"],
        &[
            "keys",
            "create",
            "--name",
            "x",
            "--permission",
            "read",
            "--expires-in",
            "soon",
        ],
        &["audit", "--since", "yesterday"],
        &["audit", "--limit", "0"],
        &["keys", "list", "--admin-key", ADMIN_KEY],
    ] {
        let refused = cli(dir.path(), usage, &[]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{usage:?}: {}",
            stderr(&refused)
        );
    }
}

#[test]
fn direct_mode_on_postgres_needs_the_pepper() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("cli");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let env = [
        ("UPDATER_STORAGE__TYPE", "postgres"),
        ("UPDATER_STORAGE__POSTGRES__URL", url.as_str()),
    ];
    let create = ["keys", "create", "--name", "ci", "--permission", "read"];
    let disabled = cli(dir.path(), &create, &env);
    assert_eq!(disabled.status.code(), Some(1));
    assert!(
        stderr(&disabled).contains("managed keys are disabled"),
        "{}",
        stderr(&disabled)
    );
    assert!(disabled.stdout.is_empty());

    let pepper = "a-pepper-of-at-least-thirty-two-characters";
    let peppered = [env[0], env[1], ("UPDATER_SECURITY__KEY_PEPPER", pepper)];
    let token = printed_token(&ok(cli(dir.path(), &create, &peppered)));
    let port = free_port();
    let server = ChildServer::spawn_with_env(dir.path(), port, &peppered);
    let client = blocking_client();
    assert_eq!(applications_status(&client, &server.base, &token), 200);
    let list = json(&ok(cli(dir.path(), &["keys", "list", "--json"], &env)));
    assert_eq!(
        key_ids(&list),
        vec![(token[4..20].to_string(), "active".into())]
    );
    drop(server);
}
