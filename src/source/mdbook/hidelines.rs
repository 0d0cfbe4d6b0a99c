//! mdBook's hidden code lines. In a ` ```rust ` block a line `# …` (or a lone
//! `#`) is hidden (the reader of the web page can unfold it; a printed book
//! cannot), and `##…` is an escaped `#…`. Other languages hide lines starting
//! with the prefix from `[output.html.code.hidelines]` or the block's own
//! `hidelines=<prefix>`. Quire drops hidden lines, as the page shows them.

use std::collections::BTreeMap;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

/// `body` with hidden lines removed from its fenced code blocks.
pub fn strip(body: &str, prefixes: &BTreeMap<String, String>) -> String {
    // (range in `body`, replacement), in order; applied back to front.
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut rule: Option<Rule> = None;
    for (ev, range) in Parser::new_ext(body, crate::parse::markdown::options()).into_offset_iter() {
        match ev {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                rule = rule_for(&info, prefixes);
            }
            Event::End(TagEnd::CodeBlock) => rule = None,
            Event::Text(_) if rule.is_some() => {
                let Some(rule) = &rule else { continue };
                let src = &body[range.clone()];
                let mut at = range.start;
                for line in src.split_inclusive('\n') {
                    if let Some(new) = rule.apply(line) {
                        let mut from = at;
                        if new.is_empty() {
                            // A dropped line goes with its container indent (list, quote).
                            let line_start = body[..at].rfind('\n').map_or(0, |i| i + 1);
                            if body[line_start..at]
                                .chars()
                                .all(|c| c == ' ' || c == '\t' || c == '>')
                            {
                                from = line_start;
                            }
                        }
                        edits.push((from..at + line.len(), new));
                    }
                    at += line.len();
                }
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return body.to_string();
    }
    let mut out = body.to_string();
    for (range, new) in edits.into_iter().rev() {
        out.replace_range(range, &new);
    }
    out
}

enum Rule {
    Rust,
    Prefix(String),
}

fn rule_for(info: &str, prefixes: &BTreeMap<String, String>) -> Option<Rule> {
    let mut tokens = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty());
    let lang = tokens.next().unwrap_or("");
    if lang == "rust" {
        return Some(Rule::Rust);
    }
    let own = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .find_map(|t| t.strip_prefix("hidelines="));
    own.map(str::to_string)
        .or_else(|| prefixes.get(lang).cloned())
        .filter(|p| !p.is_empty())
        .map(Rule::Prefix)
}

impl Rule {
    /// The new text of `line` (with its line break), or `None` to keep it as it is.
    fn apply(&self, line: &str) -> Option<String> {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        match self {
            // mdBook: `^(\s*)#(.?)(.*)$`.
            Rule::Rust => {
                let after = trimmed.strip_prefix('#')?;
                if after.starts_with('#') {
                    Some(format!("{indent}{after}"))
                } else if after.is_empty()
                    || after.starts_with(' ')
                    || after.starts_with('\n')
                    || after.starts_with('\t')
                {
                    Some(String::new())
                } else {
                    None
                }
            }
            Rule::Prefix(p) => trimmed.starts_with(p.as_str()).then(String::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_hidden_lines_go_escapes_stay() {
        let body = "Text # not code\n\n```rust,ignore\n# fn main() {\n#[derive(Debug)]\nlet x = 1;\n## not hidden\n#\n    # indented hidden\n# }\n```\n\n```text\n# kept\n```\n";
        let out = strip(body, &BTreeMap::new());
        assert_eq!(
            out,
            "Text # not code\n\n```rust,ignore\n#[derive(Debug)]\nlet x = 1;\n# not hidden\n```\n\n```text\n# kept\n```\n"
        );
    }

    #[test]
    fn prefixes_from_config_and_block() {
        let mut p = BTreeMap::new();
        p.insert("python".to_string(), "~".to_string());
        let body = "```python\n~import os\nprint(1)\n```\n\n```sh hidelines=!\n!set -e\nls\n```\n";
        assert_eq!(
            strip(body, &p),
            "```python\nprint(1)\n```\n\n```sh hidelines=!\nls\n```\n"
        );
    }

    #[test]
    fn inside_a_list_item() {
        let body = "- step:\n\n  ```rust\n  # use std::io;\n  fn main() {}\n  ```\n";
        assert_eq!(
            strip(body, &BTreeMap::new()),
            "- step:\n\n  ```rust\n  fn main() {}\n  ```\n"
        );
    }
}
