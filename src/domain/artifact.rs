//! The files a release ships: one per installer kind, each with its own URL,
//! size, digests and optional signatures.

/// Installer and package kinds the client protocols know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    Appimage,
    Deb,
    Rpm,
    /// A macOS `.app` bundle archive (`.app.tar.gz`), as Tauri ships it.
    App,
    Dmg,
    Msi,
    /// An NSIS installer (`-setup.exe`).
    Nsis,
    /// A full NuGet package (Squirrel.Windows, Velopack).
    Nupkg,
    /// A delta NuGet package (Squirrel.Windows, Velopack).
    NupkgDelta,
    Zip,
    /// A file registered through the single-file `/api/v1` form whose kind
    /// cannot be told from its URL.
    Other,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 11] = [
        Self::Appimage,
        Self::Deb,
        Self::Rpm,
        Self::App,
        Self::Dmg,
        Self::Msi,
        Self::Nsis,
        Self::Nupkg,
        Self::NupkgDelta,
        Self::Zip,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appimage => "appimage",
            Self::Deb => "deb",
            Self::Rpm => "rpm",
            Self::App => "app",
            Self::Dmg => "dmg",
            Self::Msi => "msi",
            Self::Nsis => "nsis",
            Self::Nupkg => "nupkg",
            Self::NupkgDelta => "nupkg_delta",
            Self::Zip => "zip",
            Self::Other => "other",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        let lower = input.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|k| k.as_str() == lower)
    }

    /// The kind a download URL's file name implies, if any.
    pub fn from_url(url: &str) -> Option<Self> {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let name = path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let by_suffix = [
            ("-delta.nupkg", Self::NupkgDelta),
            (".nupkg", Self::Nupkg),
            (".appimage", Self::Appimage),
            (".appimage.tar.gz", Self::Appimage),
            (".deb", Self::Deb),
            (".rpm", Self::Rpm),
            (".app.tar.gz", Self::App),
            (".dmg", Self::Dmg),
            (".msi", Self::Msi),
            (".msi.zip", Self::Msi),
            (".nsis.zip", Self::Nsis),
            (".exe", Self::Nsis),
            (".zip", Self::Zip),
        ];
        by_suffix
            .into_iter()
            .find(|(suffix, _)| name.ends_with(suffix))
            .map(|(_, kind)| kind)
    }
}

/// One downloadable file of a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub kind: ArtifactKind,
    pub url: String,
    pub size: u64,
    /// Lowercase hex digests; at least one of SHA-256 and SHA-512 is present.
    pub sha256: Option<String>,
    pub sha512: Option<String>,
    /// Squirrel.Windows `RELEASES` lines need SHA-1.
    pub sha1: Option<String>,
    /// A minisign signature (Tauri, cargo-packager), stored verbatim as
    /// published: the `.sig` file's content.
    pub signature: Option<String>,
    /// A Sparkle EdDSA (Ed25519) signature, base64.
    pub ed_signature: Option<String>,
    /// electron-updater differential downloads.
    pub blockmap_url: Option<String>,
    pub blockmap_size: Option<u64>,
}

impl Artifact {
    /// The last path segment of the URL, without query or fragment.
    pub fn file_name(&self) -> &str {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_urls() {
        let cases = [
            ("https://x/App-1.0.0.AppImage", Some(ArtifactKind::Appimage)),
            ("https://x/app_1.0.0_amd64.deb", Some(ArtifactKind::Deb)),
            ("https://x/App.app.tar.gz?sig=1", Some(ArtifactKind::App)),
            ("https://x/App-1.0.0-setup.exe", Some(ArtifactKind::Nsis)),
            ("https://x/App-1.0.0-full.nupkg", Some(ArtifactKind::Nupkg)),
            (
                "https://x/App-1.0.0-delta.nupkg",
                Some(ArtifactKind::NupkgDelta),
            ),
            ("https://x/App-mac.zip", Some(ArtifactKind::Zip)),
            ("https://x/App.msi.zip", Some(ArtifactKind::Msi)),
            ("https://x/download", None),
        ];
        for (url, expected) in cases {
            assert_eq!(ArtifactKind::from_url(url), expected, "{url}");
        }
        for kind in ArtifactKind::ALL {
            assert_eq!(ArtifactKind::parse(kind.as_str()), Some(kind));
        }
    }
}
