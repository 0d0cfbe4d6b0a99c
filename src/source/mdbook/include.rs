//! mdBook's `{{#include}}`-style directives, expanded as mdBook's `links`
//! preprocessor does: `{{#include path}}`, `path:N`, `path:N:M`, `path::M`,
//! `path:N:`, `path:anchor` (between `ANCHOR: name` and `ANCHOR_END: name`),
//! `{{#rustdoc_include …}}` (the lines outside the range kept as hidden `# `
//! lines), `{{#playground path attrs}}` (a fenced Rust block) and `{{#title …}}`
//! (dropped: the module title comes from SUMMARY.md). `\{{#…}}` is an escape.
//! Included paths are relative to the including file and must stay inside
//! the book folder. Anything else that looks like a directive is kept as text
//! with a warning.

use std::path::{Component, Path, PathBuf};

use crate::model::Pos;
use crate::source::text::{self, LineMap};

/// mdBook's limit too: deeper nesting is almost surely a cycle.
pub const MAX_DEPTH: usize = 10;

/// A problem found while expanding, in the file that holds the directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    pub error: bool,
}

/// Expands the directives of `text`, a file in `dir` (relative to `root`,
/// the book folder). Problems are collected, never fatal: a failed directive
/// stays as written.
pub fn expand(
    root: &Path,
    file: &Path,
    dir: &[String],
    text: &str,
    problems: &mut Vec<Problem>,
) -> String {
    expand_at(root, file, dir, text, 0, problems)
}

fn expand_at(
    root: &Path,
    file: &Path,
    dir: &[String],
    text: &str,
    depth: usize,
    problems: &mut Vec<Problem>,
) -> String {
    let map = LineMap::new(text);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find("{{") {
        let start = from + found;
        from = start + 2;
        // `\{{#…}}`: the directive is shown as written, without the backslash.
        if start > 0 && text.as_bytes()[start - 1] == b'\\' && text[start..].starts_with("{{#") {
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            if text[start..line_end].contains("}}") {
                out.push_str(&text[done..start - 1]);
                done = start;
                continue;
            }
        }
        let Some(d) = directive(&text[start..]) else {
            continue;
        };
        let end = start + d.len;
        let problem = |message: String, error: bool| Problem {
            file: file.to_path_buf(),
            pos: map.pos(start, text),
            message,
            error,
        };
        let replacement = match d.kind {
            "title" => Ok((String::new(), None)),
            "include" | "rustdoc_include" | "playground" | "playpen" => {
                let mut args = d.args.split_whitespace();
                let target = args.next().unwrap_or("");
                let (path_part, range) = match d.kind {
                    "include" | "rustdoc_include" => match target.split_once(':') {
                        Some((p, r)) => (p, Some(r)),
                        None => (target, None),
                    },
                    _ => (target, None),
                };
                read_included(root, dir, path_part).map(|(content, inc_dir)| {
                    let body = match d.kind {
                        "include" => select(&content, range, false),
                        "rustdoc_include" => select(&content, range, true),
                        _ => {
                            let attrs: Vec<&str> = args.collect();
                            let mut c = content;
                            if !c.ends_with('\n') {
                                c.push('\n');
                            }
                            let lang = if attrs.is_empty() { "rust" } else { "rust," };
                            format!("```{lang}{}\n{c}```\n", attrs.join(","))
                        }
                    };
                    if depth + 1 >= MAX_DEPTH {
                        (body, None)
                    } else {
                        (body, Some(inc_dir))
                    }
                })
            }
            other => {
                problems.push(problem(
                    format!("mdBook directive '{{{{#{other}}}}}' is not supported: kept as text"),
                    false,
                ));
                continue;
            }
        };
        match replacement {
            Ok((body, inc_dir)) => {
                let body = match inc_dir {
                    Some(inc_dir) => {
                        let inc_file = root.join(inc_dir.join("/"));
                        expand_at(root, &inc_file, &inc_dir, &body, depth + 1, problems)
                    }
                    None if d.kind == "title" => body,
                    None => {
                        problems.push(problem(
                            format!("includes nested more than {MAX_DEPTH} deep (a cycle?): not expanded further"),
                            true,
                        ));
                        body
                    }
                };
                out.push_str(&text[done..start]);
                // Every line of the included text starts with what came before the
                // directive on its line (so an include inside a list keeps its indent).
                // Split at '\n', not `lines()`: a last empty line (a listing's
                // output ending in a blank line) stays, as in mdBook's text.
                let prefix = out.rsplit('\n').next().unwrap_or("").to_string();
                out.push_str(
                    &body
                        .split('\n')
                        .collect::<Vec<_>>()
                        .join(&format!("\n{prefix}")),
                );
                done = end;
                from = end;
            }
            Err(message) => {
                problems.push(problem(message, true));
                from = end;
            }
        }
    }
    out.push_str(&text[done..]);
    out
}

struct Directive<'a> {
    kind: &'a str,
    args: &'a str,
    /// Bytes from `{{` to `}}` included.
    len: usize,
}

/// `{{ #kind args }}` at the start of `s` (mdBook's pattern:
/// `\{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}`).
fn directive(s: &str) -> Option<Directive<'_>> {
    let rest = s.strip_prefix("{{")?;
    let trimmed = rest.trim_start();
    let after_hash = trimmed.strip_prefix('#')?;
    let kind_len = after_hash
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_hash.len());
    if kind_len == 0 {
        return None;
    }
    let kind = &after_hash[..kind_len];
    let after_kind = &after_hash[kind_len..];
    let args_start = after_kind.trim_start();
    if args_start.len() == after_kind.len() {
        return None; // no whitespace after the kind
    }
    let close = args_start.find('}')?;
    if !args_start[close..].starts_with("}}") || close == 0 {
        return None;
    }
    let args = &args_start[..close];
    let consumed = s.len() - args_start.len() + close + 2;
    Some(Directive {
        kind,
        args: args.trim(),
        len: consumed,
    })
}

/// Reads an included file: its text and its folder (relative to the book root).
fn read_included(root: &Path, dir: &[String], rel: &str) -> Result<(String, Vec<String>), String> {
    if rel.is_empty() {
        return Err("include without a file name".into());
    }
    let Some(parts) = join_inside(dir, rel) else {
        return Err(format!(
            "included file '{rel}' is outside the book folder: only files inside it can be included"
        ));
    };
    let path = root.join(parts.join("/"));
    let meta = std::fs::metadata(&path)
        .map_err(|_| format!("included file '{rel}' not found ({})", path.display()))?;
    if !meta.is_file() {
        return Err(format!("included path '{rel}' is not a file"));
    }
    if meta.len() > crate::source::MAX_FILE_BYTES {
        return Err(format!("included file '{rel}' is too big"));
    }
    let bytes =
        std::fs::read(&path).map_err(|e| format!("cannot read included file '{rel}': {e}"))?;
    let content = text::decode(&bytes).map_err(|(p, b)| {
        format!(
            "included file '{rel}' is not UTF-8 (byte 0x{b:02X} at {}:{})",
            p.line, p.col
        )
    })?;
    let mut inc_dir = parts;
    inc_dir.pop();
    Ok((content, inc_dir))
}

/// `rel` joined onto `dir` lexically; `None` if absolute or climbing out of the root.
pub fn join_inside(dir: &[String], rel: &str) -> Option<Vec<String>> {
    let rel_path = Path::new(rel);
    let mut parts: Vec<String> = dir.to_vec();
    for c in rel_path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts)
}

/// The lines an include asks for. `hidden`: rustdoc_include, where the other
/// lines stay, each behind `# ` (hidden in Rust code blocks).
fn select(content: &str, range: Option<&str>, hidden: bool) -> String {
    match parse_range(range) {
        Selection::Lines(start, end) => {
            let inside = |i: usize| i >= start && end.is_none_or(|e| i < e);
            if hidden {
                content
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        if inside(i) {
                            l.to_string()
                        } else {
                            format!("# {l}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                content
                    .lines()
                    .enumerate()
                    .filter(|(i, _)| inside(*i))
                    .map(|(_, l)| l)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        Selection::Anchor(name) => anchored(content, &name, hidden),
    }
}

enum Selection {
    /// 0-based start, exclusive end.
    Lines(usize, Option<usize>),
    Anchor(String),
}

/// mdBook's `parse_range_or_anchor`.
fn parse_range(range: Option<&str>) -> Selection {
    let mut parts = range.unwrap_or("").splitn(3, ':');
    let first = parts.next();
    let start = match first {
        Some(v) if v.parse::<usize>().is_ok() => {
            v.parse::<usize>().ok().map(|n| n.saturating_sub(1))
        }
        Some("") | None => None,
        Some(anchor) => return Selection::Anchor(anchor.to_string()),
    };
    let end = parts.next().map(|s| s.parse::<usize>());
    match (start, end) {
        (Some(s), Some(Ok(e))) => Selection::Lines(s, Some(e)),
        (Some(s), Some(Err(_))) => Selection::Lines(s, None),
        (Some(s), None) => Selection::Lines(s, Some(s + 1)),
        (None, Some(Ok(e))) => Selection::Lines(0, Some(e)),
        (None, _) => Selection::Lines(0, None),
    }
}

/// The name after `ANCHOR:` (or `ANCHOR_END:`) on a line, if any.
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let at = line.find(marker)?;
    let rest = line[at + marker.len()..].trim_start();
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// mdBook's `take_anchored_lines` / `take_rustdoc_include_anchored_lines`.
fn anchored(content: &str, name: &str, hidden: bool) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for l in content.lines() {
        let start = anchor_name(l, "ANCHOR:");
        let end = anchor_name(l, "ANCHOR_END:");
        if inside {
            if let Some(e) = end {
                if e == name {
                    if !hidden {
                        break;
                    }
                    inside = false;
                }
            } else if start.is_none() {
                out.push(l.to_string());
            }
        } else if start == Some(name) {
            inside = true;
        } else if hidden && start.is_none() && end.is_none() {
            out.push(format!("# {l}"));
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_like_mdbook() {
        let s = "Lorem\nipsum\ndolor\nsit\namet";
        assert_eq!(select(s, Some("2:3"), false), "ipsum\ndolor");
        assert_eq!(select(s, Some("4:"), false), "sit\namet");
        assert_eq!(select(s, Some(":3"), false), "Lorem\nipsum\ndolor");
        assert_eq!(select(s, None, false), s);
        assert_eq!(select(s, Some("2"), false), "ipsum");
        assert_eq!(select(s, Some("5:4"), false), "");
        assert_eq!(
            select(s, Some("2:3"), true),
            "# Lorem\nipsum\ndolor\n# sit\n# amet"
        );
    }

    #[test]
    fn anchors_like_mdbook() {
        let s = "Lorem\nANCHOR:    test2\nipsum\nANCHOR: test\ndolor\nsit\namet\nANCHOR_END: test\nlorem\nANCHOR_END:test2\nipsum";
        assert_eq!(
            anchored(s, "test2", false),
            "ipsum\ndolor\nsit\namet\nlorem"
        );
        assert_eq!(anchored(s, "test", false), "dolor\nsit\namet");
        assert_eq!(anchored(s, "nothing", false), "");
        let s = "use x;\n// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\nfn other() {}";
        assert_eq!(
            anchored(s, "main", true),
            "# use x;\nfn main() {}\n# fn other() {}"
        );
    }

    #[test]
    fn directives_are_found_like_mdbook() {
        let d = directive("{{ #include  a.rs:2:4 }} tail").unwrap();
        assert_eq!((d.kind, d.args, d.len), ("include", "a.rs:2:4", 24));
        assert!(directive("{{#include}}").is_none());
        assert!(directive("{{ name }}").is_none());
        assert!(directive("{{#include a.rs }").is_none());
    }

    #[test]
    fn paths_stay_inside_the_book() {
        let dir = vec!["src".to_string(), "ch01".to_string()];
        assert_eq!(
            join_inside(&dir, "../../listings/a.rs"),
            Some(vec!["listings".to_string(), "a.rs".to_string()])
        );
        assert_eq!(join_inside(&dir, "../../../etc/passwd"), None);
        assert_eq!(join_inside(&dir, "/etc/passwd"), None);
    }

    #[test]
    fn expands_nested_includes_with_prefix_escapes_and_errors() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("src")).unwrap();
        std::fs::create_dir_all(r.join("listings/sub")).unwrap();
        std::fs::write(
            r.join("listings/a.rs"),
            "fn a() {}\n{{#include sub/b.rs}}\n",
        )
        .unwrap();
        std::fs::write(r.join("listings/sub/b.rs"), "fn b() {}\nfn c() {}\n").unwrap();
        let text = "- item\n  {{#include ../listings/a.rs}}\n\\{{#include x.rs}}\n{{#include ../../x.rs}}\n{{#tabs x}}\n{{#include nope.rs}}\n";
        let mut problems = Vec::new();
        let file = r.join("src/ch.md");
        let out = expand(r, &file, &["src".to_string()], text, &mut problems);
        assert_eq!(
            out,
            "- item\n  fn a() {}\n  fn b() {}\n  fn c() {}\n{{#include x.rs}}\n{{#include ../../x.rs}}\n{{#tabs x}}\n{{#include nope.rs}}\n"
        );
        let kinds: Vec<(u32, bool)> = problems.iter().map(|p| (p.pos.line, p.error)).collect();
        assert_eq!(
            kinds,
            vec![(4, true), (5, false), (6, true)],
            "{problems:?}"
        );
        assert!(problems[0].message.contains("outside the book"));
    }

    #[test]
    fn playground_and_title() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("p.rs"), "fn main() {}").unwrap();
        let mut problems = Vec::new();
        let text = "{{#title Custom}}\n{{#playground p.rs editable}}\n{{#playground p.rs}}";
        let out = expand(r, &r.join("ch.md"), &[], text, &mut problems);
        // mdBook's block ends with a line break after the fence.
        assert_eq!(
            out,
            "\n```rust,editable\nfn main() {}\n```\n\n```rust\nfn main() {}\n```\n"
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// A listing's output that ends in a blank line keeps it, as in the
    /// text mdBook's links preprocessor gives (the Rust book's `output.txt`
    /// files end so; the two ways gave code blocks one line apart).
    #[test]
    fn an_included_last_blank_line_stays() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("out.txt"), "$ cargo test\nok\n\n").unwrap();
        let mut problems = Vec::new();
        let text = "```console\n{{#include out.txt}}\n```\n- item\n  {{#include out.txt}}\n";
        let out = expand(r, &r.join("ch.md"), &[], text, &mut problems);
        assert_eq!(
            out,
            "```console\n$ cargo test\nok\n\n```\n- item\n  $ cargo test\n  ok\n  \n"
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn include_cycles_stop() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("a.md"), "x {{#include a.md}}").unwrap();
        let mut problems = Vec::new();
        let out = expand(r, &r.join("ch.md"), &[], "{{#include a.md}}", &mut problems);
        assert!(out.starts_with("x x x"), "{out}");
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("nested more than"))
        );
    }
}
