//! Acknowledged writes survive a replica or the database dying (PostgreSQL)
//! and `kill -9` during a write burst (SQLite).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::cluster::*;
use crate::common::*;
use crate::{APP, EVENTUALLY};

/// What a publisher saw: acknowledged versions, every status, transport
/// errors.
#[derive(Default)]
struct Published {
    acknowledged: Vec<String>,
    attempted: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
}

type Shared = Arc<parking_lot::Mutex<Published>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_write_is_lost_when_a_replica_or_the_database_dies() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("faults_writes");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let env = pg_env(&url, "0s");
    let mut a = spawn(dir.path(), free_port(), &env);
    let b = spawn(dir.path(), free_port(), &env);
    let c = spawn(dir.path(), free_port(), &env);
    create_app(&a.base).await;

    let published: Shared = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (published, stop, base) = (published.clone(), stop.clone(), a.base.clone());
        tokio::spawn(async move {
            let client = http();
            let mut minor = 0u64;
            while !stop.load(Ordering::Relaxed) {
                minor += 1;
                let version = format!("1.{minor}.0");
                let result = register(&client, &base, &version).await;
                let failed = {
                    let mut p = published.lock();
                    p.attempted += 1;
                    match result {
                        Ok(status) => {
                            *p.statuses.entry(status).or_default() += 1;
                            if (200..300).contains(&status) {
                                p.acknowledged.push(version);
                            }
                            false
                        }
                        Err(_) => {
                            p.transport_errors += 1;
                            true
                        }
                    }
                };
                if failed {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        })
    };
    let acks = || published.lock().acknowledged.len();
    // Waits until the publisher has had `n` more writes acknowledged.
    let more_acks = |n: usize, phase: &'static str| {
        let start = acks();
        let published = published.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let deadline = Instant::now() + EVENTUALLY;
            while published.lock().acknowledged.len() < start + n {
                assert!(
                    Instant::now() < deadline,
                    "no writes acknowledged {phase}\n{}",
                    logs(&dir)
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    more_acks(50, "at the start").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    // (a) The replica taking the writes dies mid-burst and comes back.
    let port = a.port;
    a.signal("KILL");
    assert_eq!(a.wait(Duration::from_secs(10)), None);
    let acked_at_kill = acks();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a = spawn(dir.path(), port, &env);
    more_acks(50, "after replica A restarted").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // (b) The database stops and starts again.
    cluster.pg_ctl("stop");
    let acked_at_outage = acks();
    // The outage lasts until the publisher has been told about it (a 503),
    // however long a loaded machine takes to get there.
    let refusals = || published.lock().statuses.get(&503).copied().unwrap_or(0);
    let outage_deadline = Instant::now() + EVENTUALLY;
    while refusals() == 0 && Instant::now() < outage_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let acked_during_outage = acks() - acked_at_outage;
    cluster.pg_ctl("start");
    more_acks(50, "after the database came back").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    publisher.await.unwrap();

    let published = std::mem::take(&mut *published.lock());
    eprintln!(
        "publisher: {} attempted, {} acknowledged ({acked_at_kill} before the kill, \
         {acked_at_outage} before the outage), statuses {:?}, {} transport errors",
        published.attempted,
        published.acknowledged.len(),
        published.statuses,
        published.transport_errors
    );
    assert_eq!(
        acked_during_outage, 0,
        "writes acknowledged with the database down"
    );
    assert!(
        published.transport_errors > 0,
        "the publisher never noticed replica A die"
    );
    assert!(
        published.statuses.get(&503).copied().unwrap_or(0) > 0,
        "the publisher never saw the outage as 503: {:?}",
        published.statuses
    );
    let unexpected: Vec<_> = published
        .statuses
        .keys()
        .filter(|s| ![201, 503].contains(*s))
        .collect();
    assert!(
        unexpected.is_empty(),
        "statuses other than 201 and 503: {:?}\n{}",
        published.statuses,
        logs(dir.path())
    );
    assert_eq!(
        duplicates(&published.acknowledged),
        Vec::<String>::new(),
        "a version was acknowledged twice"
    );

    // The database holds every acknowledged write, once.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT version FROM releases WHERE application_id = $1")
            .bind(APP)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(duplicates(&stored), Vec::<String>::new());
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let acknowledged: BTreeSet<String> = published.acknowledged.iter().cloned().collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes are not in the database: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );

    // Every replica converges on exactly what the database holds (which is
    // every acknowledged write, plus any the kill cut off before the reply).
    let client = http();
    for replica in [&a, &b, &c] {
        let deadline = Instant::now() + EVENTUALLY;
        loop {
            let listed = listed_versions(&client, &replica.base).await;
            if let Ok(listed) = &listed {
                assert_eq!(
                    duplicates(listed),
                    Vec::<String>::new(),
                    "{} lists a version twice",
                    replica.base
                );
                let listed: BTreeSet<String> = listed.iter().cloned().collect();
                if listed == stored {
                    break;
                }
            }
            if Instant::now() >= deadline {
                let detail = match &listed {
                    Ok(listed) => {
                        let listed: BTreeSet<String> = listed.iter().cloned().collect();
                        let missing: Vec<_> = stored.difference(&listed).take(20).collect();
                        let extra: Vec<_> = listed.difference(&stored).take(20).collect();
                        let missing_acked = acknowledged.difference(&listed).count();
                        format!(
                            "{} listed vs {} stored; {missing_acked} acknowledged missing; \
                             missing {missing:?}; extra {extra:?}",
                            listed.len(),
                            stored.len()
                        )
                    }
                    Err(e) => e.clone(),
                };
                panic!(
                    "{} did not converge on the database: {detail}\n{}",
                    replica.base,
                    logs(dir.path())
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_9_during_a_write_burst_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let port = free_port();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_app(&server.base).await;

    let published: Shared = Default::default();
    let next = Arc::new(AtomicU64::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let client = http();
    let publishers: Vec<_> = (0..4)
        .map(|_| {
            let (published, next, killed, client, base) = (
                published.clone(),
                next.clone(),
                killed.clone(),
                client.clone(),
                server.base.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let version = format!("1.{}.0", next.fetch_add(1, Ordering::Relaxed) + 1);
                    let result = register(&client, &base, &version).await;
                    let mut p = published.lock();
                    p.attempted += 1;
                    match result {
                        Ok(status) => {
                            *p.statuses.entry(status).or_default() += 1;
                            if (200..300).contains(&status) {
                                p.acknowledged.push(version);
                            }
                        }
                        Err(e) => {
                            p.transport_errors += 1;
                            if killed.load(Ordering::SeqCst) {
                                return;
                            }
                            panic!("{version} failed before the kill: {e}");
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    killed.store(true, Ordering::SeqCst);
    server.signal("KILL");
    assert_eq!(server.wait(Duration::from_secs(10)), None);
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let published = std::mem::take(&mut *published.lock());
    eprintln!(
        "publishers: {} attempted, {} acknowledged, statuses {:?}, {} transport errors",
        published.attempted,
        published.acknowledged.len(),
        published.statuses,
        published.transport_errors
    );
    assert!(
        published.acknowledged.len() > 50,
        "too few writes before the kill to prove anything"
    );
    assert_eq!(
        published.statuses.keys().copied().collect::<Vec<_>>(),
        [201],
        "every answered write is acknowledged: {:?}",
        published.statuses
    );

    // The file as the crash left it (WAL included) is sound and holds every
    // acknowledged write.
    let db = dir.path().join("data").join("updater.db");
    assert!(db.exists(), "{} missing", db.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"]);
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT version FROM releases WHERE application_id = ?")
            .bind(APP)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let lost: Vec<_> = published
        .acknowledged
        .iter()
        .filter(|v| !stored.contains(*v))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes are not in the file: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    drop(server);

    // Restarted, the server lists every acknowledged write, once.
    let mut server = ChildServer::spawn(dir.path(), port);
    let listed = listed_versions(&http(), &server.base).await.unwrap();
    assert_eq!(duplicates(&listed), Vec::<String>::new());
    let listed: BTreeSet<String> = listed.into_iter().collect();
    assert_eq!(listed, stored, "the server lists what the file holds");
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)), Some(0));
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&db))
            .await
            .unwrap();
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(integrity, ["ok"], "after a clean restart and shutdown");
}
