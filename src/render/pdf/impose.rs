//! Imposition: a finished part PDF placed page by page, as vector graphics,
//! onto booklet sheets in saddle-stitch order (the order and the marks are
//! `render::booklet`'s); and standalone markup typeset for tests.

use typst::foundations::Datetime;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use super::diagnostics::typst_error;
use super::world::{Fonts, ImageStore, QuireWorld, main_source};
use crate::error::Result;
use crate::render::booklet::{self, BookletOptions, Sheet};

/// Imposes a finished PDF of `pages` half-size pages onto `sheet`s: (PDF, sides).
pub fn impose(
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
) -> Result<(Vec<u8>, usize)> {
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let options = PdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..PdfOptions::default()
    };
    impose_with(&Fonts::load(&[]), pdf, pages, sheet, opts, options, epoch)
}

pub(super) fn impose_with(
    fonts: &Fonts,
    pdf: Vec<u8>,
    pages: usize,
    sheet: Sheet,
    opts: &BookletOptions,
    options: PdfOptions,
    today: Datetime,
) -> Result<(Vec<u8>, usize)> {
    let images = ImageStore::empty();
    let world = QuireWorld::new(
        fonts,
        &images,
        main_source(booklet::markup(pages, sheet, opts)),
        &[],
        today,
    )
    .with_file("/part.pdf", pdf);
    let imposed = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("imposition", &e))?;
    // A print artefact: pages of another PDF, no structure of its own to tag.
    let options = PdfOptions {
        tagged: false,
        ..options
    };
    let bytes =
        typst_pdf::pdf(&imposed, &options).map_err(|e| typst_error("booklet export", &e))?;
    Ok((super::export::pack(&bytes)?, imposed.pages().len()))
}

/// Typesets standalone Typst markup with Quire's fonts (test documents,
/// numbered pages for imposition checks): (PDF, pages).
pub fn typeset_markup(markup: &str) -> Result<(Vec<u8>, usize)> {
    let fonts = Fonts::load(&[]);
    let images = ImageStore::empty();
    let epoch = Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let world = QuireWorld::new(&fonts, &images, main_source(markup.to_string()), &[], epoch);
    let doc = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| typst_error("typesetting", &e))?;
    let options = PdfOptions {
        timestamp: Some(Timestamp::new_utc(epoch)),
        ..PdfOptions::default()
    };
    let bytes = typst_pdf::pdf(&doc, &options).map_err(|e| typst_error("pdf export", &e))?;
    Ok((bytes, doc.pages().len()))
}
