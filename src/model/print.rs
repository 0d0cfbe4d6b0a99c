//! Print settings a book states once (`[pdf]` in `book.toml`) and a command
//! line may override: each is optional, an unset one takes its default.

use serde::{Deserialize, Serialize};

/// Paper profiles; inner and outer margins differ for duplex printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paper {
    #[default]
    A4,
    Letter,
    A5,
    #[serde(rename = "6x9")]
    SixByNine,
    /// A 6-7 inch e-reader's screen (Kindle Paperwhite, Kobo Clara): one
    /// page a screen, one-sided.
    Ereader,
    /// A 10-10.3 inch e-ink tablet's screen (reMarkable 2, Kindle Scribe,
    /// Boox Note Air): one page a screen, one-sided.
    Tablet,
    /// 5.5 × 8.5 in: the page of a booklet printed on Letter sheets (chosen
    /// by Quire, never by a book).
    #[serde(skip_deserializing)]
    HalfLetter,
}

/// Where a module (or a part) opens in print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Open {
    /// On a right-hand page: a blank left-hand page comes first when needed.
    Right,
    /// On the next page, left or right: no blank page.
    Any,
}

impl Open {
    /// Modules run on: most are a page or two long, and opening each on a
    /// right-hand page left 44 % of the shipped book blank.
    pub const MODULES: Open = Open::Any;
    /// Parts (and the indexes) open on a right-hand page, where a reader
    /// looks for a new division: a dozen blank pages at most.
    pub const PARTS: Open = Open::Right;
}

/// How the PDFs are put together (`[pdf] assembly` in book.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assembly {
    /// `whole` up to [`Assembly::STREAMED_FROM`] words, `streamed` beyond.
    #[default]
    Auto,
    /// The whole book laid out at once, each PDF written from it: memory
    /// grows with the book (about 0.75 GB per 1,000 pages).
    Whole,
    /// Document by document, each module exported once laid out and its
    /// pages freed, the PDFs merged from those: memory bounded by a few
    /// modules, not the book. The same pages, text, links, bookmarks and
    /// tags; the file is laid out differently (each module's fonts apart).
    Streamed,
}

impl Assembly {
    /// Where `auto` streams: about three times the shipped curriculum,
    /// past which the whole layout of a book passes 3 GB.
    pub const STREAMED_FROM: usize = 2_000_000;

    /// Whether a book of `words` words is streamed.
    pub fn streams(self, words: usize) -> bool {
        match self {
            Assembly::Auto => words >= Self::STREAMED_FROM,
            Assembly::Whole => false,
            Assembly::Streamed => true,
        }
    }
}

/// What `quire build` writes when the command line names no format
/// (`[build] formats` in book.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub epub: bool,
    /// The book PDF and the part PDFs.
    pub pdf: bool,
    /// Every part imposed as a study booklet.
    pub booklets: bool,
    /// The Kindle file (`<book>.kindle.epub`).
    pub kindle: bool,
    /// The Kobo file (`<book>.kepub.epub`).
    pub kobo: bool,
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            epub: true,
            pdf: true,
            booklets: false,
            kindle: false,
            kobo: false,
        }
    }
}

/// PDF settings as a book or a command line gives them; `None` is "not said".
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PdfSettings {
    pub paper: Option<Paper>,
    /// Where each module opens.
    pub open: Option<Open>,
    /// Where each part's opening pages, and the indexes, open.
    pub part_open: Option<Open>,
    /// Booklets: most sheets folded together.
    pub signature: Option<u16>,
    /// Booklets: fold (and trim) marks.
    pub marks: Option<bool>,
    /// Booklets: creep compensation per sheet, millimetres.
    pub creep: Option<f64>,
    /// How the PDFs are put together.
    pub assembly: Option<Assembly>,
}

impl PdfSettings {
    /// These settings, each unset one taken from `fallback` (a command line
    /// over a book's `[pdf]` table).
    pub fn or(self, fallback: PdfSettings) -> PdfSettings {
        PdfSettings {
            paper: self.paper.or(fallback.paper),
            open: self.open.or(fallback.open),
            part_open: self.part_open.or(fallback.part_open),
            signature: self.signature.or(fallback.signature),
            marks: self.marks.or(fallback.marks),
            creep: self.creep.or(fallback.creep),
            assembly: self.assembly.or(fallback.assembly),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_and_the_book_fills_in() {
        let cli = PdfSettings {
            open: Some(Open::Any),
            marks: Some(false),
            ..PdfSettings::default()
        };
        let book = PdfSettings {
            paper: Some(Paper::Letter),
            open: Some(Open::Right),
            marks: Some(true),
            ..PdfSettings::default()
        };
        let both = cli.or(book);
        assert_eq!(both.open, Some(Open::Any));
        assert_eq!(both.marks, Some(false));
        assert_eq!(both.paper, Some(Paper::Letter));
        assert_eq!(both.part_open, None);
    }
}
