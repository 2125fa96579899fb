//! Data on disk: surviving a restart and `kill -9`, on SQLite and PostgreSQL.

use std::time::Duration;

use serde_json::Value;

use crate::common::sut::parse_version;
use crate::common::*;

pub fn blocking_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

pub fn create_durable_app(client: &reqwest::blocking::Client, base: &str) {
    let created = client
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(ADMIN_KEY)
        .json(&app_body("durable"))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);
}

pub fn register(client: &reqwest::blocking::Client, base: &str, version: &str) -> u16 {
    client
        .post(format!("{base}/api/v1/updates/durable/register"))
        .bearer_auth(ADMIN_KEY)
        .json(&release_body(version))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

pub fn releases(client: &reqwest::blocking::Client, base: &str) -> Vec<String> {
    let body: Value = client
        .get(format!(
            "{base}/api/v1/updates/durable/releases?limit=1000&sort_by=version&sort_order=asc"
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let client = blocking_client();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);
    assert_eq!(register(&client, &server.base, "1.0.0"), 201);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    drop(server);

    let server = ChildServer::spawn(dir.path(), port);
    assert_eq!(releases(&client, &server.base), ["1.0.0"]);
    let check: Value = client
        .get(format!(
            "{}/api/v1/updates/durable/check?current_version=0.5.0&platform=linux&architecture=amd64",
            server.base
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        check["latest_version"], "1.0.0",
        "the catalog is rebuilt from the store"
    );
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let client = blocking_client();
    let server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);
    let mut acknowledged = Vec::new();
    for minor in 0..40 {
        let version = format!("1.{minor}.0");
        if register(&client, &server.base, &version) == 201 {
            acknowledged.push(version);
        }
    }
    assert_eq!(acknowledged.len(), 40);
    server.signal("KILL");
    drop(server);

    let server = ChildServer::spawn(dir.path(), port);
    let mut expected = acknowledged.clone();
    expected.sort_by_key(|v| parse_version(v).unwrap());
    assert_eq!(releases(&client, &server.base), expected);
}

#[test]
fn postgres_backed_server_keeps_acknowledged_writes_across_kill_9() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("live");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let env = [
        ("UPDATER_STORAGE__TYPE", "postgres"),
        ("UPDATER_STORAGE__POSTGRES__URL", url.as_str()),
    ];
    let port = free_port();
    let client = blocking_client();
    let server = ChildServer::spawn_with_env(dir.path(), port, &env);
    let health: Value = client
        .get(format!("{}/health", server.base))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(health.to_string().contains("postgres"), "{health}");
    create_durable_app(&client, &server.base);
    let acknowledged: Vec<String> = (0..20)
        .map(|minor| format!("1.{minor}.0"))
        .filter(|version| register(&client, &server.base, version) == 201)
        .collect();
    assert_eq!(acknowledged.len(), 20);
    server.signal("KILL");
    drop(server);

    let server = ChildServer::spawn_with_env(dir.path(), port, &env);
    let mut listed = releases(&client, &server.base);
    listed.sort();
    let mut expected = acknowledged.clone();
    expected.sort();
    assert_eq!(listed, expected);
    let log = std::fs::read_to_string(dir.path().join(format!("server-{port}.log"))).unwrap();
    assert!(
        !log.contains(&cluster.password),
        "the database password reached the log"
    );
}
