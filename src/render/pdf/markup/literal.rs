//! Typst literals: everything from the book reaches Typst as a string
//! literal (`#"…"`) or a label name it accepts literally, never as markup.

use std::fmt::Write as _;

use crate::model::Difficulty;

/// A Typst string literal.
pub(super) fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => {}
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as Typst code, its brand names (a capital inside a word:
/// ClickHouse, DynamoDB, OpenAI) set unhyphenated: a dictionary's patterns
/// would split them where the name does not ("Dy-namoDB").
pub(super) fn text_code(t: &str) -> String {
    let is_name = |w: &str| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_alphabetic)
            && w.chars().any(char::is_lowercase)
            && chars.any(char::is_uppercase)
    };
    let mut out = String::new();
    // Where the text not yet written starts, and where the current word does.
    let (mut plain, mut word) = (0, None);
    for (i, c) in t.char_indices().chain([(t.len(), ' ')]) {
        match (c.is_alphanumeric(), word) {
            (true, None) => word = Some(i),
            (false, Some(start)) => {
                word = None;
                if is_name(&t[start..i]) {
                    if plain < start {
                        let _ = write!(out, "#{}", lit(&t[plain..start]));
                    }
                    let _ = write!(out, "#text(hyphenate: false, {})", lit(&t[start..i]));
                    plain = i;
                }
            }
            _ => {}
        }
    }
    if plain < t.len() || out.is_empty() {
        let _ = write!(out, "#{}", lit(&t[plain..]));
    }
    out
}

/// A Typst array literal of already-written items: `()`, `(a,)`, `(a, b,)`
/// (the trailing comma keeps a single item an array).
pub(super) fn array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        "()".into()
    } else {
        format!("({},)", items.join(", "))
    }
}

/// A label name Typst accepts literally: ASCII letters, digits, `-` and `_`.
pub(super) fn label_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let _ = write!(out, "_u{:x}_", c as u32);
        }
    }
    out
}

/// A difficulty as the template's badge argument: `none` draws no badge.
pub(super) fn difficulty_arg(d: Option<Difficulty>) -> String {
    d.map_or_else(|| "none".to_string(), |d| lit(d.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_everything() {
        assert_eq!(lit(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(lit("x\ny"), "\"x\\ny\"");
        assert_eq!(label_part("a.b c"), "a_u2e_b_u20_c");
    }

    #[test]
    fn brand_names_are_set_unhyphenated_plain_words_not() {
        assert_eq!(
            text_code("DynamoDB, or OpenAI"),
            r##"#text(hyphenate: false, "DynamoDB")#", or "#text(hyphenate: false, "OpenAI")"##
        );
        // Capitalised or all-capital words, numbers: one plain literal.
        let plain = "The SQL database holds 2PC logs; Über x86.";
        assert_eq!(text_code(plain), format!("#{}", lit(plain)));
    }
}
