#![forbid(unsafe_code)]

use std::process::ExitCode;

#[cfg(all(target_env = "musl", target_pointer_width = "64"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // clap cannot parse the single-dash long flag `-health-check`, and the
    // probe and the preStop sleep must not start a runtime or read secrets:
    // dispatch before clap.
    match args.get(1).and_then(|a| a.to_str()) {
        Some("-health-check" | "--health-check") => updater::probe::run_from_args(&args[2..]),
        Some("pre-stop" | "-pre-stop" | "--pre-stop") => {
            updater::pre_stop::run_from_args(&args[2..])
        }
        _ => updater::cli::run(),
    }
}
