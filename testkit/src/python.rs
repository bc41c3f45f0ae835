//! Python scripts as test clients: the tests that drive a server with a real client
//! (`websockets`, Autobahn's cases through `kosoku`, Chromium over the DevTools protocol) run a
//! script to completion and read what it printed.
//!
//! [`run_script`] returns `None` after printing `skipped: ...` when the script cannot run here:
//! `python3` is missing, or what the script printed starts with `skipped:` (a package it
//! imports is missing), so a test says so rather than passing silently.
//!
//! ```no_run
//! let Some(out) = testkit::python::run_script("tests/support/client.py", ["8888"]) else {
//!     return; // "skipped: ..." printed
//! };
//! assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
//! ```

use std::ffi::OsStr;
use std::process::{Command, Output};

/// Runs `python3 SCRIPT ARGS...` to completion and returns its output, or `None` after
/// printing why it was skipped. Panics if `python3` exists but cannot be started.
pub fn run_script<A: AsRef<OsStr>>(
    script: impl AsRef<OsStr>,
    args: impl IntoIterator<Item = A>,
) -> Option<Output> {
    let output = match Command::new("python3").arg(script).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("skipped: python3 missing");
            return None;
        }
        Err(e) => panic!("cannot start python3: {e}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if stdout.starts_with("skipped:") {
        println!("{stdout}");
        return None;
    }
    Some(output)
}
