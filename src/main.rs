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
    /// Create the seal's key (a file, or inside a PKCS#11 token) and its certificate, issued by a
    /// new root CA or an existing one.
    Keygen(commands::keygen::KeygenArgs),
    /// Sign a PDF with the seal as a PAdES signature, appended as an incremental update.
    Sign(commands::sign::SignArgs),
    /// Verify every signature of a PDF: exit 0 passed, 1 failed or indeterminate, 2 unreadable.
    Verify(commands::verify::VerifyArgs),
    /// Issue an e-licence from a template bundle and data, sealed and certified (DocMDP P=1);
    /// prints its serial.
    Issue(commands::issue::IssueArgs),
    /// Work with template bundles.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Run the seal service over HTTP(S): API, public verification pages, audit trail.
    Serve(commands::serve::ServeArgs),
    /// Manage API tokens (printed once on creation; stored only as hashes).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The seal in service, and rotation to a new seal without downtime.
    #[command(subcommand)]
    Seal(SealCommand),
    /// The seal's root CA: revoke a certificate, issue the CRL (docs/revocation.md).
    #[command(subcommand)]
    Ca(CaCommand),
    /// Certificate revocation lists in the service's registry.
    #[command(subcommand)]
    Crl(CrlCommand),
    #[command(subcommand)]
    Ltv(LtvCommand),
}

/// Long-term validity (docs/ltv.md).
#[derive(Subcommand)]
enum LtvCommand {
    /// Archive renewal of one file: its validation data and a new document timestamp (B-LTA).
    Extend(commands::ltv::ExtendArgs),
}

#[derive(Subcommand)]
enum SealCommand {
    /// Bring a new seal (key directory) into service; running services switch to it.
    Rotate(commands::seal::RotateArgs),
    /// List every seal ever in service (generation, certificate SHA-256, state, custody, place).
    List(commands::config::CommonArgs),
}

#[derive(Subcommand)]
enum CaCommand {
    /// Revoke a certificate and write the CA's new CRL (DIR/root-ca.crl).
    Revoke(commands::ca::RevokeArgs),
    /// Issue the CRL again with a higher number and a fresh nextUpdate.
    Crl(commands::ca::CrlArgs),
}

#[derive(Subcommand)]
enum CrlCommand {
    /// Publish a CRL of the seal's root: served at /crl/{SKI}.crl, honoured by verification.
    Publish(commands::ca::PublishArgs),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, alone on the last line.
    Create(commands::admin::TokenCreateArgs),
    /// List tokens (id, role, department, state, name); secrets are never shown.
    List(commands::config::CommonArgs),
    /// Revoke a token at once.
    Revoke(commands::admin::TokenRevokeArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain: exit 0 when whole, 1 naming the first broken link.
    Verify(commands::config::CommonArgs),
}

#[derive(Subcommand)]
enum TemplateCommand {
    /// Check a bundle (template.pdf, template.toml, example.json) and list every problem.
    Check(commands::issue::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => commands::keygen::run(args).map(|()| 0),
        Command::Sign(args) => commands::sign::run(args).map(|()| 0),
        Command::Verify(args) => commands::verify::run(args),
        Command::Issue(args) => commands::issue::run(args).map(|()| 0),
        Command::Template(TemplateCommand::Check(args)) => commands::issue::check(args).map(|()| 0),
        Command::Serve(args) => commands::serve::run(args).map(|()| 0),
        Command::Token(TokenCommand::Create(args)) => {
            commands::admin::create_token(args).map(|()| 0)
        }
        Command::Token(TokenCommand::List(args)) => commands::admin::list_tokens(args).map(|()| 0),
        Command::Token(TokenCommand::Revoke(args)) => {
            commands::admin::revoke_token(args).map(|()| 0)
        }
        Command::Audit(AuditCommand::Verify(args)) => commands::admin::verify_audit(args),
        Command::Seal(SealCommand::Rotate(args)) => commands::seal::rotate(args).map(|()| 0),
        Command::Seal(SealCommand::List(args)) => commands::seal::list(args).map(|()| 0),
        Command::Ca(CaCommand::Revoke(args)) => commands::ca::revoke(args).map(|()| 0),
        Command::Ca(CaCommand::Crl(args)) => commands::ca::crl(args).map(|()| 0),
        Command::Crl(CrlCommand::Publish(args)) => commands::ca::publish(args).map(|()| 0),
        Command::Ltv(LtvCommand::Extend(args)) => commands::ltv::extend(args).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) if error.downcast_ref::<commands::Problems>().is_some() => {
            if let Some(problems) = error.downcast_ref::<commands::Problems>() {
                print_problems(problems);
            }
            ExitCode::from(2)
        }
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

/// A summary line, then one line per problem, each naming its field or PDF object.
fn print_problems(problems: &commands::Problems) {
    let printable = oneseal::verify::text::printable;
    eprintln!("oneseal: {}:", printable(&problems.to_string()));
    for problem in &problems.problems {
        eprintln!("  - {}", printable(&problem.to_string()));
    }
}

#[cfg(test)]
mod tests {
    /// clap checks its definitions only when they are used: a clash of two `--data` flags once
    /// panicked `oneseal issue` at start. This checks every subcommand at once.
    #[test]
    fn every_subcommand_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
