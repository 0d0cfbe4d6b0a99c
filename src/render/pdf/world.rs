//! The Typst `World` Quire compiles in: one generated main file, the layout
//! template, the book's images, and fonts that ship with Quire (plus a
//! publisher's `fonts/`). Never system fonts, never the network.

use std::path::PathBuf;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::model::Book;

/// Math set in the same design as the Libertinus Serif text (OFL, licence
/// beside it; typst-assets ships only New Computer Modern Math).
const LIBERTINUS_MATH: &[u8] = include_bytes!("../../../fonts/LibertinusMath-Regular.otf");

/// Fonts, loaded once per process run and shared by every compile.
pub struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl Fonts {
    /// Bundled fonts plus `.ttf`/`.otf` files in the given folders (sorted, so
    /// the font order — and therefore the output — is the same everywhere).
    pub fn load(extra_dirs: &[PathBuf]) -> Self {
        let mut fonts: Vec<Font> = typst_assets::fonts()
            .chain([LIBERTINUS_MATH])
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        for dir in extra_dirs {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                        matches!(
                            e.to_ascii_lowercase().as_str(),
                            "ttf" | "otf" | "ttc" | "otc"
                        )
                    })
                })
                .collect();
            paths.sort();
            for p in paths {
                // The shipped book's fonts/ is where the bundled math font lives.
                if let Ok(data) = std::fs::read(&p)
                    && data != LIBERTINUS_MATH
                {
                    fonts.extend(Font::iter(Bytes::new(data)));
                }
            }
        }
        Self {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    }

    /// Whether any font has a glyph for `c` (Typst falls back through all of them).
    pub fn covers(&self, c: char) -> bool {
        self.fonts
            .iter()
            .any(|f| f.info().coverage.contains(c as u32))
    }
}

fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(Library::builder().build()))
}

/// Image bytes by model index, read at most once per build.
pub struct ImageStore {
    paths: Vec<PathBuf>,
    cache: Vec<OnceLock<Option<Bytes>>>,
}

impl ImageStore {
    pub fn new(book: &Book) -> Self {
        Self {
            paths: book.images.iter().map(|i| i.path.clone()).collect(),
            cache: book.images.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// No images (imposition and test documents).
    pub fn empty() -> Self {
        Self {
            paths: Vec::new(),
            cache: Vec::new(),
        }
    }

    fn get(&self, i: usize) -> Option<Bytes> {
        self.cache
            .get(i)?
            .get_or_init(|| std::fs::read(&self.paths[i]).ok().map(Bytes::new))
            .clone()
    }
}

/// A standalone document (imposition, test markup) as Typst's main file.
pub fn main_source(text: String) -> Source {
    doc_source("main", text)
}

/// One document of the book (see `markup::Doc::key`) as a main file.
pub fn doc_source(key: &str, text: String) -> Source {
    Source::new(file_id(&format!("/{key}.typ")), text)
}

pub fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path)
        .unwrap_or_else(|_| VirtualPath::new("/invalid").expect("static path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

pub struct QuireWorld<'a> {
    fonts: &'a Fonts,
    images: &'a ImageStore,
    main: Source,
    /// Other Typst sources (the layout template), by path.
    sources: Vec<(FileId, Source)>,
    /// Binary files by path (a part PDF being imposed).
    files: Vec<(FileId, Bytes)>,
    /// The file holding the generated markup (diagnostics map back from it).
    generated: FileId,
    today: Datetime,
}

impl<'a> QuireWorld<'a> {
    pub fn new(
        fonts: &'a Fonts,
        images: &'a ImageStore,
        main: Source,
        templates: &[(&str, String)],
        today: Datetime,
    ) -> Self {
        let sources = templates
            .iter()
            .map(|(path, text)| {
                let id = file_id(path);
                (id, Source::new(id, text.clone()))
            })
            .collect();
        Self {
            fonts,
            images,
            generated: main.id(),
            main,
            sources,
            files: Vec::new(),
            today,
        }
    }

    /// Serves the generated markup as a source of its own (the main file
    /// includes it).
    pub fn with_generated(mut self, source: Source) -> Self {
        self.generated = source.id();
        self.sources.push((source.id(), source));
        self
    }

    pub fn generated_id(&self) -> FileId {
        self.generated
    }

    /// Serves `bytes` at `path` (absolute, e.g. `/part.pdf`).
    pub fn with_file(mut self, path: &str, bytes: Vec<u8>) -> Self {
        self.files.push((file_id(path), Bytes::new(bytes)));
        self
    }
}

impl World for QuireWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        self.sources
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some((_, s)) = self.sources.iter().find(|(i, _)| *i == id) {
            return Ok(Bytes::from_string(s.text().to_string()));
        }
        if let Some((_, b)) = self.files.iter().find(|(i, _)| *i == id) {
            return Ok(b.clone());
        }
        let path = id.vpath().get_with_slash();
        let not_found = || FileError::NotFound(PathBuf::from(path));
        // Images are served as /img/<index>.<ext>.
        let index = path
            .strip_prefix("/img/")
            .and_then(|rest| rest.split('.').next())
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(not_found)?;
        self.images.get(index).ok_or_else(not_found)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
