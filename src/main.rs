//! Composition root: the `oneseal` command line.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// oneseal: the bureau's single electronic approval seal.
#[derive(Parser)]
#[command(name = "oneseal", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a root CA and the seal certificate it issues, with their keys.
    Keygen(commands::keygen::KeygenArgs),
    /// Sign a PDF with the seal as a PAdES signature, appended as an incremental update.
    Sign(commands::sign::SignArgs),
    /// Verify every signature of a PDF: exit 0 passed, 1 failed or indeterminate, 2 unreadable.
    Verify(commands::verify::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => commands::keygen::run(args).map(|()| 0),
        Command::Sign(args) => commands::sign::run(args).map(|()| 0),
        Command::Verify(args) => commands::verify::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            // One line, the whole cause chain: what went wrong and where.
            eprintln!(
                "oneseal: {}",
                oneseal::verify::text::printable(&format!("{error:#}"))
            );
            ExitCode::from(2)
        }
    }
}
