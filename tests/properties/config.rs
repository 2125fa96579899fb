//! The configuration loader on arbitrary input: a YAML file with arbitrary
//! scalars at the known keys (and a few unknown ones), an arbitrary
//! environment of `UPDATER_*` overrides (some read from a secret file) and
//! interpolation variables, command-line overrides, and an arbitrary
//! section. It never panics; it answers settings or a non-empty
//! list of messages; and no message, warning or `Debug` output ever shows a
//! value given to a secret key (one whose name contains `key`, `secret`,
//! `password` or `url`).
//!
//! Secret values carry `MARK` (inputs in `config_input`), so a leak is found however a message quotes or
//! cuts the value. Other keys' values never carry it, and reference only
//! variables whose values do not either.

use proptest::prelude::*;

use crate::common::sut::{ConfigError, Env, LoadOptions, load, load_server_only};
use crate::config_input::{MARK, case, loadable, secret_text, write_case};
use crate::support::check;

const CASES: u32 = 256;

fn assert_no_leak(what: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !text.contains(MARK),
        "{} shows a secret value:\n{}",
        what,
        text
    );
    Ok(())
}

fn assert_error_is_sound(error: &ConfigError) -> Result<(), TestCaseError> {
    prop_assert!(!error.errors.is_empty(), "an error without messages");
    for message in &error.errors {
        prop_assert!(!message.trim().is_empty(), "an empty message");
        assert_no_leak("an error", message)?;
    }
    assert_no_leak("the error's Display", &error.to_string())
}

#[test]
fn config_loading_never_panics_or_leaks_a_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.yaml");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("file-{MARK}\n")).expect("writable");
    let secret_file = secret_file.to_str().expect("a UTF-8 path").to_string();
    let cases = prop_oneof![4 => case(secret_file.clone()), 1 => loadable(secret_file)];
    check(CASES, cases, |case| {
        write_case(&case, &path);
        let options = LoadOptions {
            config_path: Some(path.clone()),
            section: case.section.clone(),
            overrides: case.overrides.clone(),
            env: Env::from_pairs(case.env.iter().cloned()),
        };
        let outcome = load(&options);
        match outcome {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    assert_no_leak("a warning", warning)?;
                }
                assert_no_leak("the loaded settings' Debug", &format!("{loaded:?}"))?;
            }
            Err(error) => assert_error_is_sound(&error)?,
        }
        match load_server_only(&options) {
            Ok(server) => assert_no_leak("the server settings' Debug", &format!("{server:?}"))?,
            Err(error) => assert_error_is_sound(&error)?,
        }
        Ok(())
    });
}

/// Scalars written into the YAML as they are, unquoted: the text may not be
/// YAML at all. A parse error must not quote a secret either.
#[test]
fn raw_yaml_scalars_never_panic_or_leak_a_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("config.yaml");
    let raw = prop_oneof![
        (Just("security"), Just("api_keys"), secret_text()).prop_map(|(a, b, v)| format!(
            "development:\n  {a}:\n    {b}:\n      - name: k\n        key: {v}\n        permissions: [read]\n"
        )),
        (Just("storage"), Just("postgres"), secret_text()).prop_map(|(a, b, v)| format!(
            "development:\n  {a}:\n    {b}:\n      url: {v}\n"
        )),
        secret_text().prop_map(|v| format!(
            "development:\n  security:\n    allow_http_download_urls: {v}\n"
        )),
    ];
    check(CASES, raw, |text| {
        std::fs::write(&path, &text).expect("the temporary file is writable");
        let options = LoadOptions {
            config_path: Some(path.clone()),
            section: None,
            overrides: Vec::new(),
            env: Env::from_pairs([("HIDDEN", format!("env-{MARK}"))]),
        };
        match load(&options) {
            Ok(loaded) => assert_no_leak("the loaded settings' Debug", &format!("{loaded:?}"))?,
            Err(error) => assert_error_is_sound(&error)?,
        }
        Ok(())
    });
}
