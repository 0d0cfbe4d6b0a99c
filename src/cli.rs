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
}
