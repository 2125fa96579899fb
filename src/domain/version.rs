//! Version parsing shared by releases, clients and application policy.
//!
//! The Go service accepted Masterminds-style versions (`v1.2`, `1.2`), so
//! clients in the field send them. They are normalised to strict SemVer here
//! and ordered by SemVer precedence from then on.

use semver::Version;

const MAX_VERSION_LEN: usize = 128;

/// Parses a version leniently: an optional leading `v`, and a missing minor or
/// patch component (`1`, `1.2`) are accepted and filled with zeros.
pub fn parse_version(input: &str) -> Result<Version, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".into());
    }
    if trimmed.len() > MAX_VERSION_LEN {
        return Err(format!("must be at most {MAX_VERSION_LEN} characters"));
    }
    let without_prefix = trimmed
        .strip_prefix('v')
        .or_else(|| trimmed.strip_prefix('V'))
        .unwrap_or(trimmed);
    let core_end = without_prefix
        .find(['-', '+'])
        .unwrap_or(without_prefix.len());
    let (core, suffix) = without_prefix.split_at(core_end);
    let parts = core.split('.').count();
    let padded = match parts {
        1 => format!("{core}.0.0{suffix}"),
        2 => format!("{core}.0{suffix}"),
        _ => without_prefix.to_string(),
    };
    // Padding lengthens the version (`1-x` → `1.0.0-x`); the limit holds for
    // the stored form too, or a store could not read it back.
    if padded.len() > MAX_VERSION_LEN {
        return Err(format!(
            "must be at most {MAX_VERSION_LEN} characters once normalised to major.minor.patch"
        ));
    }
    Version::parse(&padded).map_err(|e| format!("`{trimmed}` is not a semantic version: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lenient_forms() {
        assert_eq!(parse_version("1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(parse_version("v1.2.3").unwrap(), Version::new(1, 2, 3));
        assert_eq!(parse_version("1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(parse_version("2").unwrap(), Version::new(2, 0, 0));
        assert_eq!(
            parse_version("1.2-beta.1").unwrap().to_string(),
            "1.2.0-beta.1"
        );
        assert_eq!(
            parse_version(" 1.0.0+build.5 ").unwrap().to_string(),
            "1.0.0+build.5"
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "1.2.3.4", "1..2", "-1.0.0", "1.0.0-", "01.0.0"] {
            assert!(parse_version(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_version(&"1".repeat(200)).is_err());
    }

    #[test]
    fn the_length_limit_holds_after_padding() {
        // 128 characters as sent, 132 as `1.0.0-...`: the stores parse the
        // rendered form back, so it must be within the limit as well.
        let long = format!("1-{}", "a".repeat(126));
        assert!(parse_version(&long).is_err());
        let fits = format!("1.0.0-{}", "a".repeat(122));
        let version = parse_version(&fits).unwrap();
        assert_eq!(parse_version(&version.to_string()).unwrap(), version);
    }

    #[test]
    fn prerelease_orders_below_release() {
        assert!(parse_version("1.0.0-rc.1").unwrap() < parse_version("1.0.0").unwrap());
    }
}
