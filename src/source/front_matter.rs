//! Splitting `---` YAML front matter from the Markdown body, and reading it.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;

use crate::model::Pos;

/// A file split into its front matter and body, with the line each starts on.
#[derive(Debug, Clone)]
pub struct Split<'a> {
    pub yaml: &'a str,
    /// Line of the first YAML line (2 when the file starts with `---`).
    pub yaml_line: u32,
    pub body: &'a str,
    /// Line the body starts on.
    pub body_line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    Missing,
    Unterminated,
}

pub fn split(text: &str) -> Result<Split<'_>, SplitError> {
    let first_end = text.find('\n').unwrap_or(text.len());
    if text[..first_end].trim_end() != "---" {
        return Err(SplitError::Missing);
    }
    let yaml_start = (first_end + 1).min(text.len());
    let mut offset = yaml_start;
    for (line, l) in (2u32..).zip(text[yaml_start..].split_inclusive('\n')) {
        let trimmed = l.trim_end();
        if trimmed == "---" || trimmed == "..." {
            let body_start = offset + l.len();
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                yaml_line: 2,
                body: &text[body_start..],
                body_line: line + 1,
            });
        }
        offset += l.len();
    }
    Err(SplitError::Unterminated)
}

/// A YAML error as a message and a position in the file.
#[derive(Debug)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Deserialises the front matter; positions are translated to file lines.
pub fn parse<T: DeserializeOwned>(split: &Split<'_>) -> Result<T, YamlError> {
    if split.yaml.trim().is_empty() {
        // An empty block is an empty mapping, so missing fields are reported one by one.
        return serde_saphyr::from_str("{}").map_err(|e| YamlError {
            pos: Pos { line: 1, col: 1 },
            message: plain_message(&e),
        });
    }
    serde_saphyr::from_str(split.yaml).map_err(|e| {
        let pos = e.location().map(|l| file_pos(split, l)).unwrap_or(Pos {
            line: split.yaml_line,
            col: 1,
        });
        YamlError {
            pos,
            message: plain_message(&e),
        }
    })
}

pub fn file_pos(split: &Split<'_>, l: serde_saphyr::Location) -> Pos {
    Pos {
        line: split.yaml_line + (l.line().max(1) as u32) - 1,
        col: l.column().max(1) as u32,
    }
}

/// serde-saphyr renders a source snippet into its Display; we want one line.
fn plain_message(e: &serde_saphyr::Error) -> String {
    let rendered = e.without_snippet().to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    // Drop a trailing " at line X, column Y": our own prefix already says where.
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

/// Front matter of a module. Unknown keys (description, draft, createdAt, ...) are ignored.
#[derive(Debug, Deserialize)]
pub struct ModuleFront {
    pub title: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
    pub difficulty: Option<Spanned<String>>,
    pub minutes: Option<Spanned<u32>>,
    pub tags: Option<Vec<Spanned<String>>>,
    /// Overrides the id derived from the file name (to resolve clashes across parts).
    pub id: Option<Spanned<String>>,
}

/// Front matter of `_part.md`.
#[derive(Debug, Default, Deserialize)]
pub struct PartFront {
    pub title: Option<Spanned<String>>,
    pub summary: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_counts_lines() {
        let t = "---\ntitle: x\nminutes: 3\n---\n\nBody\n";
        let s = split(t).unwrap();
        assert_eq!(s.yaml, "title: x\nminutes: 3\n");
        assert_eq!(s.body, "\nBody\n");
        assert_eq!(s.body_line, 5);
    }

    #[test]
    fn missing_and_unterminated() {
        assert_eq!(split("# hi").unwrap_err(), SplitError::Missing);
        assert_eq!(split("").unwrap_err(), SplitError::Missing);
        assert_eq!(
            split("---\ntitle: x\n").unwrap_err(),
            SplitError::Unterminated
        );
    }

    #[test]
    fn wrong_type_has_a_line() {
        let t = "---\ntitle: x\nminutes: \"ten\"\n---\n";
        let s = split(t).unwrap();
        let err = parse::<ModuleFront>(&s).unwrap_err();
        assert_eq!(err.pos.line, 3, "{}", err.message);
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let t = "---\ntitle: x\ndraft: true\ncreatedAt: 2024-01-01\n---\n";
        let s = split(t).unwrap();
        let f: ModuleFront = parse(&s).unwrap();
        assert_eq!(f.title.unwrap().value, "x");
    }
}
