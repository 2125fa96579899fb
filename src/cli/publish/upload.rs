//! `--upload s3://bucket/prefix`: every file (and its `.blockmap`) is put to
//! S3-compatible storage before the release is registered, with
//! `object_store` (reqwest and rustls with ring, as the rest of the binary).
//! Keys are the prefix (placeholders as --base-url) plus the file name;
//! large files go up in multipart parts, and each object's size is checked
//! with a HEAD afterwards.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::digest::Progress;
use super::prepare::Prepared;
use super::{Exit, PublishOptions};
use crate::cli::failure::Failure;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Destination {
    store: Arc<dyn ObjectStore>,
    bucket: String,
    prefix: String,
}

impl Destination {
    pub fn parse(spec: &str, endpoint: Option<&str>, timeout: Duration) -> Result<Self, Failure> {
        let rest = spec.strip_prefix("s3://").ok_or_else(|| {
            Failure::new(format!(
                "--upload must be s3://bucket/prefix, not `{}`",
                spec.escape_debug()
            ))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Failure::new(
                "--upload names no bucket (s3://bucket/prefix)",
            ));
        }
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT").ok());
        let allow_http = endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT)
                    .with_timeout(timeout)
                    .with_allow_http(allow_http),
            )
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: timeout,
                ..RetryConfig::default()
            });
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            builder = builder.with_region("us-east-1");
        }
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder
            .build()
            .map_err(|e| Failure::new(format!("--upload: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn key(&self, options: &PublishOptions, platform: &str, arch: &str, name: &str) -> String {
        let prefix = self
            .prefix
            .replace("{version}", &options.version)
            .replace("{app}", &options.app)
            .replace("{channel}", &options.channel)
            .replace("{platform}", platform)
            .replace("{arch}", arch);
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    }
}

pub async fn upload_all(
    destination: &Destination,
    prepared: &Prepared,
    options: &PublishOptions,
) -> Result<(), Exit> {
    let mut objects: BTreeSet<(String, PathBuf)> = BTreeSet::new();
    for target in &prepared.targets {
        for file in &target.files {
            let key = destination.key(options, target.platform, target.architecture, &file.name);
            if let Some((path, _, _)) = &file.blockmap {
                objects.insert((format!("{key}.blockmap"), path.clone()));
            }
            objects.insert((key, file.path.clone()));
        }
    }
    let total: u64 = objects
        .iter()
        .filter_map(|(_, path)| std::fs::metadata(path).ok())
        .map(|m| m.len())
        .sum();
    let progress = Progress::new(total, "uploading");
    for (key, path) in &objects {
        put(destination, key, path, &progress).await?;
    }
    progress.finish();
    Ok(())
}

async fn put(
    destination: &Destination,
    key: &str,
    path: &PathBuf,
    progress: &Progress,
) -> Result<(), Exit> {
    let local = |e: std::io::Error| {
        Exit::usage(Failure::new(format!("cannot read {}: {e}", path.display())))
    };
    let shown = format!("s3://{}/{key}", destination.bucket);
    let remote = |e: &dyn std::fmt::Display| {
        Exit::unreachable(Failure::new(format!(
            "uploading {} to {shown} failed: {e}",
            path.display()
        )))
    };
    let object = ObjectPath::from(key);
    let mut file = tokio::fs::File::open(path).await.map_err(local)?;
    let mut writer = BufWriter::new(Arc::clone(&destination.store), object.clone());
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).await.map_err(local)?;
        if read == 0 {
            break;
        }
        if let Err(e) = writer.write_all(&buffer[..read]).await {
            let _ = writer.abort().await;
            return Err(remote(&e));
        }
        size += read as u64;
        progress.advance(read as u64);
    }
    writer.shutdown().await.map_err(|e| remote(&e))?;
    let stored = destination
        .store
        .head(&object)
        .await
        .map_err(|e| remote(&e))?;
    if stored.size != size {
        return Err(remote(&format!(
            "the stored object has {} bytes, the file {size}",
            stored.size
        )));
    }
    Ok(())
}
