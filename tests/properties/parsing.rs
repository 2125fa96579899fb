//! The pure parsers clients reach first: versions, platforms, architectures,
//! channels and whole targets. None panics, and what one accepts renders to
//! a value it accepts again unchanged.

use proptest::prelude::*;

use crate::common::sut::{
    FieldErrors, parse_architecture, parse_channel, parse_platform, parse_target, parse_version,
};
use crate::support::{any_text, check, parser_text};

const CASES: u32 = 256;

/// Version-shaped input: optional whitespace and `v`, one to four numeric
/// parts (leading zeros, huge numbers), pre-release and build identifiers,
/// with some junk; plus lengths around the 128-character limit.
fn version_like() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        4 => (0u64..100).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => Just("18446744073709551616".to_string()),
        1 => "0[0-9]{1,3}",
        1 => Just(String::new()),
    ];
    let identifiers = |max| {
        proptest::collection::vec("[0-9A-Za-z-]{0,8}|0[0-9]{1,2}|[0-9]{1,4}", 1..max)
            .prop_map(|ids| ids.join("."))
    };
    let shaped = (
        "[ \t]{0,2}",
        "v?|V?",
        proptest::collection::vec(number, 1..5).prop_map(|parts| parts.join(".")),
        proptest::option::of(identifiers(4)),
        proptest::option::of(identifiers(3)),
        "[ \t\n]{0,2}",
    )
        .prop_map(|(lead, v, core, pre, build, trail)| {
            let mut s = format!("{lead}{v}{core}");
            if let Some(pre) = pre {
                s.push('-');
                s.push_str(&pre);
            }
            if let Some(build) = build {
                s.push('+');
                s.push_str(&build);
            }
            s.push_str(&trail);
            s
        });
    // Padding a short core (`1` → `1.0.0`) lengthens the version; near the
    // limit that must not make the rendered form unreadable.
    let near_limit = (
        "v?",
        "[1-9]|[1-9]\\.[0-9]|[1-9]\\.[0-9]\\.[0-9]",
        "[-+]",
        115..135usize,
    )
        .prop_map(|(v, core, sep, len)| {
            let head = format!("{v}{core}{sep}");
            let tail = "a".repeat(len.saturating_sub(head.len()));
            format!("{head}{tail}")
        });
    prop_oneof![
        6 => shaped,
        2 => near_limit,
        1 => parser_text(40),
        1 => any_text(40),
    ]
}

#[test]
fn version_parsing_never_panics_and_round_trips() {
    check(CASES, version_like(), |input| {
        if let Ok(version) = parse_version(&input) {
            let rendered = version.to_string();
            let again = parse_version(&rendered);
            prop_assert_eq!(
                again.as_ref(),
                Ok(&version),
                "{:?} parsed as {} which does not parse back",
                input,
                rendered
            );
            // Rendering is canonical: the second parse renders the same text.
            prop_assert_eq!(again.unwrap().to_string(), rendered);
        }
        Ok(())
    });
}

const PLATFORM_NAMES: &[&str] = &[
    "windows", "linux", "darwin", "android", "ios", "macos", "osx", "mac", "win", "win32", "win64",
    "beos", "",
];
const ARCH_NAMES: &[&str] = &[
    "amd64",
    "arm64",
    "386",
    "arm",
    "x86_64",
    "x64",
    "aarch64",
    "i686",
    "i386",
    "x86",
    "ia32",
    "armv7",
    "armv7l",
    "armhf",
    "universal",
    "universal-apple-darwin",
    "mips",
    "",
];
const CHANNEL_NAMES: &[&str] = &["stable", "beta", "nightly-2", "rc.1", "a_b", "Beta", ""];

/// A known name in any case, padded with whitespace, or arbitrary text.
fn name_like(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    let cased = (proptest::sample::select(known), any::<u64>()).prop_map(|(name, bits)| {
        name.chars()
            .enumerate()
            .map(|(i, c)| {
                if bits >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect::<String>()
    });
    prop_oneof![
        4 => (" {0,2}|\t", cased, " {0,2}|\n").prop_map(|(a, n, b)| format!("{a}{n}{b}")),
        2 => parser_text(40),
        1 => any_text(40),
        1 => "[a-z0-9._-]{30,36}",
    ]
}

#[test]
fn platform_parsing_normalises_idempotently() {
    check(CASES, name_like(PLATFORM_NAMES), |input| {
        match parse_platform(&input) {
            Ok(platform) => {
                prop_assert_eq!(parse_platform(platform), Ok(platform));
                prop_assert_eq!(parse_platform(&platform.to_uppercase()), Ok(platform));
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
        Ok(())
    });
}

#[test]
fn architecture_parsing_normalises_idempotently() {
    check(CASES, name_like(ARCH_NAMES), |input| {
        match parse_architecture(&input) {
            Ok(arch) => {
                prop_assert_eq!(parse_architecture(arch), Ok(arch));
                prop_assert_eq!(parse_architecture(&arch.to_uppercase()), Ok(arch));
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
        Ok(())
    });
}

#[test]
fn channel_parsing_normalises_idempotently() {
    check(CASES, name_like(CHANNEL_NAMES), |input| {
        match parse_channel(&input) {
            Ok(channel) => {
                prop_assert_eq!(parse_channel(&channel), Ok(channel.clone()));
                prop_assert!((1..=32).contains(&channel.len()));
                prop_assert_eq!(channel.to_ascii_lowercase(), channel.clone());
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
        Ok(())
    });
}

#[test]
fn target_parsing_agrees_with_its_parts() {
    let target = (
        name_like(PLATFORM_NAMES),
        name_like(ARCH_NAMES),
        proptest::option::of(name_like(CHANNEL_NAMES)),
    );
    check(CASES, target, |(platform, arch, channel)| {
        let mut errors = FieldErrors::default();
        let parsed = parse_target(&platform, &arch, channel.as_deref(), &mut errors);
        let parts = (
            parse_platform(&platform),
            parse_architecture(&arch),
            parse_channel(channel.as_deref().unwrap_or("stable")),
        );
        // `universal` is a macOS build: on another platform it is refused.
        let universal_elsewhere = matches!(
            (&parts.0, &parts.1),
            (Ok(p), Ok("universal")) if *p != "darwin"
        );
        for (field, failed) in [
            ("platform", parts.0.is_err()),
            ("architecture", parts.1.is_err() || universal_elsewhere),
            ("channel", parts.2.is_err()),
        ] {
            prop_assert_eq!(errors.0.contains_key(field), failed, "{}", field);
        }
        prop_assert!(
            errors
                .0
                .keys()
                .all(|k| ["platform", "architecture", "channel"].contains(&k.as_str()))
        );
        match (parsed, parts) {
            (Some(_), _) if universal_elsewhere => {
                prop_assert!(false, "universal on {}", platform)
            }
            (Some(target), (Ok(p), Ok(a), Ok(c))) => {
                prop_assert!(errors.is_empty());
                prop_assert_eq!(target.platform, p);
                prop_assert_eq!(target.architecture, a);
                prop_assert_eq!(&target.channel, &c);
                let mut again = FieldErrors::default();
                let reparsed = parse_target(
                    target.platform,
                    target.architecture,
                    Some(&target.channel),
                    &mut again,
                );
                prop_assert!(again.is_empty());
                let reparsed = reparsed.expect("a rendered target parses");
                prop_assert_eq!(reparsed.platform, target.platform);
                prop_assert_eq!(reparsed.architecture, target.architecture);
                prop_assert_eq!(reparsed.channel, target.channel);
            }
            (None, _) => prop_assert!(!errors.is_empty()),
            (Some(_), _) => prop_assert!(false, "a target despite a failing part"),
        }
        Ok(())
    });
}
