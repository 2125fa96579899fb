//! How the page and the feed name platforms, architectures, sizes and
//! digests for people.

use crate::domain::{Artifact, UNIVERSAL};

pub fn platform(platform: &str) -> &str {
    match platform {
        "windows" => "Windows",
        "darwin" => "macOS",
        "linux" => "Linux",
        "android" => "Android",
        "ios" => "iOS",
        other => other,
    }
}

/// Macs are "Intel" or "Apple silicon", as Apple names them; a universal
/// build runs on both.
pub fn architecture<'a>(platform: &str, architecture: &'a str) -> &'a str {
    match (platform, architecture) {
        ("darwin", "amd64") => "Intel",
        ("darwin", "arm64") => "Apple silicon",
        (_, UNIVERSAL) => "Universal (Apple silicon and Intel)",
        (_, "amd64") => "x64",
        (_, "arm64") => "ARM64",
        (_, "386") => "x86, 32-bit",
        (_, "arm") => "ARM, 32-bit",
        (_, other) => other,
    }
}

/// "Windows (x64)"; "macOS Universal (Apple silicon and Intel)".
pub fn target(platform_name: &str, architecture_name: &str) -> String {
    if architecture_name == UNIVERSAL {
        return format!(
            "{} {}",
            platform(platform_name),
            architecture(platform_name, architecture_name)
        );
    }
    format!(
        "{} ({})",
        platform(platform_name),
        architecture(platform_name, architecture_name)
    )
}

/// Decimal units, as file managers show them: "12.3 MB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The digest shown beside a file: SHA-256, or SHA-512 when that is the
/// only one published.
pub fn checksum(file: &Artifact) -> Option<(&'static str, &str)> {
    match (&file.sha256, &file.sha512) {
        (Some(sha256), _) => Some(("SHA-256", sha256)),
        (None, Some(sha512)) => Some(("SHA-512", sha512)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(size(0), "0 bytes");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(1_234_567), "1.2 MB");
        assert_eq!(size(999_999_999), "1.0 GB");
        assert_eq!(size(88_000_000_000), "88.0 GB");
    }

    #[test]
    fn targets_read_like_their_vendors_name_them() {
        assert_eq!(target("darwin", "arm64"), "macOS (Apple silicon)");
        assert_eq!(target("windows", "amd64"), "Windows (x64)");
        assert_eq!(target("linux", "arm"), "Linux (ARM, 32-bit)");
        assert_eq!(
            target("darwin", "universal"),
            "macOS Universal (Apple silicon and Intel)"
        );
    }
}
