//! Raw HTML in Markdown, read by the WHATWG HTML5 tokenizer (html5ever).
//!
//! pulldown-cmark hands raw HTML over in pieces: a block of lines, or one tag
//! at a time inside a paragraph (`<span>`, text, `</span>`). Each piece is
//! tokenized here; the Markdown builder folds the tokens into the model with
//! the same explicit stack it uses for Markdown, so an element may open in one
//! piece and close in another. What the tokens mean (the safe subset) is
//! decided there, in one place: `markdown::Builder::html_token`.

use std::cell::RefCell;

use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// One token of raw HTML, owned and with lowercase names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HtmlToken {
    Start {
        name: String,
        /// Attribute names lowercased, values with entities decoded, in source order.
        attrs: Vec<(String, String)>,
        self_closing: bool,
        /// 1-based line inside the piece.
        line: u32,
    },
    End {
        name: String,
    },
    Text(String),
}

impl HtmlToken {
    pub fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Sink {
    tokens: RefCell<Vec<HtmlToken>>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        let mut out = self.tokens.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_ascii_lowercase().to_string();
                match tag.kind {
                    TagKind::StartTag => {
                        // Elements whose content is not markup: the tokenizer must
                        // read it as text (which the builder then drops or keeps).
                        let raw = match name.as_str() {
                            "script" => Some(RawKind::ScriptData),
                            "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                                Some(RawKind::Rawtext)
                            }
                            "textarea" | "title" => Some(RawKind::Rcdata),
                            _ => None,
                        };
                        out.push(HtmlToken::Start {
                            name,
                            attrs: tag
                                .attrs
                                .iter()
                                .map(|a| {
                                    (
                                        a.name.local.to_ascii_lowercase().to_string(),
                                        a.value.to_string(),
                                    )
                                })
                                .collect(),
                            self_closing: tag.self_closing,
                            line,
                        });
                        if let Some(kind) = raw
                            && !tag.self_closing
                        {
                            return TokenSinkResult::RawData(kind);
                        }
                    }
                    TagKind::EndTag => out.push(HtmlToken::End { name }),
                }
            }
            Token::CharacterTokens(t) => match out.last_mut() {
                Some(HtmlToken::Text(prev)) => prev.push_str(&t),
                _ => out.push(HtmlToken::Text(t.to_string())),
            },
            // Comments (`<!-- ignore -->`), doctypes, NULs and parse errors carry
            // nothing a reader should see.
            Token::CommentToken(_)
            | Token::DoctypeToken(_)
            | Token::NullCharacterToken
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

/// Tokenizes one piece of raw HTML as it would be read in a document body.
pub fn tokenize(html: &str) -> Vec<HtmlToken> {
    let tok = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.tokens.take()
}

/// Elements with no content and no end tag.
pub fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_a_figure() {
        let t = tokenize(
            "<p align=\"center\"><IMG SRC='a.png' width=300 alt=\"A &amp; B\"></p><!-- x -->",
        );
        assert_eq!(
            t,
            vec![
                HtmlToken::Start {
                    name: "p".into(),
                    attrs: vec![("align".into(), "center".into())],
                    self_closing: false,
                    line: 1
                },
                HtmlToken::Start {
                    name: "img".into(),
                    attrs: vec![
                        ("src".into(), "a.png".into()),
                        ("width".into(), "300".into()),
                        ("alt".into(), "A & B".into())
                    ],
                    self_closing: false,
                    line: 1
                },
                HtmlToken::End { name: "p".into() },
            ]
        );
    }

    #[test]
    fn script_content_is_text_not_tags() {
        let t = tokenize("<script>if (a<b) { document.write('<p>x</p>') }</script>after");
        assert!(matches!(&t[0], HtmlToken::Start { name, .. } if name == "script"));
        assert_eq!(
            t[1],
            HtmlToken::Text("if (a<b) { document.write('<p>x</p>') }".into())
        );
        assert!(matches!(&t[2], HtmlToken::End { name, .. } if name == "script"));
        assert_eq!(t[3], HtmlToken::Text("after".into()));
    }

    #[test]
    fn entities_and_broken_markup() {
        assert_eq!(
            tokenize("a &lt;b&gt; &copy; &#x41;"),
            vec![HtmlToken::Text("a <b> © A".into())]
        );
        // Never panics on garbage.
        for s in [
            "<",
            "</",
            "<a href=",
            "<!--",
            "<![CDATA[",
            "<a <b>",
            "\u{0}",
        ] {
            let _ = tokenize(s);
        }
    }
}
