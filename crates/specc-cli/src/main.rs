//! `specc`: check, build and train neural-network specs.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "specc", version, about = "A compiler for neural-network specs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs and print a Keras-style summary of each model, or the errors.
    Check {
        /// Spec files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => check(&files),
    }
}

/// Reads a spec file; an unreadable file is reported like a diagnostic.
fn read_spec(path: &PathBuf) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            None
        }
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for (i, path) in files.iter().enumerate() {
        let Some(source) = read_spec(path) else {
            failed = true;
            continue;
        };
        let name = path.display().to_string();
        match specc_lang::check_source(&source) {
            Ok(file) => {
                for (j, model) in file.models.iter().enumerate() {
                    if i + j > 0 {
                        println!();
                    }
                    println!("{name}:");
                    print!("{}", specc_lang::summary::summary(model));
                }
            }
            Err(diagnostics) => {
                failed = true;
                eprint!("{}", specc_lang::render(&diagnostics, &name, &source));
                let n = diagnostics.len();
                eprintln!(
                    "error: could not check `{name}` due to {n} previous error{}",
                    if n == 1 { "" } else { "s" }
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
