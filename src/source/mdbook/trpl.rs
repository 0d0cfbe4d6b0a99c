//! The Rust book's `trpl-listing` preprocessor (mdbook-trpl), for books whose
//! book.toml declares `[preprocessor.trpl-listing]`: a line
//! `<Listing number="1-2" file-name="src/main.rs" caption="Some *text*">`
//! becomes `Filename: src/main.rs` and the line `</Listing>` becomes
//! `Listing 1-2: Some *text*` — its "simple" output mode, plain Markdown, so
//! the captions the text refers to ("see Listing 1-2") are printed. Each tag
//! line becomes one line, so line numbers stay right.

pub fn rewrite(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<(u8, usize)> = None;
    // The open listing's caption line, printed where it closes.
    let mut caption: Option<String> = None;
    for line in body.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (line, ""),
        };
        // Container prefix: blockquote markers and indentation.
        let rest = content.trim_start_matches(['>', ' ', '\t']);
        let prefix = &content[..content.len() - rest.len()];
        if let Some(f) = fence_marker(rest) {
            fence = match fence {
                None => Some(f),
                Some((c, n)) if c == f.0 && f.1 >= n && rest.trim_end().len() == f.1 => None,
                open => open,
            };
            out.push_str(line);
            continue;
        }
        if fence.is_none() {
            let tag = rest.trim_end();
            if let Some(attrs) = tag
                .strip_prefix("<Listing")
                .and_then(|a| a.strip_suffix('>'))
                .filter(|a| a.is_empty() || a.starts_with(char::is_whitespace))
            {
                let number = attr(attrs, "number");
                let cap = attr(attrs, "caption");
                caption = Some(match (number, cap) {
                    (Some(n), Some(c)) => format!("Listing {n}: {c}"),
                    (Some(n), None) => format!("Listing {n}"),
                    (None, Some(c)) => c.to_string(),
                    (None, None) => String::new(),
                });
                let file = attr(attrs, "file-name")
                    .map(|f| format!("Filename: {f}"))
                    .unwrap_or_default();
                out.push_str(prefix.trim_end());
                if !file.is_empty() {
                    if !prefix.trim_end().is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&file);
                }
                out.push_str(newline);
                continue;
            }
            if tag == "</Listing>" {
                let text = caption.take().unwrap_or_default();
                out.push_str(prefix.trim_end());
                if !text.is_empty() {
                    if !prefix.trim_end().is_empty() {
                        out.push(' ');
                    }
                    out.push_str(&text);
                }
                out.push_str(newline);
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// A code fence opening or closing: its character and length.
fn fence_marker(line: &str) -> Option<(u8, usize)> {
    let c = *line.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = line.bytes().take_while(|&b| b == c).count();
    (n >= 3).then_some((c, n))
}

/// `name="value"` in a tag's attributes (the Rust book quotes every value).
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = attrs[from..].find(name) {
        let at = from + i;
        let before_ok = at == 0 || attrs[..at].ends_with(char::is_whitespace);
        let after = &attrs[at + name.len()..];
        if before_ok && let Some(v) = after.strip_prefix("=\"") {
            return v.find('"').map(|end| &v[..end]);
        }
        from = at + name.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_become_filename_and_caption_lines() {
        let body = "Text.\n\n<Listing number=\"1-2\" file-name=\"src/main.rs\" caption=\"Some *text*, `yeah`\">\n\n```rust\nfn main() {}\n```\n\n</Listing>\n\n<Listing file-name=\"Cargo.toml\">\n\n```toml\n```\n\n</Listing>\n> <Listing number=\"3\">\n> x\n> </Listing>\n";
        let out = rewrite(body);
        assert_eq!(
            out,
            "Text.\n\nFilename: src/main.rs\n\n```rust\nfn main() {}\n```\n\nListing 1-2: Some *text*, `yeah`\n\nFilename: Cargo.toml\n\n```toml\n```\n\n\n>\n> x\n> Listing 3\n"
        );
        assert_eq!(out.lines().count(), body.lines().count());
    }

    #[test]
    fn tags_in_code_stay() {
        let body = "```html\n<Listing number=\"1\">\n</Listing>\n```\n";
        assert_eq!(rewrite(body), body);
        assert_eq!(rewrite("<Listingx>\n"), "<Listingx>\n");
    }
}
