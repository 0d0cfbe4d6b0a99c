use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use quire::Error;
use quire::check::Summary;
use quire::diag::Diagnostic;

mod cli;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Error::Content(diags) = &e {
                print_diagnostics(diags, cli.quiet);
            }
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run(cli: &Cli) -> quire::Result<()> {
    match cli.command {
        Command::Check => {
            let loaded = quire::load(&cli.content)?;
            print_diagnostics(&loaded.warnings, cli.quiet);
            if !cli.quiet {
                let mut out = std::io::stdout().lock();
                // A closed pipe (e.g. `| head`) is not an error worth reporting.
                let _ = writeln!(out, "{}", Summary::of(&loaded));
            }
            Ok(())
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        if quiet && d.severity == quire::diag::Severity::Warning {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
}
