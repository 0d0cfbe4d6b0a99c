//! What a long-running process (`quire watch`) keeps between builds: the
//! fonts, the Typst sources of every document (edited in place, so Typst
//! reuses its memoised layout of what an edit did not touch) and the last
//! export of each part PDF.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::world::{self, Fonts};

/// Typst sources kept between compiles, by paper and document, edited in
/// place: Typst reparses only the edited part of a source it has seen, so
/// spans of the unchanged text stay the same and its memoised layout is reused.
#[derive(Default)]
pub(super) struct Sources(Mutex<BTreeMap<String, typst::syntax::Source>>);

impl Sources {
    /// The source at `path`, `text` now.
    pub(super) fn source(&self, paper: &str, path: &str, text: String) -> typst::syntax::Source {
        let mut sources = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match sources.entry(format!("{paper}{path}")) {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                e.get_mut().replace(&text);
                e.get().clone()
            }
            std::collections::btree_map::Entry::Vacant(e) => e
                .insert(typst::syntax::Source::new(world::file_id(path), text))
                .clone(),
        }
    }
}

/// What `quire watch` keeps between builds: the fonts, loaded once, and the
/// sources of every document (with Typst's caches, kept too, only what an
/// edit touched is laid out again).
pub struct Session {
    pub(super) fonts: Arc<Fonts>,
    pub(super) sources: Arc<Sources>,
    /// Per part PDF: a hash of its pages and their PDF, so an unchanged part
    /// is not exported again.
    exported: Mutex<BTreeMap<PathBuf, (u128, Vec<u8>)>>,
}

impl Session {
    /// `fonts`: the book's fonts (see [`super::font_dirs`]), loaded once for
    /// the whole session.
    pub fn new(fonts: Arc<Fonts>) -> Self {
        Self {
            fonts,
            sources: Arc::default(),
            exported: Mutex::default(),
        }
    }

    /// The fonts every compile of this session uses.
    pub fn fonts(&self) -> &Arc<Fonts> {
        &self.fonts
    }

    /// The last export of `path` if its pages hash to `hash`, else `export`'s
    /// bytes, kept for next time.
    pub(super) fn exported(
        &self,
        path: &Path,
        hash: u128,
        export: impl FnOnce() -> crate::Result<Vec<u8>>,
    ) -> crate::Result<Vec<u8>> {
        let lock = || self.exported.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((h, bytes)) = lock().get(path)
            && *h == hash
        {
            return Ok(bytes.clone());
        }
        let bytes = export()?;
        lock().insert(path.to_path_buf(), (hash, bytes.clone()));
        Ok(bytes)
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Session")
    }
}
