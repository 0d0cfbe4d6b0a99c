//! Renderers: they read the finished model and write books. They never parse
//! Markdown and never reach back into earlier stages.

pub mod booklet;
pub mod epub;
pub mod layouts;
pub mod output;
pub mod pagelist;
pub mod pdf;
pub mod readers;
/// Calendar arithmetic lives outside the renderers (the loader checks dates too).
pub use crate::time;

use crate::model::Book;

/// Facts about this build that renderers stamp into the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// Seconds since 1970: SOURCE_DATE_EPOCH if set, else the book's `date`,
    /// else a fixed epoch — never the clock, so builds are reproducible.
    pub epoch: i64,
    pub quire_version: &'static str,
}

impl BuildInfo {
    /// `source_date_epoch`: SOURCE_DATE_EPOCH as the caller read it (see
    /// `time::source_date_epoch`).
    pub fn new(book: &Book, source_date_epoch: Option<i64>) -> Self {
        let epoch = source_date_epoch.unwrap_or_else(|| {
            book.meta
                .date
                .as_deref()
                .and_then(time::parse_date)
                .unwrap_or(time::DEFAULT_EPOCH)
        });
        Self {
            epoch,
            quire_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        time::format_date(self.epoch)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn datetime(&self) -> String {
        time::format_datetime(self.epoch)
    }
}
