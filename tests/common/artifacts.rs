//! Artifacts as a client downloads them: a loopback HTTP server standing in
//! for a CDN, SHA-256/SHA-512 digests, and minisign keys as Tauri uses them.

use axum::Router;

type ArtifactFiles = std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<String, Vec<u8>>>>;

/// Artifacts served over real HTTP on loopback, as a CDN would; the bytes
/// behind a path can be swapped to simulate tampering.
pub struct ArtifactServer {
    pub base: String,
    files: ArtifactFiles,
    task: tokio::task::JoinHandle<()>,
}

impl ArtifactServer {
    pub async fn start() -> Self {
        use axum::extract::{Path as UrlPath, State};
        let files: ArtifactFiles = Default::default();
        let app = Router::new()
            .route(
                "/files/{name}",
                axum::routing::get(
                    |State(files): State<ArtifactFiles>,
                     UrlPath(name): UrlPath<String>| async move {
                        match files.lock().get(&name) {
                            Some(bytes) => (axum::http::StatusCode::OK, bytes.clone()),
                            None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                        }
                    },
                ),
            )
            .with_state(files.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, files, task }
    }

    /// Serves `bytes` at `/files/<name>` and returns the URL.
    pub fn put(&self, name: &str, bytes: &[u8]) -> String {
        self.files.lock().insert(name.to_string(), bytes.to_vec());
        format!("{}/files/{name}", self.base)
    }
}

impl Drop for ArtifactServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub fn sha512_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(bytes))
}

/// A minisign key pair as Tauri uses it.
pub struct TauriKeys {
    pub public: minisign::PublicKey,
    pub secret: minisign::SecretKey,
}

impl TauriKeys {
    pub fn generate() -> Self {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        Self {
            public: pair.pk,
            secret: pair.sk,
        }
    }

    /// `tauri.conf.json`'s `pubkey`: base64 of the public key file.
    pub fn tauri_public_key(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public.to_box().unwrap().to_string())
    }

    /// The `.sig` file `tauri signer sign` writes: base64 of the signature text.
    pub fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        use base64::Engine;
        let comment = format!("timestamp:1700000000\tfile:{file}\tversion:{version}");
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(&comment),
            None,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.to_string())
    }
}
