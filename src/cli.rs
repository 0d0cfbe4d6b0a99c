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
    /// warnings (an image without alt text) don't fail.
    /// Remote images and links are noted, never fetched (images locked in
    /// quire.lock are checked from the cache).
    Check(CheckArgs),
    /// Build the books into the output folder (the formats named, else those
    /// of `[build] formats` in book.toml, else the EPUB and the PDFs).
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
    /// Start a new book: write a small starter book into DIR (default: the
    /// `--content` folder) that builds clean at once.
    ///
    /// Two parts, three modules using every front-matter field, a figure and
    /// links between modules, and a book.toml with a fresh identifier. DIR
    /// must be new or empty: init never overwrites anything.
    Init(InitArgs),
    /// Print a shell completion script.
    ///
    /// bash: `quire completions bash > ~/.local/share/bash-completion/completions/quire`;
    /// zsh: into a folder on `$fpath` as `_quire`; fish:
    /// `quire completions fish > ~/.config/fish/completions/quire.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `quire man > quire.1; man ./quire.1`.
    Man,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The folder to create (default: the --content folder).
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Also lint what is normal but may be an oversight: a module without
    /// tags in a book that uses tags (it is in no tag index).
    #[arg(long)]
    pub strict: bool,
}

/// Paper profiles (the renderer's own type is converted to in main.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PaperArg {
    A4,
    Letter,
    A5,
    #[value(name = "6x9")]
    SixByNine,
    /// A 6-7" e-reader's screen, one-sided (104 x 139 mm)
    Ereader,
    /// A 10-10.3" e-ink tablet's screen, one-sided (157 x 210 mm)
    Tablet,
}

/// Booklet sheets: a booklet is half-size pages imposed two-up on one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SheetArg {
    /// A5 pages on A4 sheets.
    A4,
    /// Half-letter pages on Letter sheets.
    Letter,
}

/// Where modules or parts open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OpenArg {
    /// On a right-hand page (a blank page before it when needed).
    Right,
    /// On the next page, left or right.
    Any,
}

/// Imposition settings for study booklets. Each one not given comes from
/// `[pdf.booklet]` in book.toml, else its default.
#[derive(Debug, clap::Args)]
pub struct ImpositionArgs {
    /// Most sheets folded together (default 8); longer parts are split into
    /// several signatures of about equal size.
    #[arg(long, value_name = "SHEETS",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub signature: Option<u16>,

    /// Draw fold marks at the spine (and trim marks when there is creep).
    #[arg(long, overrides_with = "no_marks")]
    pub marks: bool,

    /// No fold or trim marks, even if book.toml asks for them.
    #[arg(long, overrides_with = "marks")]
    pub no_marks: bool,

    /// Creep compensation per sheet in millimetres (default 0; about the
    /// paper's thickness, 0.1 for office paper): inner sheets move towards
    /// the fold.
    #[arg(long, value_name = "MM")]
    pub creep: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct BookletArgs {
    /// The part: its number (3), slug (distributed-systems-theory) or folder
    /// name (03-distributed-systems-theory).
    pub part: String,

    /// Sheet: a4 (A5 pages on A4, the default) or letter (half-letter pages
    /// on Letter); default: `paper` in book.toml's `[pdf]`.
    #[arg(long, value_enum)]
    pub paper: Option<SheetArg>,

    /// Where modules open: right (on a right-hand page, the default) or any
    /// (on the next page, no blank pages); default: `open` in book.toml.
    #[arg(long, value_enum, value_name = "WHERE")]
    pub open: Option<OpenArg>,

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

    /// Build the Kindle file (`<out>/<book-slug>.kindle.epub`, for Send to
    /// Kindle and KDP): formulas as images, a JPEG cover, no MathML, checked
    /// against Kindle's publishing guidelines.
    #[arg(long)]
    pub kindle: bool,

    /// Build the Kobo file (`<out>/<book-slug>.kepub.epub`): the EPUB with
    /// every sentence in a koboSpan, as Kobo's own books have them.
    #[arg(long)]
    pub kobo: bool,

    /// Paper profile for the PDFs (inner/outer margins for duplex printing);
    /// default: `paper` in book.toml's `[pdf]`, else a4.
    #[arg(long, value_enum)]
    pub paper: Option<PaperArg>,

    /// Where modules open: right (on a right-hand page, a blank page before
    /// it when needed) or any (on the next page); default: `open` in
    /// book.toml's `[pdf]`, else any.
    #[arg(long, value_enum, value_name = "WHERE")]
    pub open: Option<OpenArg>,

    /// Where each part's opening pages, and the indexes, open: right or
    /// any; default: `part-open` in book.toml's `[pdf]`, else right.
    #[arg(long, value_enum, value_name = "WHERE")]
    pub part_open: Option<OpenArg>,

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

    /// Download remote (http/https) images not yet in quire.lock, once, into
    /// .quire/images/ next to book.toml, and record them in quire.lock (as
    /// `images.remote = "fetch"` in book.toml does). Locked images are always
    /// used from the cache; without this nothing touches the network.
    #[arg(long)]
    pub fetch_images: bool,

    /// Download every remote image again and accept bytes that changed since
    /// they were locked, rewriting their quire.lock entries.
    #[arg(long)]
    pub update_images: bool,
}
