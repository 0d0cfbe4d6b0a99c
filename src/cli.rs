//! Command-line interface (clap). One subcommand, one function.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "quire",
    version,
    about = "Turn a Markdown curriculum into an EPUB and print-ready PDFs",
    long_about = "Quire reads a book from a content folder (book.toml, one NN-slug folder per \
part with a _part.md, one NN-slug.md file per module) into one document model, checks it, \
and renders books from it.\n\nExit codes: 0 ok, 1 content errors, 2 usage errors, 3 I/O or internal errors."
)]
pub struct Cli {
    /// Folder holding book.toml and the part folders.
    #[arg(long, global = true, value_name = "DIR", default_value = "content")]
    pub content: PathBuf,

    /// Folder the books are written to.
    #[arg(long, global = true, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,

    /// Print errors only (no summary, no warnings).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate the whole book, then print a summary.
    ///
    /// Checks front matter, numbering, ids, every internal link and heading
    /// anchor, images and footnotes. Lists every problem as
    /// `file:line:col: error: message` and exits 1 if there is any error;
    /// warnings (a module without tags, an image without alt text) don't fail.
    /// Remote images and links are noted, never fetched.
    Check,
    /// Build the books into the output folder (all formats unless some are named).
    ///
    /// Runs the same checks as `check` first and writes nothing if there is an
    /// error. Each file is written to a temporary name and renamed into place,
    /// so the previous good book stays until the new one is complete.
    /// Set SOURCE_DATE_EPOCH to fix the build date; otherwise the book's `date`
    /// is used, never the clock, so two builds give identical bytes.
    Build(BuildArgs),
    /// Build, then rebuild on every save until interrupted (Ctrl-C).
    ///
    /// Watches the content folder and the publisher font folders. Each round
    /// prints what it rewrote; an edit that breaks the book prints its errors
    /// and keeps the last good outputs, and the next good save recovers.
    /// Fonts and Typst's layout caches stay in memory between rounds, so only
    /// what an edit touched is laid out again.
    Watch(BuildArgs),
    /// Impose one part as a study booklet (`<out>/booklets/NN-slug-booklet.pdf`).
    ///
    /// The part is laid out on half-size pages (A5; half-letter with
    /// `--paper letter`) and imposed two-up on landscape A4 (or Letter) in
    /// saddle-stitch order. Print double-sided, flip on the short edge, fold
    /// each signature and nest them in order: the pages read in order.
    Booklet(BookletArgs),
}

/// Imposition settings for study booklets.
#[derive(Debug, clap::Args)]
pub struct ImpositionArgs {
    /// Most sheets folded together; longer parts are split into several
    /// signatures of about equal size.
    #[arg(long, value_name = "SHEETS", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub signature: u16,

    /// Draw fold marks at the spine (and trim marks when there is creep).
    #[arg(long)]
    pub marks: bool,

    /// Creep compensation per sheet in millimetres (about the paper's
    /// thickness, 0.1 for office paper): inner sheets move towards the fold.
    #[arg(long, value_name = "MM", default_value_t = 0.0)]
    pub creep: f64,
}

#[derive(Debug, clap::Args)]
pub struct BookletArgs {
    /// The part: its number (3), slug (distributed-systems-theory) or folder
    /// name (03-distributed-systems-theory).
    pub part: String,

    /// Sheet: a4 (A5 pages on A4) or letter (half-letter pages on Letter).
    #[arg(long, value_enum, default_value_t = quire::render::pdf::Paper::A4)]
    pub paper: quire::render::pdf::Paper,

    #[command(flatten)]
    pub imposition: ImpositionArgs,

    /// Build even when nothing changed since the last build.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Build the EPUB (`<out>/<book-slug>.epub`).
    #[arg(long)]
    pub epub: bool,

    /// Build the PDFs: the combined book (`<out>/<book-slug>.pdf`) and one PDF
    /// per part (`<out>/pdf/NN-slug.pdf`), the same pages as in the book.
    #[arg(long)]
    pub pdf: bool,

    /// Paper profile for the PDFs (inner/outer margins for duplex printing).
    #[arg(long, value_enum, default_value_t = quire::render::pdf::Paper::A4)]
    pub paper: quire::render::pdf::Paper,

    /// Fail (exit 1, write nothing) if there is any warning: for release builds.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Also impose every part as a study booklet for saddle-stitch printing
    /// (`<out>/booklets/`): A5 pages on A4 sheets, or half-letter on Letter
    /// with `--paper letter`.
    #[arg(long)]
    pub booklet: bool,

    #[command(flatten)]
    pub imposition: ImpositionArgs,

    /// Build even when nothing changed since the last build. Without it, a
    /// build whose inputs (content, fonts, options, Quire binary) and outputs
    /// are unchanged is skipped (`<out>/.cache/build.json`).
    #[arg(long)]
    pub force: bool,

    /// Also write a machine-readable report: outputs with sha256, sizes and
    /// page counts, warnings with file:line, timings.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}
