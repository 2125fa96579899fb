//! Rows written per hour by the analytics at a given check rate: the real
//! aggregator and flush against a real SQLite file, checks spread over a
//! synthetic fleet (3 platforms × 2 architectures × 2 channels × 8 versions,
//! a staged release, a pool of one million install ids).
//!
//! Usage: analytics-rows <rate per second>... (seconds from BENCH_ROWS_SECONDS, default 30)
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use semver::Version;
use updater::analytics::{Analytics, CheckRecord};
use updater::config::Settings;
use updater::domain::analytics::Outcome;
use updater::registry::Registry;
use updater::store::SqliteStore;

const FLUSH: Duration = Duration::from_secs(10);
const TICK: Duration = Duration::from_millis(10);

struct Fleet {
    versions: Vec<Version>,
    staged: Version,
}

impl Fleet {
    fn check<'a>(&'a self, n: u64) -> (CheckRecord<'a>, String) {
        let platform = ["linux", "windows", "darwin"][(n % 3) as usize];
        let architecture = ["amd64", "arm64"][(n / 3 % 2) as usize];
        let channel = if n % 10 == 0 { "beta" } else { "stable" };
        let version = &self.versions[(n / 7 % self.versions.len() as u64) as usize];
        let offered = (n % 10 == 1).then_some(&self.staged);
        let record = CheckRecord {
            application_id: "bench",
            channel,
            platform,
            architecture,
            current_version: Some(version),
            outcome: if offered.is_some() {
                Outcome::Offered
            } else {
                Outcome::RolloutExcluded
            },
            offered,
            install: None,
        };
        (record, format!("install-{}", n.wrapping_mul(2_654_435_761) % 1_000_000))
    }
}

#[tokio::main]
async fn main() {
    let rates: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a rate per second"))
        .collect();
    let seconds: u64 = std::env::var("BENCH_ROWS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let fleet = Fleet {
        versions: (0..8).map(|minor| Version::new(1, minor, 0)).collect(),
        staged: Version::new(2, 0, 0),
    };
    println!("rate/s\tseconds\tchecks\trows\trows/hour\tns/check\tflush ms (mean)");
    for rate in rates {
        let dir = std::env::temp_dir().join(format!("analytics-rows-{}-{rate}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("usage.db"), Duration::from_secs(5))
            .await
            .unwrap();
        let registry = Arc::new(Registry::open(Arc::new(store)).await.unwrap());
        let mut settings = Settings::default();
        settings.analytics.flush_interval = FLUSH;
        let analytics = Analytics::new(&settings.analytics, registry);
        analytics.load_secret().await.unwrap();

        let per_tick = rate * TICK.as_millis() as u64 / 1000;
        let start = Instant::now();
        let mut next_flush = start + FLUSH;
        let (mut checks, mut rows, mut flushes) = (0u64, 0usize, 0u32);
        let (mut recording, mut flushing) = (Duration::ZERO, Duration::ZERO);
        let mut tick = tokio::time::interval(TICK);
        while start.elapsed() < Duration::from_secs(seconds) {
            tick.tick().await;
            let began = Instant::now();
            for _ in 0..per_tick {
                let (record, install) = fleet.check(checks);
                analytics.record(record, Some(&install));
                checks += 1;
            }
            recording += began.elapsed();
            if Instant::now() >= next_flush {
                let began = Instant::now();
                rows += analytics.flush().await.unwrap();
                flushing += began.elapsed();
                flushes += 1;
                next_flush += FLUSH;
            }
        }
        let began = Instant::now();
        rows += analytics.flush().await.unwrap();
        flushing += began.elapsed();
        flushes += 1;
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{rate}\t{elapsed:.0}\t{checks}\t{rows}\t{:.0}\t{:.0}\t{:.1}",
            rows as f64 * 3600.0 / elapsed,
            recording.as_nanos() as f64 / checks as f64,
            flushing.as_secs_f64() * 1000.0 / f64::from(flushes),
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
