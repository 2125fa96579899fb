//! Platform and architecture names, with the aliases real clients send.

use super::validate::FieldErrors;

/// Platforms the service knows (the Go service's set).
pub const PLATFORMS: [&str; 5] = ["windows", "linux", "darwin", "android", "ios"];
/// Architectures the service knows (Go's `GOARCH` names).
pub const ARCHITECTURES: [&str; 4] = ["amd64", "arm64", "386", "arm"];
/// A macOS build that runs natively on Intel and Apple silicon (a fat
/// binary): one release serves both `amd64` and `arm64` Macs.
pub const UNIVERSAL: &str = "universal";
/// The only platform a universal build exists on.
pub const UNIVERSAL_PLATFORM: &str = "darwin";

/// Maps a platform name or alias (case-insensitive) to its canonical name.
pub fn normalize_platform(input: &str) -> Option<&'static str> {
    let lower = input.trim().to_ascii_lowercase();
    let canonical = match lower.as_str() {
        "macos" | "osx" | "mac" => "darwin",
        "win" | "win32" | "win64" => "windows",
        other => other,
    };
    PLATFORMS.iter().copied().find(|p| *p == canonical)
}

/// Maps an architecture name or alias (case-insensitive) to its canonical name.
pub fn normalize_architecture(input: &str) -> Option<&'static str> {
    let lower = input.trim().to_ascii_lowercase();
    let canonical = match lower.as_str() {
        "x86_64" | "x64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "i686" | "i386" | "x86" | "ia32" | "386" => "386",
        "armv7" | "armv7l" | "armhf" | "arm" => "arm",
        // Tauri's target triple and static-manifest key, Python's name.
        "universal"
        | "universal-apple-darwin"
        | "darwin-universal"
        | "macos-universal"
        | "universal2" => UNIVERSAL,
        other => other,
    };
    ARCHITECTURES
        .iter()
        .copied()
        .chain([UNIVERSAL])
        .find(|a| *a == canonical)
}

/// Whether a universal release also serves clients of `platform` and
/// `architecture`: Macs on Intel and Apple silicon.
pub fn served_by_universal(platform: &str, architecture: &str) -> bool {
    platform == UNIVERSAL_PLATFORM && matches!(architecture, "amd64" | "arm64")
}

/// Whether a release built for `release_architecture` runs on a client of
/// `platform` and `client_architecture`: its own architecture, or a
/// universal build on an Intel or Apple silicon Mac.
pub fn runs_on(platform: &str, release_architecture: &str, client_architecture: &str) -> bool {
    release_architecture == client_architecture
        || (release_architecture == UNIVERSAL && served_by_universal(platform, client_architecture))
}

/// Channel names: lowercase letters, digits, `-`, `_` and `.`, 1 to 32 characters.
pub fn normalize_channel(input: &str) -> Option<String> {
    let lower = input.trim().to_ascii_lowercase();
    let valid = !lower.is_empty()
        && lower.len() <= 32
        && lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    valid.then_some(lower)
}

pub const DEFAULT_CHANNEL: &str = "stable";

/// [`normalize_platform`], with the message a client sees when it fails.
pub fn parse_platform(input: &str) -> Result<&'static str, String> {
    normalize_platform(input).ok_or_else(|| {
        format!(
            "unknown platform `{}`; use windows, linux, darwin (macos), android or ios",
            input.escape_debug()
        )
    })
}

/// [`normalize_architecture`], with the message a client sees when it fails.
pub fn parse_architecture(input: &str) -> Result<&'static str, String> {
    normalize_architecture(input).ok_or_else(|| {
        format!(
            "unknown architecture `{}`; use amd64 (x86_64), arm64 (aarch64), 386 (i686), arm (armv7) \
             or, on macOS, universal (universal-apple-darwin)",
            input.escape_debug()
        )
    })
}

/// [`normalize_channel`], with the message a client sees when it fails.
pub fn parse_channel(input: &str) -> Result<String, String> {
    normalize_channel(input)
        .ok_or_else(|| "must be 1-32 characters of letters, digits, '-', '_' or '.'".to_string())
}

/// A client's target, normalised.
pub struct Target {
    pub platform: &'static str,
    pub architecture: &'static str,
    pub channel: String,
}

/// Normalises platform, architecture and channel (default `stable`), adding
/// a field error for each one that is not valid.
pub fn parse_target(
    platform: &str,
    architecture: &str,
    channel: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<Target> {
    let platform = parse_platform(platform)
        .map_err(|e| errors.add("platform", e))
        .ok();
    let architecture = parse_architecture(architecture)
        .map_err(|e| errors.add("architecture", e))
        .ok();
    let channel = parse_channel(channel.unwrap_or(DEFAULT_CHANNEL))
        .map_err(|e| errors.add("channel", e))
        .ok();
    if let (Some(platform), Some(UNIVERSAL)) = (platform, architecture)
        && platform != UNIVERSAL_PLATFORM
    {
        errors.add("architecture", universal_elsewhere(platform));
        return None;
    }
    Some(Target {
        platform: platform?,
        architecture: architecture?,
        channel: channel?,
    })
}

/// Why `universal` is refused on `platform`.
pub fn universal_elsewhere(platform: &str) -> String {
    format!(
        "`universal` is only for macOS (darwin), not {platform}; \
         register each architecture of a {platform} build on its own"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_canonical_names() {
        let cases = [
            ("macos", "darwin"),
            ("MacOS", "darwin"),
            ("Darwin", "darwin"),
            ("linux", "linux"),
            ("WINDOWS", "windows"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_platform(input), Some(expected), "{input}");
        }
        let arches = [
            ("x86_64", "amd64"),
            ("AARCH64", "arm64"),
            ("i686", "386"),
            ("armv7", "arm"),
            ("amd64", "amd64"),
            ("universal", "universal"),
            ("Universal-Apple-Darwin", "universal"),
            ("darwin-universal", "universal"),
            ("universal2", "universal"),
        ];
        for (input, expected) in arches {
            assert_eq!(normalize_architecture(input), Some(expected), "{input}");
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        assert_eq!(normalize_platform("beos"), None);
        assert_eq!(normalize_platform(""), None);
        assert_eq!(normalize_architecture("mips"), None);
        assert_eq!(normalize_channel("bad channel"), None);
        assert_eq!(normalize_channel("Beta").as_deref(), Some("beta"));
    }

    #[test]
    fn universal_is_a_mac_target_only() {
        let mut errors = FieldErrors::default();
        let mac = parse_target("macos", "universal-apple-darwin", None, &mut errors).unwrap();
        assert_eq!((mac.platform, mac.architecture), ("darwin", UNIVERSAL));
        assert!(errors.is_empty());
        assert!(parse_target("linux", "universal", None, &mut errors).is_none());
        assert_eq!(errors.0.len(), 1, "{:?}", errors.0);
        let message = &errors.0["architecture"];
        assert!(message.contains("only for macOS"), "{message}");
    }

    #[test]
    fn universal_serves_both_mac_architectures() {
        assert!(runs_on("darwin", UNIVERSAL, "arm64"));
        assert!(runs_on("darwin", UNIVERSAL, "amd64"));
        assert!(runs_on("darwin", UNIVERSAL, UNIVERSAL));
        assert!(!runs_on("darwin", UNIVERSAL, "386"));
        assert!(!runs_on("linux", UNIVERSAL, "amd64"));
        assert!(!runs_on("darwin", "arm64", "amd64"));
    }
}
