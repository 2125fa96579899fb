//! Artifacts as a client downloads them: a loopback HTTP server standing in
//! for a CDN, SHA-256/SHA-512 digests, and minisign keys as Tauri uses them.

use axum::Router;

type ArtifactFiles = std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<String, Vec<u8>>>>;
type HeldFiles = std::sync::Arc<
    parking_lot::Mutex<std::collections::HashMap<String, tokio::sync::watch::Receiver<bool>>>,
>;

/// Artifacts served over real HTTP on loopback, as a CDN would; the bytes
/// behind a path can be swapped to simulate tampering, and a file can be
/// held back (a slow CDN) until the test lets it go.
pub struct ArtifactServer {
    pub base: String,
    files: ArtifactFiles,
    held: HeldFiles,
    task: tokio::task::JoinHandle<()>,
}

/// Holds back the answers for one file until `release` (or drop).
pub struct Gate(tokio::sync::watch::Sender<bool>);

impl Gate {
    pub fn release(self) {
        let _ = self.0.send(true);
    }
}

impl ArtifactServer {
    pub async fn start() -> Self {
        use axum::extract::{Path as UrlPath, State};
        let files: ArtifactFiles = Default::default();
        let held: HeldFiles = Default::default();
        let app = Router::new()
            .route(
                "/files/{name}",
                axum::routing::get(
                    |State((files, held)): State<(ArtifactFiles, HeldFiles)>,
                     UrlPath(name): UrlPath<String>| async move {
                        let gate = held.lock().get(&name).cloned();
                        if let Some(mut gate) = gate {
                            // A dropped gate lets the request through too.
                            let _ = gate.wait_for(|open| *open).await;
                        }
                        match files.lock().get(&name) {
                            Some(bytes) => (axum::http::StatusCode::OK, bytes.clone()),
                            None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                        }
                    },
                ),
            )
            .with_state((files.clone(), held.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            base,
            files,
            held,
            task,
        }
    }

    /// Serves `bytes` at `/files/<name>` and returns the URL.
    pub fn put(&self, name: &str, bytes: &[u8]) -> String {
        self.files.lock().insert(name.to_string(), bytes.to_vec());
        format!("{}/files/{name}", self.base)
    }

    /// Requests for `name` wait, without an answer, until the gate is released.
    pub fn hold(&self, name: &str) -> Gate {
        let (open, gate) = tokio::sync::watch::channel(false);
        self.held.lock().insert(name.to_string(), gate);
        Gate(open)
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
        self.sign_with_comment(
            bytes,
            &format!("timestamp:1700000000\tfile:{file}\tversion:{version}"),
        )
    }

    /// A `.sig` whose trusted comment is `comment`, such as the
    /// `timestamp:<unix>\tfile:<name>` that `tauri signer sign` writes when
    /// it is not told the app's version.
    pub fn sign_with_comment(&self, bytes: &[u8], comment: &str) -> String {
        use base64::Engine;
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(comment),
            None,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.to_string())
    }
}
