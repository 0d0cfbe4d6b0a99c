//! Syntax highlighting with syntect, as CSS classes (the stylesheet decides
//! how they look, so readers' themes and e-ink stay in control).

use std::sync::OnceLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Common fence names syntect knows under another token.
fn token(lang: &str) -> &str {
    match lang {
        "shell" | "console" | "zsh" => "bash",
        "yml" => "yaml",
        "golang" => "go",
        "py" | "python3" => "python",
        "js" | "javascript" | "ts" | "typescript" => "js",
        "c++" | "cc" => "cpp",
        other => other,
    }
}

/// The code as XHTML (escaped, with `<span class="hl-…">`), or `None` if the
/// language is unknown (the caller then escapes it as plain text).
pub fn highlight(code: &str, lang: &str) -> Option<String> {
    let set = syntaxes();
    let syntax = set.find_syntax_by_token(token(&lang.to_ascii_lowercase()))?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        set,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_escaping() {
        let html = highlight("fn main() { let a = 1 < 2; }\n", "rust").unwrap();
        assert!(
            html.contains("hl-keyword") || html.contains("hl-storage"),
            "{html}"
        );
        assert!(html.contains("&lt;"), "{html}");
        assert!(highlight("x", "no-such-language").is_none());
    }
}
