//! `updater pre-stop`, the Kubernetes preStop hook: sleeps the given seconds
//! as a real process and refuses a bad or unbounded argument.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

fn pre_stop(args: &[&str]) -> (i32, String, Duration) {
    let started = Instant::now();
    let output = Command::new(binary())
        .args(args)
        // No configuration or secrets are read: an unusable config is no matter.
        .env("UPDATER_CONFIG", "/nonexistent/config.yaml")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn pre_stop_sleeps_the_given_seconds_and_exits_zero() {
    for flag in ["pre-stop", "-pre-stop", "--pre-stop"] {
        let (code, err, took) = pre_stop(&[flag, "1"]);
        assert_eq!(code, 0, "{flag}: {err}");
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_secs(5),
            "{flag} slept {took:?}"
        );
    }
    let (code, err, took) = pre_stop(&["pre-stop", "0s"]);
    assert_eq!(code, 0, "{err}");
    assert!(took < Duration::from_secs(1), "0s slept {took:?}");
}

#[test]
fn pre_stop_refuses_bad_arguments_at_once() {
    for args in [
        &["pre-stop", "five"][..],
        &["pre-stop", "301"],
        &["pre-stop", "1", "2"],
    ] {
        let (code, err, took) = pre_stop(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("updater pre-stop: "), "{args:?}: {err}");
        assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
    }
}
