//! `updater pre-stop [SECONDS]`: sleep, then exit 0. A Kubernetes `exec`
//! preStop hook in a scratch image (no shell, no `sleep`): the pod keeps
//! serving while its endpoints are removed from every load balancer, before
//! SIGTERM starts the drain. No configuration, runtime or secrets are read.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_SECONDS: u64 = 5;
/// Kubernetes kills the container at `terminationGracePeriodSeconds` anyway;
/// the bound catches a typo such as milliseconds given as seconds.
const MAX_SECONDS: u64 = 300;

/// `updater pre-stop [SECONDS]` (also `-pre-stop`, `--pre-stop`).
pub fn run_from_args(args: &[OsString]) -> ExitCode {
    match parse_seconds(args) {
        Ok(seconds) => {
            std::thread::sleep(Duration::from_secs(seconds));
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("updater pre-stop: {problem}");
            ExitCode::from(2)
        }
    }
}

fn parse_seconds(args: &[OsString]) -> Result<u64, String> {
    match args {
        [] => Ok(DEFAULT_SECONDS),
        [value] => {
            let text = value.to_string_lossy();
            let seconds: u64 = text
                .trim_end_matches('s')
                .parse()
                .map_err(|_| format!("`{text}` is not a number of seconds"))?;
            if seconds > MAX_SECONDS {
                return Err(format!("{seconds}s is over the {MAX_SECONDS}s bound"));
            }
            Ok(seconds)
        }
        _ => Err("expects at most one argument, the seconds to sleep".into()),
    }
}
