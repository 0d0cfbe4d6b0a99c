//! A laid-out document as PDF bytes (typst-pdf): tagged, and claiming
//! PDF/UA-1 when the content meets it.

use typst::foundations::{Datetime, Smart};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::Job;
use super::diagnostics::typst_error;
use crate::error::{Error, Result};
use crate::model::Book;
use crate::render::BuildInfo;

mod merge;
mod pack;
pub(super) use merge::{Link, Pieces, merge};
pub(super) use pack::pack;

/// A laid-out document as PDF bytes: tagged, PDF/UA-1 when it qualifies,
/// its objects packed into object streams.
pub(super) fn pdf(job: &Job, doc: &PagedDocument) -> Result<Vec<u8>> {
    pack(&typst_pdf(job, doc)?)
}

/// A laid-out document as typst-pdf writes it (not packed yet).
pub(super) fn typst_pdf(job: &Job, doc: &PagedDocument) -> Result<Vec<u8>> {
    Ok(claiming(options(job)?, doc, true)?.0)
}

/// A laid-out document as typst-pdf writes it, claiming PDF/UA-1 if `ua`
/// and the content meets it; and whether it does.
pub(super) fn claiming(
    options: PdfOptions,
    doc: &PagedDocument,
    ua: bool,
) -> Result<(Vec<u8>, bool)> {
    let mut options = options;
    if ua {
        options.standards = standards(&[PdfStandard::Ua_1])?;
        // PDF/UA-1 is strict; if some content can't meet it, a tagged PDF
        // without the claim is still accessible and honest.
        if let Ok(b) = typst_pdf::pdf(doc, &options) {
            return Ok((b, true));
        }
    }
    options.standards = standards(&[])?;
    let bytes = typst_pdf::pdf(doc, &options).map_err(|e| typst_error("pdf export", &e))?;
    Ok((bytes, false))
}

/// Export settings shared by every PDF of a book: identifier, creator,
/// fixed date.
pub(super) fn options(job: &Job) -> Result<PdfOptions> {
    options_of(job.book, job.info)
}

/// [`options`] of a book and build.
pub(super) fn options_of(book: &Book, info: &BuildInfo) -> Result<PdfOptions> {
    let meta = &book.meta;
    Ok(PdfOptions {
        ident: Smart::Custom(format!("{}#{}", meta.identifier, meta.slug)),
        creator: Smart::Custom(Some(format!("Quire {}", info.quire_version))),
        timestamp: Some(Timestamp::new_utc(today(info))),
        standards: standards(&[])?,
        ..PdfOptions::default()
    })
}

/// The build date as Typst's (the world's `today`, the PDF's timestamp).
pub(super) fn today(info: &BuildInfo) -> Datetime {
    let (y, m, d, h, mi, s) = crate::time::parts(info.epoch);
    Datetime::from_ymd_hms(y as i32, m as u8, d as u8, h as u8, mi as u8, s as u8)
        .unwrap_or_else(|| Datetime::from_ymd(2000, 1, 1).expect("valid date"))
}

fn standards(list: &[PdfStandard]) -> Result<PdfStandards> {
    PdfStandards::new(list).map_err(|e| Error::Internal(format!("pdf standards: {}", e.message())))
}
