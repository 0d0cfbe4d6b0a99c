use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use quire::Error;
use quire::check::Summary;
use quire::diag::Diagnostic;
use quire::render::BuildInfo;

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
        Command::Build(ref args) => build(cli, args),
    }
}

fn build(cli: &Cli, args: &cli::BuildArgs) -> quire::Result<()> {
    let loaded = quire::load(&cli.content)?;
    print_diagnostics(&loaded.warnings, cli.quiet);
    let info = BuildInfo::new(&loaded.book).map_err(Error::Usage)?;
    let all = !args.epub;
    if args.epub || all {
        let started = Instant::now();
        let (path, warnings) = quire::render::epub::build(&loaded.book, &cli.out, &info)?;
        print_diagnostics(&warnings, cli.quiet);
        report(cli, &path, started);
    }
    Ok(())
}

fn report(cli: &Cli, path: &std::path::Path, started: Instant) {
    if cli.quiet {
        return;
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {} ({:.1} MB) in {:.2} s",
        path.display(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
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
