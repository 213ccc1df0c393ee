//! Command line of the agent.

use std::process::ExitCode;

/// Runs the agent with the process arguments.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
