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

    /// The stylesheet the EPUB ships (not a copy of its palette).
    const BOOK_CSS: &str = include_str!("../../../layouts/epub/book.css");

    type Rgb = [f64; 3];

    /// Reading themes as readers ship them (text colour, page colour): plain
    /// light, sepia (with black and with brown text, as Foliate, Apple Books
    /// and Kindle do), and dark (white on black, light grey on dark grey,
    /// Apple Books' night).
    const THEMES: &[(&str, &str, &str)] = &[
        ("white", "#000000", "#ffffff"),
        ("sepia", "#000000", "#f4ecd8"),
        ("sepia, brown text", "#5b4636", "#f4ecd8"),
        ("sepia, Kindle", "#5f4b32", "#fbf0d9"),
        ("black", "#ffffff", "#000000"),
        ("dark grey", "#e0e0e0", "#222222"),
        ("night", "#b0b0b0", "#121212"),
    ];

    fn hex(s: &str) -> Option<Rgb> {
        let h = s.trim().strip_prefix('#')?;
        let h: String = match h.len() {
            3 => h.chars().flat_map(|c| [c, c]).collect(),
            6 => h.to_string(),
            _ => return None,
        };
        let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok().map(f64::from);
        Some([c(0)?, c(2)?, c(4)?])
    }

    /// WCAG 2 relative luminance of an sRGB colour (0–255 channels).
    fn luminance(c: Rgb) -> f64 {
        let lin = |v: f64| {
            let v = v / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    }

    fn contrast(a: Rgb, b: Rgb) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    fn mix(a: Rgb, b: Rgb, share_a: f64) -> Rgb {
        [0, 1, 2].map(|i| a[i] * share_a + b[i] * (1.0 - share_a))
    }

    /// A `color` value as the colour it computes to when the inherited text
    /// colour is `text`: `#hex`, `currentColor`, `inherit`, or
    /// `color-mix(in srgb, <colour> P%, <colour>)` of those.
    fn resolve(value: &str, text: Rgb) -> Rgb {
        let v = value.trim();
        if v.eq_ignore_ascii_case("currentcolor") || v == "inherit" {
            return text;
        }
        if let Some(h) = hex(v) {
            return h;
        }
        let inner = v
            .strip_prefix("color-mix(")
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or_else(|| panic!("token colour the test can't read: {v}"));
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        assert_eq!(parts.len(), 3, "{v}");
        assert_eq!(parts[0], "in srgb", "{v}: mix in sRGB");
        let with_share = |p: &str| -> (Rgb, Option<f64>) {
            match p.rsplit_once(' ') {
                Some((c, pct)) if pct.ends_with('%') => {
                    let share = pct
                        .trim_end_matches('%')
                        .parse::<f64>()
                        .expect("percentage");
                    (resolve(c, text), Some(share / 100.0))
                }
                _ => (resolve(p, text), None),
            }
        };
        let (a, pa) = with_share(parts[1]);
        let (b, pb) = with_share(parts[2]);
        let share_a = match (pa, pb) {
            (Some(p), _) => p,
            (None, Some(p)) => 1.0 - p,
            (None, None) => 0.5,
        };
        mix(a, b, share_a)
    }

    /// `(selector, declarations)` of every rule, nested at-rules flattened.
    fn rules(css: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut text = String::new();
        let mut rest = css;
        while let Some(i) = rest.find("/*") {
            text.push_str(&rest[..i]);
            rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
        }
        text.push_str(rest);
        let mut out = Vec::new();
        let mut prelude = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '{' if prelude.trim_start().starts_with('@') => prelude.clear(),
                '{' => {
                    let body: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let decls = body
                        .split(';')
                        .filter_map(|d| d.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    out.push((std::mem::take(&mut prelude).trim().to_string(), decls));
                }
                '}' => prelude.clear(),
                c => prelude.push(c),
            }
        }
        out
    }

    /// Every syntax colour in the shipped stylesheet (`color`, or the
    /// `-webkit-text-fill-color` it is painted in) reaches WCAG AA (4.5:1)
    /// against the page in every theme, and also when one token sits inside
    /// another (syntect nests spans); backgrounds the stylesheet gives code, if
    /// any, are the page for its tokens.
    #[test]
    fn code_palette_contrast_in_light_sepia_and_dark_themes() {
        let rules = rules(BOOK_CSS);
        let is_code = |sel: &str| {
            sel.split(',').any(|s| {
                let s = s.trim();
                s.contains(".hl-") || s.split_whitespace().any(|w| w == "pre" || w == "code")
            })
        };
        // (selector, `color`, `-webkit-text-fill-color`, opacity) of token rules.
        let mut tokens: Vec<(String, Option<String>, Option<String>, f64)> = Vec::new();
        let mut code_background = None;
        for (sel, decls) in rules.iter().filter(|(s, _)| is_code(s)) {
            let get = |k: &str| decls.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if let Some(bg) = get("background-color").or_else(|| get("background")) {
                code_background =
                    Some(hex(&bg).unwrap_or_else(|| panic!("{sel}: background {bg}")));
            }
            let opacity = get("opacity").map_or(1.0, |o| o.parse::<f64>().expect("opacity"));
            let (color, fill) = (get("color"), get("-webkit-text-fill-color"));
            // Chromium keeps a stale `color: color-mix(currentColor …)` when the
            // reader's theme changes after the page is shown.
            assert!(
                !color
                    .as_deref()
                    .is_some_and(|c| c.to_ascii_lowercase().contains("currentcolor")),
                "{sel}: a token's `color` must not depend on currentColor (use text-fill-color)"
            );
            if color.is_some() || fill.is_some() || opacity < 1.0 {
                tokens.push((sel.clone(), color, fill, opacity));
            }
        }
        assert!(
            tokens.len() >= 4,
            "the palette was not found in book.css: {tokens:?}"
        );
        // The colour a token's text is painted in when it inherits `text`, and
        // the `color` it passes on to tokens inside it.
        let paint = |color: &Option<String>, fill: &Option<String>, text: Rgb| -> (Rgb, Rgb) {
            let own = color.as_deref().map_or(text, |c| resolve(c, text));
            (fill.as_deref().map_or(own, |f| resolve(f, own)), own)
        };
        let mut failures = Vec::new();
        for &(theme, text, page) in THEMES {
            let (text, page) = (hex(text).unwrap(), hex(page).unwrap());
            let bg = code_background.unwrap_or(page);
            for (sel, color, fill, opacity) in &tokens {
                let once = paint(color, fill, text).0;
                let nested = tokens
                    .iter()
                    .map(|(_, pc, pf, _)| paint(color, fill, paint(pc, pf, text).1).0);
                for (how, c) in std::iter::once(("", once)).chain(nested.map(|c| (" (nested)", c)))
                {
                    let seen = mix(c, bg, *opacity);
                    let ratio = contrast(seen, bg);
                    if ratio < 4.5 {
                        failures.push(format!("{sel}{how} on {theme}: {ratio:.2}:1"));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "below 4.5:1:\n{}", failures.join("\n"));
    }

    #[test]
    fn contrast_arithmetic() {
        let (black, white) = ([0.0; 3], [255.0; 3]);
        assert!((contrast(black, white) - 21.0).abs() < 1e-9);
        // The brightest grey that still passes on white, and why no single colour
        // serves white, sepia and black: 4.5:1 on black needs L >= 0.175, on
        // sepia L <= 0.146.
        assert!(contrast(hex("#767676").unwrap(), white) >= 4.5);
        assert!(contrast(hex("#777777").unwrap(), white) < 4.5);
        let sepia = hex("#f4ecd8").unwrap();
        assert!((1..=255).all(|g| {
            let c = [f64::from(g); 3];
            contrast(c, sepia) < 4.5 || contrast(c, black) < 4.5
        }));
        let m = resolve("color-mix(in srgb, currentColor 50%, #ff0000)", white);
        assert_eq!(m, [255.0, 127.5, 127.5]);
    }

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
