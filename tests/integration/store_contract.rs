//! One contract, every store (atomic release batches and publish jobs
//! included): the same assertions run against the memory
//! store, a real SQLite file and a real PostgreSQL server (a throwaway
//! cluster from Debian's binaries; skipped without them unless `CI=true`).
//!
//! Longer than 500 lines because the contract is one sequence of writes
//! shared by every backend, with its per-backend entry points.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use crate::common::sut::{
    Application, ApplicationConfig, Artifact, ArtifactKind, Job, JobStatus, MemoryStore,
    PostgresSettings, PostgresStore, Release, ReleaseKey, Rollout, Secret, SqliteStore, Store,
    StoreError, journal, parse_version,
};
use crate::common::{PgCluster, free_port};

fn application(id: &str) -> Application {
    let at = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
    Application {
        id: id.into(),
        name: format!("App {id}"),
        description: "An application\nwith two lines".into(),
        platforms: vec!["linux".into(), "darwin".into()],
        config: ApplicationConfig {
            allow_prerelease: true,
            min_version: Some("1.0.0".parse().unwrap()),
            custom_fields: BTreeMap::from([("team".into(), "desktop".into())]),
            ..Default::default()
        },
        created_at: at,
        updated_at: at,
    }
}

fn key(app: &str, version: &str) -> ReleaseKey {
    ReleaseKey {
        application_id: app.into(),
        version: parse_version(version).unwrap(),
        platform: "linux".into(),
        architecture: "amd64".into(),
    }
}

fn release(app: &str, version: &str) -> Release {
    let at = Utc.with_ymd_and_hms(2025, 2, 3, 4, 5, 6).unwrap()
        + chrono::Duration::microseconds(123_456);
    Release {
        key: key(app, version),
        channel: "beta".into(),
        files: vec![
            Artifact {
                kind: ArtifactKind::Appimage,
                url: format!("https://cdn.example.com/{app}-{version}.AppImage"),
                size: u64::from(u32::MAX) + 7,
                sha256: None,
                sha512: Some("ab".repeat(64)),
                sha1: None,
                signature: Some("untrusted comment: sig\nRWQ=".into()),
                ed_signature: None,
                blockmap_url: None,
                blockmap_size: None,
            },
            Artifact {
                kind: ArtifactKind::Deb,
                url: format!("https://cdn.example.com/{app}_{version}_amd64.deb"),
                size: 12,
                sha256: Some("cd".repeat(32)),
                sha512: None,
                sha1: Some("ef".repeat(20)),
                signature: None,
                ed_signature: Some("c2ln".into()),
                blockmap_url: Some("https://cdn.example.com/x.blockmap".into()),
                blockmap_size: Some(99),
            },
        ],
        release_notes: "Notes ✓".into(),
        release_date: at,
        required: true,
        minimum_version: Some(parse_version("0.9.0").unwrap()),
        minimum_system_version: Some("10.15".into()),
        metadata: BTreeMap::from([("k".into(), "v".into())]),
        created_at: at,
        rollout: Rollout {
            percentage: 25,
            paused: false,
        },
        yanked: false,
        yank_reason: String::new(),
    }
}

async fn contract(store: Arc<dyn Store>) {
    let empty = store.load().await.unwrap();
    assert!(empty.applications.is_empty() && empty.releases.is_empty());
    store.ping().await.unwrap();

    store
        .insert_application(&application("a"), &journal())
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_application(&application("a"), &journal())
            .await,
        Err(StoreError::Conflict)
    ));

    let r1 = release("a", "1.0.0");
    store
        .insert_releases(std::slice::from_ref(&r1), &journal())
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .insert_releases(std::slice::from_ref(&r1), &journal())
                .await,
            Err(StoreError::Conflict)
        ),
        "no overwrite"
    );
    assert!(
        matches!(
            store
                .insert_releases(&[release("ghost", "1.0.0")], &journal())
                .await,
            Err(StoreError::NotFound)
        ),
        "a release needs its application"
    );
    store
        .insert_releases(&[release("a", "1.1.0-rc.1")], &journal())
        .await
        .unwrap();

    let snapshot = store.load().await.unwrap();
    assert_eq!(
        snapshot.applications,
        vec![application("a")],
        "applications round-trip exactly"
    );
    let stored = snapshot.releases.iter().find(|r| r.key == r1.key).unwrap();
    assert_eq!(stored, &r1, "releases round-trip exactly");
    assert_eq!(snapshot.releases.len(), 2);

    let mut yanked = release("a", "1.1.0-rc.1");
    yanked.rollout = Rollout {
        percentage: 60,
        paused: true,
    };
    yanked.yanked = true;
    yanked.yank_reason = "broken installer".into();
    store.update_release(&yanked, &journal()).await.unwrap();
    let reloaded = store.load().await.unwrap();
    assert!(
        reloaded.releases.contains(&yanked),
        "rollout and yank state round-trip"
    );
    assert!(matches!(
        store
            .update_release(&release("a", "9.9.9"), &journal())
            .await,
        Err(StoreError::NotFound)
    ));

    let mut renamed = application("a");
    renamed.name = "Renamed".into();
    store
        .update_application(&renamed, &journal())
        .await
        .unwrap();
    assert!(matches!(
        store
            .update_application(&application("zzz"), &journal())
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.load().await.unwrap().applications[0].name, "Renamed");

    store
        .delete_release(&key("a", "1.0.0"), &journal())
        .await
        .unwrap();
    assert!(matches!(
        store.delete_release(&key("a", "1.0.0"), &journal()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.load().await.unwrap().releases.len(), 1);

    store
        .insert_application(&application("b"), &journal())
        .await
        .unwrap();
    store
        .insert_releases(&[release("b", "2.0.0")], &journal())
        .await
        .unwrap();
    store.delete_application("a", &journal()).await.unwrap();
    assert!(matches!(
        store.delete_application("a", &journal()).await,
        Err(StoreError::NotFound)
    ));
    let after = store.load().await.unwrap();
    assert_eq!(after.applications.len(), 1);
    assert!(
        after.releases.iter().all(|r| r.key.application_id == "b"),
        "releases go with their application"
    );

    batches_are_all_or_nothing(store.as_ref()).await;
    jobs_round_trip(store.as_ref()).await;
}

/// `insert_releases` stores every release of a batch in one transaction.
/// Expects application `b` with release 2.0.0 and no other.
async fn batches_are_all_or_nothing(store: &dyn Store) {
    let mut darwin = release("b", "5.0.0");
    darwin.key.platform = "darwin".into();
    let linux = release("b", "5.0.0");
    let refused = [
        (
            vec![darwin.clone(), release("b", "2.0.0")],
            "an existing release",
        ),
        (
            vec![darwin.clone(), darwin.clone()],
            "a release listed twice",
        ),
        (
            vec![darwin.clone(), release("ghost", "5.0.0")],
            "a missing application",
        ),
    ];
    for (batch, why) in refused {
        let result = store.insert_releases(&batch, &journal()).await;
        assert!(
            matches!(result, Err(StoreError::Conflict | StoreError::NotFound)),
            "{why}: {result:?}"
        );
        let stored = store.load().await.unwrap().releases;
        assert_eq!(stored.len(), 1, "{why}: nothing of the batch is stored");
    }
    store
        .insert_releases(&[linux.clone(), darwin.clone()], &journal())
        .await
        .unwrap();
    let stored = store.load().await.unwrap().releases;
    assert_eq!(stored.len(), 3);
    assert!(stored.contains(&linux) && stored.contains(&darwin));
}

async fn jobs_round_trip(store: &dyn Store) {
    let deadline = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap();
    let job = Job::start("b", "5.0.0", deadline);
    assert_eq!(store.job(&job.id).await.unwrap(), None);
    store.insert_job(&job).await.unwrap();
    assert!(matches!(
        store.insert_job(&job).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.job(&job.id).await.unwrap().as_ref(), Some(&job));
    let failed = job
        .clone()
        .finish(Err(r#"{"code":"VALIDATION_ERROR"}"#.into()));
    store.update_job(&failed).await.unwrap();
    let read = store.job(&job.id).await.unwrap().unwrap();
    assert_eq!(read, failed, "the outcome round-trips exactly");
    assert_eq!(read.status, JobStatus::Failed);
    assert!(matches!(
        store.update_job(&Job::start("b", "9.9.9", deadline)).await,
        Err(StoreError::NotFound)
    ));

    let running = Job::start("b", "6.0.0", deadline);
    store.insert_job(&running).await.unwrap();
    let finished_at = failed.finished_at.unwrap();
    assert_eq!(store.prune_jobs(finished_at).await.unwrap(), 0);
    assert_eq!(
        store
            .prune_jobs(finished_at + chrono::Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.job(&failed.id).await.unwrap(), None);
    assert!(
        store.job(&running.id).await.unwrap().is_some(),
        "running jobs are never pruned"
    );
}

#[tokio::test]
async fn memory_store_meets_the_contract() {
    contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("contract.db"), Duration::from_secs(5))
        .await
        .unwrap();
    contract(Arc::new(store)).await;
}

#[tokio::test]
async fn sqlite_data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    {
        let store = SqliteStore::open(&path, Duration::from_secs(5))
            .await
            .unwrap();
        store
            .insert_application(&application("kept"), &journal())
            .await
            .unwrap();
        store
            .insert_releases(&[release("kept", "3.0.0")], &journal())
            .await
            .unwrap();
        store.close().await;
    }
    let reopened = SqliteStore::open(&path, Duration::from_secs(5))
        .await
        .unwrap();
    let snapshot = reopened.load().await.unwrap();
    assert_eq!(snapshot.applications.len(), 1);
    assert_eq!(snapshot.releases, vec![release("kept", "3.0.0")]);
}

#[tokio::test]
async fn sqlite_reports_an_unusable_path() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let result = SqliteStore::open(&blocker.join("db.sqlite"), Duration::from_secs(1)).await;
    assert!(matches!(result, Err(StoreError::Unavailable(_))));
}

/// A database written before releases had several files (schema version 2)
/// is upgraded in place: each release becomes a one-file release.
#[tokio::test]
async fn sqlite_upgrades_single_file_releases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::migrate!("./migrations/sqlite")
            .run_to(2, &pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO applications (id, name, created_at, updated_at) \
             VALUES ('old', 'Old', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO releases (application_id, version, platform, architecture, download_url, \
             checksum, checksum_type, file_size, release_date, signature, created_at) \
             VALUES ('old', '1.0.0', 'linux', 'amd64', 'https://cdn.example.com/old.tar.gz', ?, 'sha512', 42, \
             '2025-01-01T00:00:00Z', 'untrusted comment: x', '2025-01-01T00:00:00Z')",
        )
        .bind("ab".repeat(64))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = SqliteStore::open(&path, Duration::from_secs(5))
        .await
        .unwrap();
    let snapshot = store.load().await.unwrap();
    let release = &snapshot.releases[0];
    assert_eq!(
        release.files,
        [Artifact {
            kind: ArtifactKind::Other,
            url: "https://cdn.example.com/old.tar.gz".into(),
            size: 42,
            sha256: None,
            sha512: Some("ab".repeat(64)),
            sha1: None,
            signature: Some("untrusted comment: x".into()),
            ed_signature: None,
            blockmap_url: None,
            blockmap_size: None,
        }]
    );
    assert_eq!(release.minimum_system_version, None);
}

fn postgres(url: String) -> PostgresSettings {
    PostgresSettings {
        url: Secret::new(url),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn postgres_store_meets_the_contract_and_survives_reopening() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("contract");
    let store = PostgresStore::open(&postgres(url.clone())).await.unwrap();
    contract(Arc::new(store)).await;

    let reopened = PostgresStore::open(&postgres(url)).await.unwrap();
    reopened
        .insert_application(&application("kept"), &journal())
        .await
        .unwrap();
    reopened
        .insert_releases(&[release("kept", "3.0.0")], &journal())
        .await
        .unwrap();
    reopened.close().await;
    let again = PostgresStore::open(&postgres(cluster.url("contract")))
        .await
        .unwrap();
    let snapshot = again.load().await.unwrap();
    assert!(snapshot.releases.contains(&release("kept", "3.0.0")));
}

#[tokio::test]
async fn postgres_replicas_may_migrate_at_once() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("together");
    let settings = postgres(url);
    let opens = (0..4).map(|_| PostgresStore::open(&settings));
    let stores = futures_util::future::join_all(opens).await;
    for store in stores {
        store.expect("every replica starts").ping().await.unwrap();
    }
}

#[tokio::test]
async fn postgres_errors_never_show_the_password() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    cluster.database("secret");
    let wrong = cluster
        .url("secret")
        .replace(&cluster.password, "wrong-password-77");
    let unreachable = format!(
        "postgres://updater:{}@127.0.0.1:{}/secret",
        cluster.password,
        free_port()
    );
    for (url, secret) in [
        (wrong, "wrong-password-77"),
        (unreachable, cluster.password.as_str()),
    ] {
        let error = match PostgresStore::open(&postgres(url)).await {
            Ok(_) => panic!("connected with a bad URL"),
            Err(e) => e,
        };
        assert!(matches!(error, StoreError::Unavailable(_)), "{error}");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(secret), "password in {shown}");
    }
}

#[tokio::test]
async fn postgres_connections_honour_sslmode() {
    let Some((cluster, ca)) = PgCluster::start_tls() else {
        return;
    };
    let url = cluster.database("tls").replace("127.0.0.1", "localhost");
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display());
    let store = PostgresStore::open(&postgres(verified.clone()))
        .await
        .expect("TLS with a verified certificate");
    store
        .insert_application(&application("tls"), &journal())
        .await
        .unwrap();
    let pool = sqlx::PgPool::connect(&verified).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted, "the connection is not encrypted");
    pool.close().await;

    // A certificate from another CA is refused under verify-full.
    let other_ca = tempfile::NamedTempFile::new().unwrap();
    let stranger = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(other_ca.path(), stranger.cert.pem()).unwrap();
    let wrong = format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        other_ca.path().display()
    );
    assert!(matches!(
        PostgresStore::open(&postgres(wrong)).await,
        Err(StoreError::Unavailable(_))
    ));

    // sslmode=require against a server without TLS fails instead of falling back.
    let Some(plain) = PgCluster::start() else {
        return;
    };
    let required = format!("{}?sslmode=require", plain.database("plain"));
    assert!(matches!(
        PostgresStore::open(&postgres(required)).await,
        Err(StoreError::Unavailable(_))
    ));
}
