use super::{ImageSource, ModuleRef, Pos};

/// Inline content. Links are resolved: renderers never see a raw `.md` href.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Code(String),
    Emphasis(Vec<Inline>),
    Strong(Vec<Inline>),
    Strikethrough(Vec<Inline>),
    Superscript(Vec<Inline>),
    Subscript(Vec<Inline>),
    /// `<u>`, `<ins>`.
    Underline(Vec<Inline>),
    /// `<mark>`: highlighted text.
    Mark(Vec<Inline>),
    /// `<kbd>`: a key or keyboard input.
    Kbd(Vec<Inline>),
    /// `<a id>` / `<a name>`: a point links may target (`Module::anchors`).
    Anchor(String),
    Link {
        target: LinkTarget,
        title: String,
        content: Vec<Inline>,
        pos: Pos,
    },
    Image {
        image: ImageSource,
        alt: String,
        title: String,
        /// Display width in CSS pixels, from HTML `width` (never wider than the text).
        width: Option<u32>,
        pos: Pos,
    },
    Math {
        tex: String,
        display: bool,
        pos: Pos,
    },
    /// Reference to `Module::footnotes[number - 1]`; `nth` is 1-based among its references.
    FootnoteRef {
        number: usize,
        nth: usize,
    },
    SoftBreak,
    HardBreak,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkTarget {
    /// Another module (or the same one), optionally at a heading id.
    Module {
        module: ModuleRef,
        anchor: Option<String>,
    },
    /// A part's page (its title), optionally at a heading id of its
    /// overview (an mdBook chapter with sub-chapters is a part's page).
    Part { part: usize, anchor: Option<String> },
    /// Anything with a scheme (`https:`, `mailto:`), kept as written.
    External(String),
}

impl Inline {
    /// The inline content this one wraps (emphasis, a link's text…), if any.
    pub fn children(&self) -> Option<&[Inline]> {
        match self {
            Inline::Emphasis(c)
            | Inline::Strong(c)
            | Inline::Strikethrough(c)
            | Inline::Superscript(c)
            | Inline::Subscript(c)
            | Inline::Underline(c)
            | Inline::Mark(c)
            | Inline::Kbd(c)
            | Inline::Link { content: c, .. } => Some(c),
            _ => None,
        }
    }

    pub fn children_mut(&mut self) -> Option<&mut Vec<Inline>> {
        match self {
            Inline::Emphasis(c)
            | Inline::Strong(c)
            | Inline::Strikethrough(c)
            | Inline::Superscript(c)
            | Inline::Subscript(c)
            | Inline::Underline(c)
            | Inline::Mark(c)
            | Inline::Kbd(c)
            | Inline::Link { content: c, .. } => Some(c),
            _ => None,
        }
    }
}

/// The plain text of inline content (for alt text, ids, indexes, word counts).
pub fn inline_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    push_text(inlines, &mut out);
    out
}

fn push_text(inlines: &[Inline], out: &mut String) {
    for i in inlines {
        match i {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Image { alt, .. } => out.push_str(alt),
            Inline::Math { tex, .. } => out.push_str(tex),
            Inline::SoftBreak | Inline::HardBreak => out.push(' '),
            other => {
                if let Some(c) = other.children() {
                    push_text(c, out);
                }
            }
        }
    }
}

/// Whether a caption opens with its own label, "Figure 4-1:" or "Fig. 3."
/// (the Rust book's captions, and many others'): a renderer that numbers
/// figures then leaves its number out rather than print "Figure 1: Figure 4-1:".
pub fn caption_has_label(caption: &[Inline]) -> bool {
    const WORDS: &[&str] = &[
        "figure",
        "fig.",
        "fig",
        "listing",
        "table",
        "diagram",
        "illustration",
        "abbildung",
        "abb.",
        "figura",
        "рисунок",
        "рис.",
        "图",
        "圖",
        "図",
    ];
    let text = inline_text(caption);
    let text = text.trim_start();
    let lower = text.to_lowercase();
    WORDS.iter().any(|w| {
        let Some(rest) = lower.strip_prefix(w) else {
            return false;
        };
        let rest = rest.trim_start();
        let number: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '–'))
            .collect();
        let after = rest[number.len()..].chars().next();
        number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && after.is_none_or(|c| c.is_whitespace() || matches!(c, ':' | '：' | '.' | ')'))
    })
}

#[cfg(test)]
mod caption_tests {
    use super::*;

    fn t(s: &str) -> Vec<Inline> {
        vec![Inline::Text(s.to_string())]
    }

    #[test]
    fn captions_with_their_own_label() {
        for yes in [
            "Figure 4-1: The representation in memory",
            "Fig. 3. A ring",
            "figure 12 shows",
            "Listing 2.1: main",
            "图 4-1：栈",
            "Figure 1",
        ] {
            assert!(caption_has_label(&t(yes)), "{yes}");
        }
        for no in [
            "Figures are drawn to scale",
            "A figure of speech",
            "Figure skating results",
            "Fig trees in 3 colours",
            "Tables: 4 of them",
            "",
        ] {
            assert!(!caption_has_label(&t(no)), "{no}");
        }
    }
}
