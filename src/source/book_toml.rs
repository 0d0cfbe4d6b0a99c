//! `book.toml`: the book's metadata.

use serde::Deserialize;
use toml::Spanned;

use crate::model::print::{Assembly, Formats, Open, Paper, PdfSettings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookToml {
    pub title: String,
    pub subtitle: Option<String>,
    /// A sentence or two about the book (the EPUB's `dc:description`).
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default = "default_language")]
    pub language: String,
    pub identifier: String,
    #[serde(default = "default_version")]
    pub version: String,
    pub copyright: Option<String>,
    pub publisher: Option<String>,
    /// Publication date, `YYYY-MM-DD`: the build date unless SOURCE_DATE_EPOCH is set.
    pub date: Option<String>,
    /// Name of output files; derived from the title when absent.
    pub slug: Option<String>,
    /// `[images]`: how remote images are handled.
    #[serde(default)]
    pub images: ImagesToml,
    /// `[links]`: where links that leave the book go.
    #[serde(default)]
    pub links: LinksToml,
    /// `[pdf]`: print settings a publisher sets once (command-line flags override them).
    #[serde(default)]
    pub pdf: PdfToml,
    /// `[build]`: what a build writes.
    #[serde(default)]
    pub build: BuildToml,
}

/// `[build]` in book.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildToml {
    /// What `quire build` writes when no `--epub`/`--pdf`/`--booklet` is given
    /// (default: epub and pdf).
    pub formats: Option<Vec<Format>>,
}

/// A name in `[build] formats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Epub,
    Pdf,
    Booklets,
    Kindle,
    Kobo,
}

impl BuildToml {
    pub fn formats(&self) -> Option<Formats> {
        self.formats.as_ref().map(|list| Formats {
            epub: list.contains(&Format::Epub),
            pdf: list.contains(&Format::Pdf),
            booklets: list.contains(&Format::Booklets),
            kindle: list.contains(&Format::Kindle),
            kobo: list.contains(&Format::Kobo),
        })
    }
}

/// `[links]` in book.toml.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LinksToml {
    /// The URL of the content folder online (e.g. the repository's `blob/main/src/`):
    /// a relative link to a file that is not part of the book points there.
    pub base_url: Option<String>,
    /// A link to a heading that a module does not have: an error (the default),
    /// or a warning and a link to the module's start (books whose translations
    /// kept stale anchors, as GitHub shows them).
    #[serde(default)]
    pub missing_anchors: MissingAnchors,
    /// A link to a Markdown file that does not exist: an error (the default),
    /// or a warning and its text without a link (mdBook books, whose links to
    /// other books of their site, `../../reference/x.md`, mdBook writes as they are).
    #[serde(default)]
    pub missing_files: MissingFiles,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingFiles {
    #[default]
    Error,
    Warn,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingAnchors {
    #[default]
    Error,
    Warn,
}

/// `[images]` in book.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesToml {
    #[serde(default)]
    pub remote: RemoteImages,
}

/// `images.remote`: what happens to `http(s)` image URLs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteImages {
    /// Never fetched: a captioned link (unless `quire.lock` already has them cached).
    #[default]
    Link,
    /// Fetched once into `.quire/images/` and locked in `quire.lock`.
    Fetch,
}

fn default_language() -> String {
    "en".into()
}

fn default_version() -> String {
    "1.0.0".into()
}

/// `[pdf]` in book.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PdfToml {
    /// a4 | letter | a5 | 6x9 | ereader | tablet, as `--paper`.
    pub paper: Option<Paper>,
    /// Where modules open: right | any (default).
    pub open: Option<Open>,
    /// Where part openings and the indexes open: right (default) | any.
    pub part_open: Option<Open>,
    /// whole | streamed | auto (default): see `Assembly`.
    pub assembly: Option<Assembly>,
    /// `[pdf.booklet]`: imposition of study booklets.
    #[serde(default)]
    pub booklet: BookletToml,
}

/// `[pdf.booklet]` in book.toml, as `--signature`, `--marks`, `--creep`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookletToml {
    pub signature: Option<Spanned<i64>>,
    pub marks: Option<bool>,
    pub creep: Option<Spanned<f64>>,
}

/// Booklet limits, the same as the command line's.
pub const SIGNATURE_SHEETS: std::ops::RangeInclusive<i64> = 1..=64;
pub const CREEP_MM: std::ops::RangeInclusive<f64> = 0.0..=5.0;

impl PdfToml {
    /// The settings, or the byte range and message of the first value out of range.
    pub fn settings(&self) -> Result<PdfSettings, (std::ops::Range<usize>, String)> {
        let b = &self.booklet;
        let signature = match &b.signature {
            Some(s) if !SIGNATURE_SHEETS.contains(s.get_ref()) => {
                return Err((
                    s.span(),
                    format!(
                        "pdf.booklet.signature = {} is out of range: give 1 to 64 sheets",
                        s.get_ref()
                    ),
                ));
            }
            Some(s) => u16::try_from(*s.get_ref()).ok(),
            None => None,
        };
        let creep = match &b.creep {
            Some(c) if !CREEP_MM.contains(c.get_ref()) => {
                return Err((
                    c.span(),
                    format!(
                        "pdf.booklet.creep = {} is out of range: give millimetres per sheet, 0 to 5 (paper is about 0.1)",
                        c.get_ref()
                    ),
                ));
            }
            Some(c) => Some(*c.get_ref()),
            None => None,
        };
        Ok(PdfSettings {
            paper: self.paper,
            open: self.open,
            part_open: self.part_open,
            assembly: self.assembly,
            signature,
            marks: b.marks,
            creep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(toml_text: &str) -> Result<PdfToml, toml::de::Error> {
        #[derive(Deserialize)]
        struct Only {
            pdf: PdfToml,
        }
        toml::from_str::<Only>(toml_text).map(|o| o.pdf)
    }

    #[test]
    fn every_pdf_setting_reads() {
        let t = pdf(
            "[pdf]\npaper = \"6x9\"\nopen = \"any\"\npart-open = \"right\"\n\
             [pdf.booklet]\nsignature = 4\nmarks = true\ncreep = 0.1\n",
        )
        .expect("valid");
        let s = t.settings().expect("in range");
        assert_eq!(s.paper, Some(Paper::SixByNine));
        assert_eq!(s.open, Some(Open::Any));
        assert_eq!(s.part_open, Some(Open::Right));
        let booklet = (s.signature, s.marks, s.creep);
        assert_eq!(booklet, (Some(4), Some(true), Some(0.1)));
    }

    #[test]
    fn build_formats_read_and_unknown_ones_are_refused() {
        #[derive(Deserialize)]
        struct Only {
            build: BuildToml,
        }
        let b: Only =
            toml::from_str("[build]\nformats = [\"epub\", \"booklets\"]\n").expect("valid");
        let f = b.build.formats().expect("given");
        assert_eq!((f.epub, f.pdf, f.booklets), (true, false, true));
        let e = toml::from_str::<Only>("[build]\nformats = [\"mobi\"]\n")
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("expected one of `epub`, `pdf`, `booklets`"),
            "{e}"
        );
        let e = toml::from_str::<Only>("[build]\nformat = [\"pdf\"]\n")
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("unknown field `format`, expected `formats`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_values_and_ranges_are_refused() {
        assert!(pdf("[pdf]\nopen = \"left\"\n").is_err());
        assert!(pdf("[pdf]\npaper = \"half-letter\"\n").is_err());
        assert!(pdf("[pdf]\nopens = \"any\"\n").is_err());
        assert!(pdf("[pdf.booklet]\nfold = 1\n").is_err());
        let far = pdf("[pdf.booklet]\nsignature = 65\n").expect("parses");
        let (span, message) = far.settings().expect_err("out of range");
        assert!(message.contains("signature = 65"), "{message}");
        assert_eq!(span.len(), 2);
        let thick = pdf("[pdf.booklet]\ncreep = 7.5\n").expect("parses");
        assert!(thick.settings().is_err());
    }
}
