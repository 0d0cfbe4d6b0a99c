//! `book.toml`: the book's metadata.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookToml {
    pub title: String,
    pub subtitle: Option<String>,
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
}

fn default_language() -> String {
    "en".into()
}

fn default_version() -> String {
    "1.0.0".into()
}
