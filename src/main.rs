use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use quire::Error;
use quire::build::{BuildOptions, Progress, Stage};
use quire::check::Summary;
use quire::diag::{Diagnostic, Severity};
use quire::model::print::{Open, Paper, PdfSettings};
use quire::parse::remote::{Fetch, FetchOptions};

quire::allocator!();

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
    match &cli.command {
        Command::Check(args) => {
            let loaded = quire::load(&cli.content)?;
            print_diagnostics(&loaded.warnings, cli.quiet);
            if args.strict {
                print_diagnostics(&quire::check::strict_lints(&loaded.book), cli.quiet);
            }
            if !cli.quiet {
                // A closed pipe (e.g. `| head`) is not an error worth reporting.
                let _ = writeln!(std::io::stdout().lock(), "{}", Summary::of(&loaded));
            }
            Ok(())
        }
        Command::Init(args) => init(cli, args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "quire", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .map_err(|e| Error::Internal(format!("man page: {e}")))?;
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = std::io::stdout().write_all(&page);
            Ok(())
        }
        Command::Build(args) => build(cli, args),
        Command::Watch(args) => watch(cli, args),
        Command::Booklet(args) => {
            let opts = BuildOptions {
                pdf_settings: pdf_settings(
                    args.paper.map(|s| match s {
                        cli::SheetArg::A4 => cli::PaperArg::A4,
                        cli::SheetArg::Letter => cli::PaperArg::Letter,
                    }),
                    args.open,
                    None,
                    &args.imposition,
                )?,
                booklets: Some(Some(vec![args.part.clone()])),
                force: args.force,
                // Fetching only as book.toml says, within the same time limit.
                images: FetchOptions {
                    timeout: fetch_timeout()?,
                    ..FetchOptions::default()
                },
                source_date_epoch: source_date_epoch()?,
                sink: fault_sink()?,
                binary: std::env::current_exe().ok(),
                ..BuildOptions::default()
            };
            build_with(cli, &opts, None)
        }
    }
}

/// `quire init`: the clock and the process id are read here, at the edge,
/// for the new book's date and a fresh identifier.
fn init(cli: &Cli, args: &cli::InitArgs) -> quire::Result<()> {
    let dir = args.dir.clone().unwrap_or_else(|| cli.content.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let today = quire::time::format_date(now.as_secs() as i64);
    let seed = format!(
        "{}:{}:{}",
        now.as_nanos(),
        std::process::id(),
        dir.display()
    );
    let created = quire::init::init(&dir, &today, seed.as_bytes())?;
    if !cli.quiet {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "created a starter book in {} ({} files)\nnext: quire --content {} build",
            created.dir.display(),
            created.files.len(),
            shell_word(&created.dir.display().to_string())
        );
    }
    Ok(())
}

/// A path as one shell word (quoted when it needs to be).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The PDF settings given on the command line (the CLI's types converted
/// here); those not given come from book.toml's `[pdf]` table.
fn pdf_settings(
    paper: Option<cli::PaperArg>,
    open: Option<cli::OpenArg>,
    part_open: Option<cli::OpenArg>,
    imposition: &cli::ImpositionArgs,
) -> quire::Result<PdfSettings> {
    if let Some(creep) = imposition.creep
        && !(0.0..=5.0).contains(&creep)
    {
        return Err(Error::Usage(format!(
            "--creep {creep} is out of range: give millimetres per sheet, 0 to 5 (paper is about 0.1)"
        )));
    }
    let open_of = |o: cli::OpenArg| match o {
        cli::OpenArg::Right => Open::Right,
        cli::OpenArg::Any => Open::Any,
    };
    Ok(PdfSettings {
        paper: paper.map(|p| match p {
            cli::PaperArg::A4 => Paper::A4,
            cli::PaperArg::Letter => Paper::Letter,
            cli::PaperArg::A5 => Paper::A5,
            cli::PaperArg::SixByNine => Paper::SixByNine,
            cli::PaperArg::Ereader => Paper::Ereader,
            cli::PaperArg::Tablet => Paper::Tablet,
        }),
        open: open.map(open_of),
        part_open: part_open.map(open_of),
        signature: imposition.signature,
        marks: match (imposition.marks, imposition.no_marks) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        creep: imposition.creep,
        assembly: None,
    })
}

fn build_options(args: &cli::BuildArgs) -> quire::Result<BuildOptions> {
    Ok(BuildOptions {
        epub: args.epub,
        pdf: args.pdf,
        kindle: args.kindle,
        kobo: args.kobo,
        formats_from_book: !args.epub && !args.pdf && !args.kindle && !args.kobo,
        pdf_settings: pdf_settings(args.paper, args.open, args.part_open, &args.imposition)?,
        deny_warnings: args.deny_warnings,
        booklets: args.booklet.then_some(None),
        force: args.force,
        images: FetchOptions {
            fetch: if args.fetch_images {
                Fetch::Always
            } else {
                Fetch::AsBook
            },
            update: args.update_images,
            timeout: fetch_timeout()?,
        },
        source_date_epoch: source_date_epoch()?,
        sink: fault_sink()?,
        binary: std::env::current_exe().ok(),
    })
}

/// `QUIRE_FAIL_WRITE_AFTER=n` (the fault tests): the build writes `n` files,
/// then every write fails half-way, as on a full disk.
fn fault_sink() -> quire::Result<Option<std::sync::Arc<dyn quire::render::output::Sink>>> {
    match std::env::var("QUIRE_FAIL_WRITE_AFTER") {
        Err(_) => Ok(None),
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .map(|n| Some(quire::render::output::FailAfter::sink(n)))
            .map_err(|_| Error::Usage(format!("QUIRE_FAIL_WRITE_AFTER='{v}' is not a number"))),
    }
}

/// `SOURCE_DATE_EPOCH`, read once here: the build date of every output
/// (otherwise the book's `date`, never the clock).
fn source_date_epoch() -> quire::Result<Option<i64>> {
    let raw = std::env::var("SOURCE_DATE_EPOCH").ok();
    quire::time::source_date_epoch(raw.as_deref()).map_err(Error::Usage)
}

/// `QUIRE_FETCH_TIMEOUT_MS`: the per-image download budget (default 20 s;
/// tests shorten it).
fn fetch_timeout() -> quire::Result<Duration> {
    match std::env::var("QUIRE_FETCH_TIMEOUT_MS") {
        Err(_) => Ok(quire::parse::remote::DEFAULT_TIMEOUT),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "QUIRE_FETCH_TIMEOUT_MS={v} is not a positive number of milliseconds"
                ))
            }),
    }
}

fn watch(cli: &Cli, args: &cli::BuildArgs) -> quire::Result<()> {
    let opts = build_options(args)?;
    println!(
        "watching {} (Ctrl-C to stop); books go to {}",
        cli.content.display(),
        cli.out.display()
    );
    quire::watch::watch(&cli.content, &cli.out, &opts, None, |round| {
        let mut out = std::io::stdout().lock();
        match round {
            quire::watch::Round::Built {
                report,
                warnings,
                seconds,
                changed,
            } => {
                print_diagnostics(&warnings, cli.quiet);
                let written: Vec<String> = report
                    .outputs
                    .iter()
                    .filter(|o| o.written)
                    .map(|o| o.path.display().to_string())
                    .collect();
                let what = if report.up_to_date || written.is_empty() {
                    "nothing to rewrite".to_string()
                } else {
                    format!(
                        "rewrote {} ({} unchanged)",
                        written.join(", "),
                        report.outputs.len() - written.len()
                    )
                };
                let stages: Vec<String> = report
                    .timings
                    .iter()
                    .map(|t| format!("{} {:.2} s", t.stage, t.seconds))
                    .collect();
                // Watch writes the EPUB and the part PDFs before the book.
                let fresh = report
                    .timings
                    .iter()
                    .find(|t| t.stage == Stage::PartsWritten)
                    .map(|t| format!("; EPUB and part PDFs fresh after {:.2} s", t.seconds))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{}built in {seconds:.2} s{fresh} ({}): {what}",
                    trigger(&changed, &cli.content),
                    stages.join(", ")
                );
            }
            quire::watch::Round::Failed {
                error,
                seconds,
                changed,
            } => {
                if let Error::Content(diags) = &error {
                    print_diagnostics(diags, false);
                }
                let _ = writeln!(
                    out,
                    "{}build failed after {seconds:.2} s: {error}; the last good books are kept, waiting for the next save",
                    trigger(&changed, &cli.content)
                );
            }
        }
        let _ = out.flush();
    })
}

/// "01-basics/02-queues.md changed: " before a rebuild's line.
fn trigger(changed: &[std::path::PathBuf], content: &std::path::Path) -> String {
    let abs = std::path::absolute(content).unwrap_or_else(|_| content.to_path_buf());
    match changed {
        [] => String::new(),
        [one] => format!(
            "{} changed: re",
            one.strip_prefix(&abs).unwrap_or(one).display()
        ),
        many => format!("{} files changed: re", many.len()),
    }
}

fn build(cli: &Cli, args: &cli::BuildArgs) -> quire::Result<()> {
    build_with(cli, &build_options(args)?, args.report.as_deref())
}

fn build_with(
    cli: &Cli,
    opts: &BuildOptions,
    report_path: Option<&std::path::Path>,
) -> quire::Result<()> {
    let progress = Reporter::new(cli.quiet);
    let (report, warnings) = quire::build::build(&cli.content, &cli.out, opts, &progress)?;
    progress.clear();
    print_diagnostics(&warnings, cli.quiet);
    if !cli.quiet {
        for n in &report.notices {
            eprintln!("note: {n}");
        }
    }
    if let Some(path) = report_path {
        let json = serde_json::to_vec_pretty(&report)
            .map_err(|e| Error::Internal(format!("report: {e}")))?;
        quire::render::output::write_atomic(path, &json)?;
    }
    if !cli.quiet && report.up_to_date {
        println!(
            "up to date: nothing changed since the last build of {} outputs (use --force to rebuild)",
            report.outputs.len()
        );
    } else if !cli.quiet {
        for o in &report.outputs {
            println!(
                "wrote {} ({:.1} MB{})",
                o.path.display(),
                o.bytes as f64 / 1_048_576.0,
                o.pages.map(|p| format!(", {p} pages")).unwrap_or_default()
            );
        }
        if let Some(r) = &report.remote_images {
            println!(
                "remote images: {} fetched, {} from the cache, {} shown as links{}",
                r.fetched,
                r.cached,
                r.links,
                if r.lock_written {
                    "; quire.lock updated"
                } else {
                    ""
                }
            );
        }
        let total: f64 = report.timings.iter().map(|t| t.seconds).sum();
        println!("built in {total:.2} s");
    }
    Ok(())
}

/// A spinner on an interactive terminal; plain lines in CI or when piped;
/// nothing with `--quiet`.
struct Reporter {
    bar: Option<ProgressBar>,
    plain: bool,
}

impl Reporter {
    fn new(quiet: bool) -> Self {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        let interactive = std::io::stderr().is_terminal() && !ci && !quiet;
        let bar = interactive.then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Self {
            bar,
            plain: !interactive && !quiet && ci,
        }
    }

    fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn start(&self, what: Stage) {
        if let Some(b) = &self.bar {
            b.set_message(format!("building {what}…"));
        }
    }

    fn finish(&self, what: Stage, secs: f64) {
        match &self.bar {
            Some(b) => b.println(format!("  {what} done in {secs:.2} s")),
            None if self.plain => eprintln!("{what}: {secs:.2} s"),
            None => {}
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], quiet: bool) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        if quiet && d.severity == Severity::Warning {
            continue;
        }
        let _ = writeln!(err, "{d}");
    }
}
