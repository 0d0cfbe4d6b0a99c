//! What a build did: the machine-readable report (`--report FILE`), also
//! what the cache keeps of the last build.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One file a build wrote (or found already holding its bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputFile {
    pub kind: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// False when the file already held exactly these bytes (left untouched).
    #[serde(default)]
    pub written: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub stage: Stage,
    pub seconds: f64,
}

/// A stage of a build, as the report and the progress lines name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Nothing changed since the last build.
    #[serde(rename = "up to date")]
    UpToDate,
    #[serde(rename = "load")]
    Load,
    /// The EPUB and the other reader files.
    #[serde(rename = "epub")]
    Epub,
    #[serde(rename = "pdf")]
    Pdf,
    #[serde(rename = "pdf typeset")]
    PdfTypeset,
    /// Watch: the EPUB and the part PDFs are written (seconds since the build
    /// started), the book PDF follows.
    #[serde(rename = "parts written")]
    PartsWritten,
    #[serde(rename = "pdf export")]
    PdfExport,
    #[serde(rename = "booklets")]
    Booklets,
    #[serde(rename = "write")]
    Write,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::UpToDate => "up to date",
            Stage::Load => "load",
            Stage::Epub => "epub",
            Stage::Pdf => "pdf",
            Stage::PdfTypeset => "pdf typeset",
            Stage::PartsWritten => "parts written",
            Stage::PdfExport => "pdf export",
            Stage::Booklets => "booklets",
            Stage::Write => "write",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WarningEntry {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    pub message: String,
}

/// What a build did: the machine-readable report (`--report FILE`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildReport {
    pub quire_version: String,
    /// Nothing changed since the last build: no file was rendered or written.
    #[serde(default)]
    pub up_to_date: bool,
    pub book: String,
    pub build_date: String,
    pub outputs: Vec<OutputFile>,
    pub warnings: Vec<WarningEntry>,
    pub timings: Vec<Timing>,
    /// What became of the remote images, when any came from quire.lock or
    /// fetching was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_images: Option<crate::parse::remote::Report>,
    /// What the build chose to leave out, and why (not warnings: nothing is
    /// wrong with the book), e.g. page numbers in an EPUB built alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}
