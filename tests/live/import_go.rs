//! `updater import go-updater`, the real binary: the committed Go-updater
//! JSON file and SQLite database (tests/fixtures/go-updater, built by its
//! script from the Go schema) into SQLite and PostgreSQL stores; dry runs,
//! re-runs and refusals; then a server on the imported store answers the
//! decision cases (common::decision_cases) as the decision rule says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::common::decision_cases::{CASES, Case};
use crate::common::*;
use crate::durability::blocking_client;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The binary with the test configuration of `dir` and `env` on top.
pub fn updater(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let config = dir.join("config.yaml");
    Command::new(binary())
        .args(["--config", config.to_str().unwrap(), "--section", "test"])
        .args(args)
        .env_remove("UPDATER_CONFIG_SECTION")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The JSON report of a run that must exit with `code`.
pub fn report(output: &Output, code: i32) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "stderr: {stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&output.stdout)))
}

pub fn statuses(report: &Value) -> Vec<(String, String, String)> {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let status = r["status"]
                .as_str()
                .unwrap()
                .replace("would_import", "imported");
            (
                r["source"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
                status,
            )
        })
        .collect()
}

fn reason_of<'a>(report: &'a Value, source: &str) -> &'a str {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == source)
        .unwrap_or_else(|| panic!("no record from {source}: {report}"))["reason"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn the_json_file_and_the_database_import_alike_once_with_every_refusal_named() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let go = fixtures().join("go-updater");
    let json_file = go.join("storage.json");
    let database = go.join("updater.db");
    let import = |path: &Path, extra: &[&str]| {
        let mut args = vec!["import", "go-updater", path.to_str().unwrap(), "--json"];
        args.extend(extra);
        updater(dir.path(), &args, &[])
    };

    let dry = report(&import(&json_file, &["--dry-run"]), 0);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["format"], "go-updater-json");
    assert_eq!(dry["summary"]["would_import"], 9, "{dry}");
    assert_eq!(dry["summary"]["refused"], 10, "{dry}");
    assert!(
        !dir.path().join("data").join("updater.db").exists(),
        "a dry run creates no database"
    );

    let first = report(&import(&database, &[]), 0);
    assert_eq!(first["format"], "go-updater-sqlite");
    assert_eq!(first["summary"]["imported"], 9, "{first}");
    assert_eq!(first["summary"]["refused"], 10, "{first}");
    let mut planned = statuses(&dry);
    let mut done = statuses(&first);
    planned.sort();
    done.sort();
    assert_eq!(planned, done, "both forms of the same storage map alike");

    for (source, reason) in [
        (
            "release desk-0.9.0-linux-amd64",
            "checksum_type md5 is not accepted",
        ),
        (
            "release desk-0.9.5-linux-amd64",
            "checksum_type sha1 is not accepted",
        ),
        (
            "release desk-release-3-linux-amd64",
            "not a semantic version",
        ),
        ("release desk-1.4.0-linux-arm64", "must use https"),
        (
            "release desk-1.5.0-ios-arm64",
            "does not list platform 'ios'",
        ),
        (
            "release desk-1.6.0-linux-amd64",
            "64 hexadecimal characters",
        ),
        ("release desk-1.0-linux-amd64", "different files"),
        (
            "release ghost-1.0.0-linux-amd64",
            "neither in the source nor in the store",
        ),
        ("release broken-1.0.0-linux-amd64", "`broken` was refused"),
        ("application broken", "unknown platform `beos`"),
    ] {
        let got = reason_of(&first, source);
        assert!(got.contains(reason), "{source}: {got}");
    }
    assert!(
        first["notes"][0]
            .as_str()
            .unwrap()
            .contains("`legacy` sets config required_update: true"),
        "{first}"
    );

    // Again, from the other form: nothing twice.
    let again = report(&import(&json_file, &[]), 0);
    assert_eq!(again["summary"]["imported"], 0, "{again}");
    assert_eq!(again["summary"]["skipped"], 9, "{again}");
    assert_eq!(
        reason_of(&again, "release desk-1.2.0-Linux-AMD64"),
        "already in the store, identical"
    );
    // A dry run against the filled store says the same and writes nothing.
    let dry_again = report(&import(&database, &["--dry-run"]), 0);
    assert_eq!(dry_again["summary"]["would_import"], 0);
    assert_eq!(dry_again["summary"]["skipped"], 9);

    let human = updater(
        dir.path(),
        &["import", "go-updater", json_file.to_str().unwrap()],
        &[],
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("0 imported, 9 skipped (already there), 10 refused"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("refused") && l.contains("desk-0.9.0-linux-amd64")),
        "{text}"
    );

    let audit = report(
        &updater(
            dir.path(),
            &["audit", "--json", "--action", "release.published"],
            &[],
        ),
        0,
    );
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 7, "one audit entry per imported release");
    assert!(entries.iter().all(|e| e["actor"]["kind"] == "cli"));

    let port = free_port();
    let server = ChildServer::spawn(dir.path(), port);
    let client = blocking_client();
    let check = |query: &str| -> Value {
        client
            .get(format!("{}/api/v1/updates/desk/check?{query}", server.base))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let windows = check("current_version=1.0.0&platform=windows&architecture=amd64");
    assert_eq!(windows["latest_version"], "1.1.0", "{windows}");
    assert_eq!(windows["checksum"], SHA, "hex checksums are lower-cased");
    // 2.0.0 needs 1.2.0 first (the Go service answered 400 here, its N2).
    let stone = check("current_version=1.0.0&platform=linux&architecture=amd64");
    assert_eq!(stone["latest_version"], "1.2.0", "{stone}");
    assert_eq!(stone["required"], true, "{stone}");
    let mac = check("current_version=1.0.0&platform=darwin&architecture=arm64");
    assert_eq!(
        mac["latest_version"], "1.3.0",
        "`1.3` is stored as 1.3.0: {mac}"
    );
    let legacy: Value = client
        .get(format!("{}/api/v1/applications/legacy", server.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(legacy["config"]["required_update"], false, "{legacy}");
    assert_eq!(legacy["config"]["custom_fields"]["team"], "ops", "{legacy}");
}

#[test]
fn unreadable_input_is_2_and_a_store_that_keeps_nothing_is_1() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").unwrap();
    for path in [junk.clone(), dir.path().join("missing.json")] {
        let output = updater(
            dir.path(),
            &["import", "go-updater", path.to_str().unwrap()],
            &[],
        );
        assert_eq!(output.status.code(), Some(2), "{path:?}");
        assert!(output.stdout.is_empty());
    }
    let usage = updater(dir.path(), &["import", "go-updater"], &[]);
    assert_eq!(usage.status.code(), Some(2));
    let fixture = fixtures().join("go-updater/storage.json");
    let memory = updater(
        dir.path(),
        &["import", "go-updater", fixture.to_str().unwrap()],
        &[("UPDATER_STORAGE__TYPE", "memory")],
    );
    assert_eq!(memory.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&memory.stderr).contains("storage.type: memory"));
}

/// The Go updater's JSON storage holding each decision case the Go model
/// can express (no channels: stable only), one application per case.
fn go_storage_of(cases: &[(usize, &Case)]) -> Value {
    let mut applications = Vec::new();
    let mut releases = Vec::new();
    for (index, case) in cases {
        let app_id = format!("case-{index}");
        let config = (case.config)();
        let version = |v: &Option<semver::Version>| v.as_ref().map(ToString::to_string);
        applications.push(json!({
            "id": app_id,
            "name": case.name,
            "description": "",
            "platforms": ["linux", "windows"],
            "config": {
                "auto_update": false,
                "update_interval": 3600,
                "required_update": config.required_update,
                "min_version": version(&config.min_version),
                "max_version": version(&config.max_version),
                "allow_prerelease": config.allow_prerelease,
                "analytics_enabled": false
            },
            "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z"
        }));
        for spec in case.releases {
            releases.push(json!({
                "id": format!("{app_id}-{}-{}-amd64", spec.version, spec.platform),
                "application_id": app_id,
                "version": spec.version,
                "platform": spec.platform,
                "architecture": "amd64",
                "download_url": format!("https://cdn.example.com/{app_id}/{}.zip", spec.version),
                "checksum": SHA,
                "checksum_type": "sha256",
                "file_size": 1,
                "release_notes": "",
                "release_date": "2025-02-01T00:00:00Z",
                "required": spec.required,
                "minimum_version": spec.minimum,
                "created_at": "2025-02-01T00:00:00Z",
                "updated_at": "2025-02-01T00:00:00Z"
            }));
        }
    }
    json!({"applications": applications, "releases": releases, "last_updated": "2025-02-01T00:00:00Z"})
}

fn python3() -> Option<&'static str> {
    if Command::new("python3").arg("--version").output().is_ok() {
        return Some("python3");
    }
    let message = "python3 not found (the Go-updater fixture script needs it)";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message}; CI=true requires it"
    );
    eprintln!("SKIPPED: {message}");
    None
}

/// Asks the server every case's question; returns the cases answered
/// otherwise than the decision rule says.
fn wrong_answers(base: &str, cases: &[(usize, &Case)]) -> Vec<String> {
    let client = blocking_client();
    let mut failures = Vec::new();
    for (index, case) in cases {
        let body: Value = client
            .get(format!(
                "{base}/api/v1/updates/case-{index}/check?current_version={}&platform=linux&architecture=amd64&allow_prerelease={}",
                case.current, case.allow_prerelease
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let got = (body["update_available"] == true).then(|| {
            (
                body["latest_version"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                body["required"] == true,
            )
        });
        let expected = case.expected.map(|(v, r)| (v.to_string(), r));
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {body}", case.name));
        }
    }
    failures
}

#[test]
fn imported_catalogs_answer_the_decision_cases_on_sqlite_and_postgresql() {
    let Some(python) = python3() else { return };
    let cases: Vec<(usize, &Case)> = CASES
        .iter()
        .enumerate()
        .filter(|(_, case)| {
            case.channel == "stable" && case.releases.iter().all(|r| r.channel == "stable")
        })
        .collect();
    assert!(cases.len() >= 20, "most cases need no channels");
    let work = tempfile::tempdir().unwrap();
    let json_file = work.path().join("storage.json");
    std::fs::write(&json_file, go_storage_of(&cases).to_string()).unwrap();
    let database = work.path().join("updater.db");
    let script = fixtures().join("go-updater/make_fixtures.py");
    let made = Command::new(python)
        .arg(&script)
        .args(["--from-json", json_file.to_str().unwrap()])
        .arg(&database)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");

    let releases = cases.iter().map(|(_, c)| c.releases.len()).sum::<usize>();
    let import = |dir: &Path, source: &Path, env: &[(&str, &str)]| {
        let args = [
            "import",
            "go-updater",
            source.to_str().unwrap(),
            "--apply-policy",
            "--json",
        ];
        let done = report(&updater(dir, &args, env), 0);
        assert_eq!(done["summary"]["refused"], 0, "{done}");
        assert_eq!(
            done["summary"]["imported"],
            cases.len() + releases,
            "{done}"
        );
    };

    let sqlite = tempfile::tempdir().unwrap();
    write_config(sqlite.path(), "");
    import(sqlite.path(), &json_file, &[]);
    let server = ChildServer::spawn(sqlite.path(), free_port());
    let failures = wrong_answers(&server.base, &cases);
    assert!(failures.is_empty(), "SQLite:\n{}", failures.join("\n"));
    drop(server);

    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("imported");
    let env = [
        ("UPDATER_STORAGE__TYPE", "postgres"),
        ("UPDATER_STORAGE__POSTGRES__URL", url.as_str()),
    ];
    let postgres = tempfile::tempdir().unwrap();
    write_config(postgres.path(), "");
    import(postgres.path(), &database, &env);
    let rerun = report(
        &updater(
            postgres.path(),
            &[
                "import",
                "go-updater",
                json_file.to_str().unwrap(),
                "--apply-policy",
                "--json",
            ],
            &env,
        ),
        0,
    );
    assert_eq!(rerun["summary"]["imported"], 0, "{rerun}");
    let server = ChildServer::spawn_with_env(postgres.path(), free_port(), &env);
    let failures = wrong_answers(&server.base, &cases);
    assert!(failures.is_empty(), "PostgreSQL:\n{}", failures.join("\n"));
}
