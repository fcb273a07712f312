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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => commands::keygen::run(args),
        Command::Sign(args) => commands::sign::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, the whole cause chain: what went wrong and where.
            eprintln!("oneseal: {error:#}");
            ExitCode::from(2)
        }
    }
}
