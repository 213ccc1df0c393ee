//! Command line: flags and the `run()` entry point.

use std::process::ExitCode;

/// Runs podtap with the process arguments.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
