//! Writing a build's artifacts: only once everything rendered, each file
//! atomically, through the output sink (tests put in a failing one).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cache::{self, hex};
use super::report::OutputFile;
use crate::error::Result;
use crate::render::output::{Sink, remove_stale_temps};
use crate::render::pdf;

/// One rendered file, in memory until the whole build has succeeded.
pub(super) struct Artifact {
    /// The report's name for what it is (`epub`, `pdf-book`, …).
    pub(super) kind: &'static str,
    pub(super) path: PathBuf,
    pub(super) bytes: Vec<u8>,
    pub(super) pages: Option<u32>,
}

impl Artifact {
    pub(super) fn pdf(kind: &'static str, p: pdf::Pdf) -> Self {
        Artifact {
            kind,
            path: p.path,
            bytes: p.bytes,
            pages: Some(p.pages as u32),
        }
    }
}

/// Writes artifacts (each to a temporary file, then renamed into place).
/// The first write forgets the cache record, which is stored again only once
/// everything is written; each folder an artifact goes to is first cleared of
/// a killed build's leftovers.
pub(super) struct Writer<'a> {
    out: &'a Path,
    started: bool,
    /// Folders already cleared of leftovers.
    cleaned: BTreeSet<PathBuf>,
    pub(super) outputs: Vec<OutputFile>,
    sink: &'a dyn Sink,
}

impl<'a> Writer<'a> {
    pub(super) fn new(out: &'a Path, sink: &'a dyn Sink) -> Self {
        Self {
            out,
            started: false,
            cleaned: BTreeSet::new(),
            outputs: Vec::new(),
            sink,
        }
    }

    pub(super) fn write(&mut self, artifacts: Vec<Artifact>) -> Result<()> {
        if !self.started {
            self.started = true;
            cache::invalidate(self.out);
        }
        // Leftovers of a build that was killed mid-write, in the folders
        // these files go to.
        for a in &artifacts {
            if let Some(dir) = a.path.parent()
                && self.cleaned.insert(dir.to_path_buf())
            {
                remove_stale_temps(dir);
            }
        }
        for p in artifacts {
            // An output that comes out byte-identical keeps its file (and mtime).
            let same = std::fs::read(&p.path).is_ok_and(|old| old == p.bytes);
            if !same {
                self.sink.write(&p.path, &p.bytes)?;
            }
            self.outputs.push(OutputFile {
                kind: p.kind.to_string(),
                written: !same,
                bytes: p.bytes.len() as u64,
                sha256: hex(&Sha256::digest(&p.bytes)),
                pages: p.pages,
                path: p.path,
            });
        }
        Ok(())
    }
}
