//! `quire watch`: build, then rebuild whenever a file under the content folder
//! (or a publisher font folder) changes. One process for the whole session,
//! so fonts stay loaded and Typst's memoised layout is reused: after an edit
//! only what the edit touched is laid out again. A broken edit reports its
//! errors and leaves the last good outputs in place; the next save recovers.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher};

use std::sync::Arc;

use crate::build::{BuildOptions, BuildReport, Silent, rebuild};
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::render::pdf::{Fonts, Session};

/// Editors write a file in several steps; wait this long for quiet.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// What one round of the watch loop did.
pub enum Round {
    Built {
        report: BuildReport,
        warnings: Vec<Diagnostic>,
        seconds: f64,
        /// Paths that triggered this round (empty for the first build).
        changed: Vec<PathBuf>,
    },
    Failed {
        error: Error,
        seconds: f64,
        changed: Vec<PathBuf>,
    },
}

/// Builds, then rebuilds on every change until the watcher goes away.
/// `rounds` is told about each build; `max_rounds` ends the loop (tests).
pub fn watch(
    content: &Path,
    out: &Path,
    opts: &BuildOptions,
    max_rounds: Option<usize>,
    mut rounds: impl FnMut(Round),
) -> Result<()> {
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && matches!(
                event.kind,
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
            )
        {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })
    .map_err(|e| Error::Internal(format!("cannot watch files: {e}")))?;
    // Absolute, so event paths compare with the output folder.
    let mut dirs = vec![std::path::absolute(content).unwrap_or_else(|_| content.to_path_buf())];
    dirs.extend(
        crate::render::pdf::font_dirs(content)
            .into_iter()
            .filter(|d| d.is_dir() && !d.starts_with(content)),
    );
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .map_err(|e| Error::Internal(format!("cannot watch {}: {e}", dir.display())))?;
    }
    let out_abs = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let font_dirs: Vec<PathBuf> = crate::render::pdf::font_dirs(content)
        .into_iter()
        .map(|d| std::path::absolute(&d).unwrap_or(d))
        .collect();
    let new_session = || {
        Session::new(Arc::new(Fonts::load(&crate::render::pdf::font_dirs(
            content,
        ))))
    };
    let mut session = new_session();
    let mut changed: Vec<PathBuf> = Vec::new();
    let mut done = 0;
    loop {
        let t = Instant::now();
        // A new or changed publisher font: load the fonts again.
        if changed
            .iter()
            .any(|p| font_dirs.iter().any(|d| p.starts_with(d)))
        {
            session = new_session();
        }
        // The first round always typesets (even when the outputs are up to
        // date): the edits that follow are then laid out incrementally.
        let this = BuildOptions {
            force: opts.force || done == 0,
            ..opts.clone()
        };
        let round = match rebuild(content, out, &this, &Silent, &session) {
            Ok((report, warnings)) => Round::Built {
                report,
                warnings,
                seconds: t.elapsed().as_secs_f64(),
                changed: std::mem::take(&mut changed),
            },
            Err(error) => Round::Failed {
                error,
                seconds: t.elapsed().as_secs_f64(),
                changed: std::mem::take(&mut changed),
            },
        };
        rounds(round);
        // Typst's caches: keep what recent builds used, drop the rest.
        comemo::evict(10);
        done += 1;
        if max_rounds.is_some_and(|m| done >= m) {
            return Ok(());
        }
        // Block until something relevant changes, then until things are quiet.
        loop {
            match rx.recv() {
                Ok(p) if relevant(&p, &out_abs) => {
                    changed.push(p);
                    break;
                }
                Ok(_) => continue,
                Err(_) => return Ok(()),
            }
        }
        loop {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(p) if relevant(&p, &out_abs) => {
                    if !changed.contains(&p) {
                        changed.push(p);
                    }
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }
}

/// Editor swap and backup files, and our own outputs, never trigger a build.
fn relevant(path: &Path, out: &Path) -> bool {
    // The fetched-image cache (.quire/) is written by builds themselves.
    if path.starts_with(out) || path.components().any(|c| c.as_os_str() == ".quire") {
        return false;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    !(name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_files_and_outputs_are_ignored() {
        let out = Path::new("/book/output");
        assert!(relevant(Path::new("/book/content/01-a/01-m.md"), out));
        assert!(!relevant(Path::new("/book/content/01-a/.01-m.md.swp"), out));
        assert!(!relevant(Path::new("/book/content/01-a/01-m.md~"), out));
        assert!(!relevant(Path::new("/book/output/book.epub"), out));
        assert!(!relevant(
            Path::new("/book/content/.quire/images/ab.png"),
            out
        ));
    }
}
