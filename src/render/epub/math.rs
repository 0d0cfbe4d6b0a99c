//! TeX math → MathML (pulldown-latex), with the TeX kept as alttext, plus a
//! linear text form of the same formula for reading systems that don't render
//! MathML.
//!
//! Where MathML is not rendered (calibre's Kindle output, MuPDF, Adobe's
//! engine), a reader shows the MathML's text content: `10^5` reads "105" and
//! `\frac{a}{b}` "ab". So every formula is written twice: the MathML, and a
//! line of ordinary text that says the same thing ("10⁵", "a/b"). The book's
//! stylesheet shows the MathML only in engines that implement MathML Core
//! (`@supports (display: math)`) and the text everywhere else; the text is
//! plain characters, so it also survives conversion to formats with no math
//! at all (calibre's AZW3 and TXT keep it, tested in tests/math_fallback.rs).
//! An SVG per formula was considered and tested: calibre's TXT drops images
//! and their alt text, SVG glyphs stay black in dark themes, and a wide
//! formula as an image can only shrink on a phone, where text wraps.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};
use roxmltree::Node;

use super::xhtml::escape;

/// MathML for `tex`, or `None` if it doesn't parse (the caller shows the source).
pub fn to_mathml(tex: &str, display: bool) -> Option<String> {
    // pulldown-latex renders a control space (`\ `) as a literal "&nbsp;";
    // a thick space is what authors mean.
    let source = tex.replace("\\ ", "\\;");
    let storage = Storage::new();
    let events: Vec<_> = Parser::new(&source, &storage).collect();
    if events.iter().any(Result::is_err) {
        return None;
    }
    let mut out = String::new();
    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        xml: true,
        ..RenderConfig::default()
    };
    push_mathml(&mut out, events.into_iter(), config).ok()?;
    let out = escape_operators(&out);
    // alttext gives assistive technology and old readers the source.
    let alt = format!("<math alttext=\"{}\"", escape(tex.trim()));
    // XHTML has no named `&nbsp;` entity; use the numeric reference.
    Some(out.replacen("<math", &alt, 1).replace("&nbsp;", "&#160;"))
}

/// pulldown-latex writes operator and symbol characters unescaped
/// (`<mo><</mo>` for `a < b`, `<mi>&</mi>` for `\&`), which is not XML.
/// Its own markup always starts `<` with a name or `/`, and `&` with an
/// entity, so anything else is a character to escape.
fn escape_operators(mathml: &str) -> String {
    let mut out = String::with_capacity(mathml.len());
    let bytes = mathml.as_bytes();
    for (i, c) in mathml.char_indices() {
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        match c {
            '<' if !(next.is_ascii_alphabetic() || next == b'/') => out.push_str("&lt;"),
            '&' if !is_entity(&mathml[i + 1..]) => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// `rest` (after an `&`) starts with `name;`, `#123;` or `#x1F;`.
fn is_entity(rest: &str) -> bool {
    let Some(end) = rest.find(';') else {
        return false;
    };
    let body = &rest[..end];
    match body.strip_prefix('#') {
        Some(num) => match num.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()),
        },
        None => {
            !body.is_empty() && body.len() <= 8 && body.chars().all(|c| c.is_ascii_alphanumeric())
        }
    }
}

/// The XHTML for a formula: its MathML in `span.math-ml` and, in
/// `span.math-alt`, the linear text form (or the TeX source where the formula
/// uses something the linear form can't say). `None` if the TeX doesn't parse.
pub fn to_xhtml(tex: &str, display: bool) -> Option<String> {
    let mathml = to_mathml(tex, display)?;
    let alt = linear(&mathml)
        .unwrap_or_else(|| format!("<code class=\"math-source\">{}</code>", escape(tex.trim())));
    Some(format!(
        "<span class=\"math-ml\">{mathml}</span><span class=\"math-alt\">{alt}</span>"
    ))
}

/// The linear text form of a MathML fragment, as XHTML: `10⁵`, `2^(41.7)`,
/// `1 / (N + 1)`, `√V`, `T<sub>eff</sub>`. `None` for what it can't say
/// without changing the meaning (tables, binomials, unknown elements).
pub fn linear(mathml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(mathml).ok()?;
    let piece = node(doc.root_element(), 0)?;
    let html = match piece {
        Piece::Atom(l) => l.html,
        Piece::Op(op) => escape(&op),
        Piece::Space(_) => String::new(),
    };
    let html = html.trim_matches(is_space).to_string();
    (!html.is_empty()).then_some(html)
}

/// Formulas nest by braces; past this the linear form gives up (the TeX is shown).
const MAX_DEPTH: usize = 64;

/// One linearised sub-formula.
#[derive(Debug, Clone)]
struct Lin {
    /// XHTML (escaped text, `<sub>` for word subscripts).
    html: String,
    /// A single token, or a group in matching fences: needs no parentheses
    /// as an exponent, subscript, base or a fraction's part.
    atomic: bool,
    /// A fraction: next to an operand it needs parentheses (`(1/2)x`).
    frac: bool,
    /// No `<sub>` in `html` (italics are fine): its characters can be
    /// turned into superscripts, and it reads the same as plain text.
    plain: bool,
}

impl Lin {
    fn text(s: &str) -> Self {
        Lin {
            html: escape(s),
            atomic: is_token(s),
            frac: false,
            plain: true,
        }
    }

    fn compound(html: String, plain: bool) -> Self {
        Lin {
            html,
            atomic: false,
            frac: false,
            plain,
        }
    }

    /// In parentheses unless it is one token already.
    fn grouped(&self) -> String {
        if self.atomic {
            self.html.clone()
        } else {
            format!("({})", self.html.trim_matches(is_space))
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Atom(Lin),
    /// An operator's text (spacing depends on its neighbours).
    Op(String),
    /// Space the author asked for (`\,`, `\quad`), as characters.
    Space(&'static str),
}

impl Piece {
    fn into_lin(self) -> Lin {
        match self {
            Piece::Atom(l) => l,
            Piece::Op(o) => Lin::text(&o),
            Piece::Space(s) => Lin::compound(s.to_string(), true),
        }
    }
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{2003}'
}

/// One token: a number, a word, a single symbol.
fn is_token(s: &str) -> bool {
    let s = s.trim_matches(is_space);
    !s.is_empty() && (s.chars().count() == 1 || s.chars().all(|c| c.is_alphanumeric() || c == '.'))
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(Node::is_element)
}

fn node(n: Node<'_, '_>, depth: usize) -> Option<Piece> {
    if depth > MAX_DEPTH {
        return None;
    }
    let d = depth + 1;
    let kids: Vec<Node> = elements(n).collect();
    let name = n.tag_name().name();
    Some(match name {
        "math" | "mrow" | "mstyle" | "mpadded" | "menclose" | "merror" => {
            let negated = n.attribute("class") == Some("mop-negated");
            let row = row(&kids, d)?;
            match row {
                // A negated operator (`\not\equiv` with no precomposed glyph): overlay a slash.
                Piece::Op(o) if negated => Piece::Op(format!("{o}\u{338}")),
                _ if negated => return None,
                // A braced operator is ordinary, as in TeX: `7{,}000`.
                Piece::Op(o) if name == "mrow" => Piece::Atom(Lin::text(&o)),
                other => other,
            }
        }
        "semantics" => node(*kids.first()?, d)?,
        "mphantom" => Piece::Space(""),
        "mi" => {
            let text = token_text(n);
            let mut l = Lin::text(&text);
            // A one-letter identifier is a variable, in italics as MathML sets it
            // ("size *a*", not "size a"); upright capital Greek, as in TeX.
            let mut chars = text.chars();
            if let (Some(c), None) = (chars.next(), chars.next())
                && n.attribute("mathvariant") != Some("normal")
                && (c.is_ascii_alphabetic() || ('α'..='ω').contains(&c) || "ϵϑϕϱϖµ".contains(c))
            {
                l.html = format!("<i>{}</i>", l.html);
            }
            Piece::Atom(l)
        }
        "mn" | "mtext" | "ms" => Piece::Atom(Lin::text(&token_text(n))),
        "mo" => Piece::Op(token_text(n)),
        "mspace" => Piece::Space(space(n.attribute("width").unwrap_or(""))),
        "msup" => {
            let [b, s] = kids[..] else { return None };
            let base = base(b, d)?;
            script(format!("{}{}", base.html, sup(s, d)?), base.plain)
        }
        "msub" => {
            let [b, s] = kids[..] else { return None };
            let base = base(b, d)?;
            let (html, plain) = sub(s, d)?;
            script(format!("{}{html}", base.html), base.plain && plain)
        }
        "msubsup" | "munderover" => {
            let [b, lo, hi] = kids[..] else { return None };
            let base = base(b, d)?;
            let (html, plain) = sub(lo, d)?;
            script(
                format!("{}{html}{}", base.html, sup(hi, d)?),
                base.plain && plain,
            )
        }
        "munder" => {
            let [b, u] = kids[..] else { return None };
            if accent_char(u).is_some() {
                // \underline, \underbrace: no linear form.
                return None;
            }
            let base = base(b, d)?;
            let (html, plain) = sub(u, d)?;
            script(format!("{}{html}", base.html), base.plain && plain)
        }
        "mover" => {
            let [b, o] = kids[..] else { return None };
            match accent_char(o) {
                Some(mark) => {
                    // x̄, x̂, v⃗: a combining mark on a single character.
                    let base = node(b, d)?.into_lin();
                    let text = token_text(b);
                    if !base.plain || text.chars().count() != 1 {
                        return None;
                    }
                    Piece::Atom(Lin::text(&format!("{text}{mark}")))
                }
                None => {
                    let base = base(b, d)?;
                    script(format!("{}{}", base.html, sup(o, d)?), base.plain)
                }
            }
        }
        "mfrac" => {
            // A zero rule is a binomial or a stacked pair: not a division.
            let rule = n.attribute("linethickness").map(|t| {
                t.trim()
                    .trim_end_matches(char::is_alphabetic)
                    .parse::<f64>()
            });
            if matches!(rule, Some(Ok(w)) if w == 0.0) {
                return None;
            }
            let [a, b] = kids[..] else { return None };
            let (num, den) = (node(a, d)?.into_lin(), node(b, d)?.into_lin());
            let html = if num.atomic && den.atomic {
                format!("{}/{}", num.html, den.html)
            } else {
                format!("{}\u{a0}/ {}", num.grouped(), den.grouped())
            };
            let mut l = Lin::compound(html, num.plain && den.plain);
            l.frac = true;
            Piece::Atom(l)
        }
        "msqrt" => {
            let inner = row(&kids, d)?.into_lin();
            let mut l = Lin::compound(format!("√{}", inner.grouped()), inner.plain);
            l.atomic = true;
            Piece::Atom(l)
        }
        "mroot" => {
            let [b, i] = kids[..] else { return None };
            let sign = match token_text(i).trim() {
                "3" => "∛",
                "4" => "∜",
                _ => return None,
            };
            let inner = node(b, d)?.into_lin();
            let mut l = Lin::compound(format!("{sign}{}", inner.grouped()), inner.plain);
            l.atomic = true;
            Piece::Atom(l)
        }
        // Tables (matrices, cases, aligned), prescripts, anything else: the TeX says it.
        _ => return None,
    })
}

fn token_text(n: Node<'_, '_>) -> String {
    n.descendants()
        .filter_map(|t| t.is_text().then(|| t.text()).flatten())
        .collect()
}

/// A script's base: parenthesised unless it is one token (`(a + b)²`).
fn base(b: Node<'_, '_>, depth: usize) -> Option<Lin> {
    let l = node(b, depth)?.into_lin();
    Some(Lin {
        html: l.grouped(),
        atomic: true,
        frac: false,
        plain: l.plain,
    })
}

/// A script construct (`x₁`, `10⁵`): one operand for a fraction or a root.
fn script(html: String, plain: bool) -> Piece {
    let mut l = Lin::compound(html, plain);
    l.atomic = true;
    Piece::Atom(l)
}

/// An exponent or subscript after `^` or `_`: bare if it is one token,
/// else in parentheses (`2^(41.7)`, `e^(x²)`).
fn after_mark(l: &Lin, text: &str) -> String {
    let bare = text.chars().count() == 1 || text.chars().all(|c| c.is_ascii_digit());
    if l.plain && bare || l.atomic && l.html.starts_with('(') {
        l.html.clone()
    } else {
        format!("({})", l.html.trim_matches(is_space))
    }
}

/// An exponent: superscript characters when every character has one
/// (`10⁵`, `2⁻¹`), else a caret (`a^k`, `2^(41.7)`), never just raised text,
/// which reads as a digit run once the raising is lost.
fn sup(s: Node<'_, '_>, depth: usize) -> Option<String> {
    let l = node(s, depth)?.into_lin();
    let text = token_text(s);
    let text = text.trim_matches(is_space);
    if l.plain && text.chars().all(|c| c == '′' || c == '″') && !text.is_empty() {
        return Some(text.to_string());
    }
    if l.plain
        && let Some(up) = text.chars().map(superscript).collect::<Option<String>>()
    {
        return Some(up);
    }
    Some(format!("^{}", after_mark(&l, text)))
}

/// A subscript: subscript characters for digits (`A₁`), `<sub>` for a word
/// (`T<sub>eff</sub>`: a name, its letters can't be misread as arithmetic),
/// an underscore for anything with operators (`a_(i+1)`, `max_(n ∈ nodes)`).
/// Returns the XHTML and whether it is plain text.
fn sub(s: Node<'_, '_>, depth: usize) -> Option<(String, bool)> {
    let l = node(s, depth)?.into_lin();
    let text = token_text(s);
    let text = text.trim_matches(is_space);
    if l.plain
        && let Some(down) = text.chars().map(subscript).collect::<Option<String>>()
    {
        return Some((down, true));
    }
    if l.plain && text.chars().all(|c| c.is_alphanumeric() || is_space(c)) && !text.is_empty() {
        // Italics outside: MuPDF doesn't lower an element inside <sub>.
        let italic = l.html.starts_with("<i>") && text.chars().count() == 1;
        let html = format!("<sub>{}</sub>", escape(text));
        return Some((
            if italic {
                format!("<i>{html}</i>")
            } else {
                html
            },
            false,
        ));
    }
    Some((format!("_{}", after_mark(&l, text)), l.plain))
}

fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '+' => '⁺',
        '−' | '-' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        'n' => 'ⁿ',
        'i' => 'ⁱ',
        _ => return None,
    })
}

fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '₀',
        '1' => '₁',
        '2' => '₂',
        '3' => '₃',
        '4' => '₄',
        '5' => '₅',
        '6' => '₆',
        '7' => '₇',
        '8' => '₈',
        '9' => '₉',
        '+' => '₊',
        '−' | '-' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        _ => return None,
    })
}

/// The combining mark for an accent in `mover`/`munder`, if `n` is one.
fn accent_char(n: Node<'_, '_>) -> Option<char> {
    if !matches!(n.tag_name().name(), "mo" | "mi") {
        return None;
    }
    Some(match token_text(n).trim() {
        "¯" | "‾" | "―" | "_" | "\u{305}" | "\u{304}" => '\u{304}',
        "^" | "ˆ" | "\u{302}" => '\u{302}',
        "~" | "˜" | "\u{303}" => '\u{303}',
        "˙" | "." | "\u{307}" => '\u{307}',
        "¨" | "\u{308}" => '\u{308}',
        "→" | "\u{20d7}" => '\u{20d7}',
        "⏟" | "⏞" | "︸" | "︷" => '\u{332}',
        _ => return None,
    })
}

/// `mspace` width → characters: none for negative, a no-break space for a
/// thin one (`86 400`, `500 B`), em spaces for quads.
fn space(width: &str) -> &'static str {
    let w = width.trim();
    let (num, unit) = w.split_at(w.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(w.len()));
    let em = num.parse::<f64>().unwrap_or(0.25)
        * match unit {
            "ex" => 0.5,
            "mu" => 1.0 / 18.0,
            "pt" => 0.1,
            "px" => 1.0 / 16.0,
            _ => 1.0,
        };
    if em <= 0.0 {
        ""
    } else if em < 0.9 {
        "\u{a0}"
    } else if em < 1.9 {
        "\u{2003}"
    } else {
        "\u{2003}\u{2003}"
    }
}

#[derive(Clone, Copy, PartialEq)]
enum OpKind {
    /// `=`, `≈`, `≤`, `→`: spaced on both sides.
    Rel,
    /// `+`, `−`, `×`: spaced, unless it is a sign.
    Bin,
    /// `,`, `;`: a space after.
    Punct,
    Open,
    /// Function application and invisible times: nothing.
    Invisible,
    /// Everything else (`)`, `/`, `⋯`, `∑`, `′`): as it is.
    Ord,
}

fn op_kind(op: &str) -> OpKind {
    match op.trim() {
        "" | "\u{2061}" | "\u{2062}" | "\u{2063}" | "\u{2064}" => OpKind::Invisible,
        "=" | "≠" | "<" | ">" | "≤" | "≥" | "⩽" | "⩾" | "≦" | "≧" | "≈" | "≡" | "∼" | "≃" | "≅"
        | "∝" | "∈" | "∉" | "∋" | "⊂" | "⊆" | "⊃" | "⊇" | "→" | "←" | "↔" | "⇒" | "⇐" | "⇔"
        | "↦" | "≪" | "≫" | "≺" | "≻" | "⊥" | "∥" | "≔" | ":=" | "⟶" | "⟹" | "⟺" | "≐" | "≍"
        | "≜" => OpKind::Rel,
        "+" | "−" | "-" | "×" | "⋅" | "·" | "∗" | "*" | "÷" | "±" | "∓" | "∪" | "∩" | "∧" | "∨"
        | "⊕" | "⊗" | "∘" | "∖" | "mod" => OpKind::Bin,
        "," | ";" => OpKind::Punct,
        "(" | "[" | "{" | "⌊" | "⌈" | "⟨" => OpKind::Open,
        o if o.ends_with('\u{338}') => OpKind::Rel,
        _ => OpKind::Ord,
    }
}

/// Children of a row joined with the spacing a reader expects in running
/// text: `L = λ × W`, `−1`, `h(k, n)`, `1,800`.
fn row(kids: &[Node<'_, '_>], depth: usize) -> Option<Piece> {
    let mut pieces = Vec::with_capacity(kids.len());
    for k in kids {
        match node(*k, depth)? {
            // A one-element row (`{=}`, `\mathrel{…}`) is that element.
            Piece::Space("") => {}
            p => pieces.push(p),
        }
    }
    if let [one] = &pieces[..] {
        return Some(one.clone());
    }
    let mut html = String::new();
    let mut plain = true;
    let mut space_next = false;
    // The previous piece that wasn't a space: decides whether `−` is a sign.
    let mut prev: Option<&Piece> = None;
    let opens = pieces
        .first()
        .is_some_and(|p| matches!(p, Piece::Op(o) if op_kind(o) == OpKind::Open));
    let mut depth_zero_inside = false;
    let mut level = 0i32;
    for (i, p) in pieces.iter().enumerate() {
        match p {
            Piece::Space(s) => {
                if !html.ends_with(is_space) && !html.is_empty() {
                    html.push_str(s);
                }
                continue;
            }
            Piece::Op(o) => {
                let kind = op_kind(o);
                match o.trim() {
                    "(" | "[" | "{" | "⌊" | "⌈" | "⟨" => level += 1,
                    ")" | "]" | "}" | "⌋" | "⌉" | "⟩" => {
                        level -= 1;
                        if level == 0 && i + 1 < pieces.len() {
                            depth_zero_inside = true;
                        }
                    }
                    _ => {}
                }
                let sign = kind == OpKind::Bin
                    && match prev {
                        None => true,
                        Some(Piece::Op(q)) => matches!(
                            op_kind(q),
                            OpKind::Rel | OpKind::Bin | OpKind::Punct | OpKind::Open
                        ),
                        _ => false,
                    };
                match kind {
                    OpKind::Invisible => {}
                    OpKind::Rel | OpKind::Bin if !sign => {
                        // A line may break after an operator, never before
                        // it (a line starting "− 1" reads as a negative number).
                        if !html.is_empty() && !html.ends_with(is_space) {
                            html.push('\u{a0}');
                        }
                        html.push_str(&escape(o.trim()));
                        space_next = true;
                    }
                    OpKind::Punct => {
                        html.push_str(&escape(o.trim()));
                        space_next = true;
                    }
                    _ => {
                        if space_next {
                            push_space(&mut html);
                            space_next = false;
                        }
                        html.push_str(&escape(o.trim()));
                    }
                }
            }
            Piece::Atom(l) => {
                if space_next {
                    push_space(&mut html);
                }
                plain &= l.plain;
                // A fraction next to an operand: `(1/2)x`, not `1/2x`.
                let neighbour = |j: Option<usize>| {
                    j.and_then(|j| pieces.get(j))
                        .is_some_and(|q| matches!(q, Piece::Atom(_)))
                };
                let before = (0..i)
                    .rev()
                    .find(|&j| !matches!(pieces[j], Piece::Space(_)));
                let after = (i + 1..pieces.len()).find(|&j| !matches!(pieces[j], Piece::Space(_)));
                // `∑ᵢ wᵢ`: a large operator with its limits, then its operand.
                let large = l.html.starts_with(['∑', '∏', '∫', '∮', '⋃', '⋂']);
                if l.frac && (neighbour(before) || neighbour(after)) {
                    html.push('(');
                    html.push_str(&l.html);
                    html.push(')');
                } else {
                    html.push_str(&l.html);
                }
                space_next = large;
            }
        }
        prev = Some(p);
    }
    let closes = pieces.last().is_some_and(
        |p| matches!(p, Piece::Op(o) if matches!(o.trim(), ")" | "]" | "}" | "⌋" | "⌉" | "⟩")),
    );
    let mut l = Lin::compound(html, plain);
    // `(a + b)` as a whole is one operand.
    l.atomic = opens && closes && level == 0 && !depth_zero_inside;
    Some(Piece::Atom(l))
}

fn push_space(html: &mut String) {
    if !html.is_empty() && !html.ends_with(is_space) {
        html.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(tex: &str) -> String {
        linear(&to_mathml(tex, false).expect("parses")).unwrap_or_else(|| "<none>".into())
    }

    /// The linear form with no-break spaces as spaces and no italics.
    fn lin(tex: &str) -> String {
        exact(tex)
            .replace('\u{a0}', " ")
            .replace("<i>", "")
            .replace("</i>", "")
    }

    #[test]
    fn variables_in_italics_and_no_break_before_operators() {
        assert_eq!(
            exact(r"L = \lambda \times W"),
            "<i>L</i>\u{a0}= <i>λ</i>\u{a0}× <i>W</i>"
        );
        assert_eq!(exact(r"2^{64} - 1"), "2⁶⁴\u{a0}− 1");
        assert_eq!(exact(r"\Delta + \text{QPS}"), "Δ\u{a0}+ QPS");
        assert_eq!(exact(r"\mathrm{d}x"), "d<i>x</i>");
        assert_eq!(exact("A_k"), "<i>A</i><i><sub>k</sub></i>");
        assert_eq!(exact(r"T_{\text{hit}}"), "<i>T</i><sub>hit</sub>");
    }

    #[test]
    fn renders_and_keeps_source() {
        let m = to_mathml(r"\frac{a}{b} \le x^2", false).unwrap();
        assert!(
            m.starts_with("<math alttext=\"\\frac{a}{b} \\le x^2\""),
            "{m}"
        );
        assert!(m.contains("mfrac"), "{m}");
        assert!(to_mathml(r"\frac{a}{", false).is_none());
    }

    #[test]
    fn operators_are_escaped() {
        for tex in ["a < b", r"a \lt b", r"\&", "x > 0", r"a \le b < c"] {
            let x = to_xhtml(tex, false).unwrap();
            assert!(
                roxmltree::Document::parse(&format!("<p>{x}</p>")).is_ok(),
                "{tex}: {x}"
            );
        }
        assert_eq!(lin("a < b"), "a &lt; b");
    }

    #[test]
    fn powers_keep_their_meaning() {
        assert_eq!(lin("10^5"), "10⁵");
        assert_eq!(
            lin(r"62^7 \approx 3.5 \times 10^{12} \approx 2^{41.7}"),
            "62⁷ ≈ 3.5 × 10¹² ≈ 2^(41.7)"
        );
        assert_eq!(lin("a^k"), "a^k");
        assert_eq!(lin("2^{-1}"), "2⁻¹");
        assert_eq!(lin("{(a+b)}^2"), "(a + b)²");
        assert_eq!(lin(r"0.9995^3 \approx 99.85\%"), "0.9995³ ≈ 99.85%");
        assert_eq!(lin("e^{x+1}"), "e^(x + 1)");
        assert_eq!(lin("f'(x)"), "f′(x)");
    }

    #[test]
    fn fractions_roots_and_scripts() {
        assert_eq!(lin(r"\frac{1}{N+1}"), "1 / (N + 1)");
        assert_eq!(lin(r"\frac{a}{b}"), "a/b");
        assert_eq!(lin(r"\frac{1}{2}x"), "(1/2)x");
        assert_eq!(lin(r"1/\sqrt{V}"), "1/√V");
        assert_eq!(lin(r"\sqrt{x+1}"), "√(x + 1)");
        assert_eq!(
            lin(r"A_1 \times A_2 \times \cdots \times A_k"),
            "A₁ × A₂ × ⋯ × A<sub>k</sub>"
        );
        assert_eq!(
            lin(r"T_{\text{eff}} = T_{\text{hit}} + (1 - h) \times T_{\text{miss}}"),
            "T<sub>eff</sub> = T<sub>hit</sub> + (1 − h) × T<sub>miss</sub>"
        );
        assert_eq!(lin("a_{i+1}"), "a_(i + 1)");
        assert_eq!(lin(r"x_1^2"), "x₁²");
        assert_eq!(lin(r"\bar{x}"), "x\u{304}");
    }

    #[test]
    fn spacing_like_running_text() {
        assert_eq!(lin(r"L = \lambda \times W"), "L = λ × W");
        assert_eq!(lin("-1 + x"), "−1 + x");
        assert_eq!(lin("h(k, n)"), "h(k, n)");
        assert_eq!(lin("7{,}000"), "7,000");
        assert_eq!(lin("(0, 1]"), "(0, 1]");
        assert_eq!(
            lin(r"w_n / \sum_i w_i"),
            "w<sub>n</sub>/∑<sub>i</sub> w<sub>i</sub>"
        );
        assert_eq!(
            lin(r"1\,\text{Gbit/s} = 125\,\text{MB/s}"),
            "1 Gbit/s = 125 MB/s"
        );
        assert_eq!(lin(r"O(\log NV)"), "O(log NV)");
        assert_eq!(lin(r"(\ln N + 0.58)/N"), "(ln N + 0.58)/N");
    }

    #[test]
    fn the_synthetic_corpus_formulas() {
        assert_eq!(
            lin(r"p_{\text{fp}} \approx \left(1 - e^{-kn/m}\right)^{k}"),
            "p<sub>fp</sub> ≈ (1 − e^(−kn/m))^k"
        );
        assert_eq!(
            lin(r"A = \prod_{i=1}^{n} a_i"),
            "A = ∏_(i = 1)ⁿ a<sub>i</sub>"
        );
        assert_eq!(
            lin(r"\sum_{i=1}^{n} w_i = 1"),
            "∑_(i = 1)ⁿ w<sub>i</sub> = 1"
        );
        assert_eq!(lin(r"d = \lceil \log_2 n \rceil"), "d = ⌈log₂ n⌉");
        assert_eq!(
            lin(r"\rho = \frac{\lambda}{\mu}, \quad W_q = \frac{\rho}{\mu (1 - \rho)}"),
            "ρ = λ/µ,\u{2003}W<sub>q</sub> = ρ / (µ(1 − ρ))"
        );
        assert_eq!(
            lin(r"P(\text{all } k \text{ fail}) = p^{k}"),
            "P(all k fail) = p^k"
        );
    }

    #[test]
    fn what_it_cannot_say_it_leaves_to_the_tex() {
        assert_eq!(lin(r"\binom{n}{k}"), "<none>");
        assert_eq!(lin(r"\begin{matrix} a & b \end{matrix}"), "<none>");
        let x = to_xhtml(r"\binom{n}{k}", false).unwrap();
        assert!(
            x.contains(
                "<span class=\"math-alt\"><code class=\"math-source\">\\binom{n}{k}</code></span>"
            ),
            "{x}"
        );
    }

    #[test]
    fn xhtml_has_both_forms() {
        let x = to_xhtml("10^5", false).unwrap();
        assert!(
            x.starts_with("<span class=\"math-ml\"><math alttext=\"10^5\""),
            "{x}"
        );
        assert!(
            x.ends_with("</math></span><span class=\"math-alt\">10⁵</span>"),
            "{x}"
        );
        assert!(roxmltree::Document::parse(&format!("<p>{x}</p>")).is_ok());
    }

    proptest::proptest! {
        /// Any TeX pulldown-latex accepts gives well-formed XHTML with both forms.
        #[test]
        fn any_formula_gives_well_formed_xhtml(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "x", "10", "^", "_", "{", "}", r"\frac", r"\sqrt", r"\text{a b}", "+", "-",
                "=", "(", ")", ",", r"\,", r"\quad", r"\sum", r"\bar", r"\times", "'",
                r"\left(", r"\right)", r"\not=", r"\binom", "&", "<", r"\mathbb{R}",
            ]), 0..12)
        ) {
            let tex = parts.concat();
            if let Some(x) = to_xhtml(&tex, false) {
                let wrapped = format!("<p>{x}</p>");
                let doc = roxmltree::Document::parse(&wrapped);
                proptest::prop_assert!(doc.is_ok(), "{tex:?} -> {x}");
                proptest::prop_assert!(x.contains("<span class=\"math-alt\">"));
            }
        }
    }

    #[test]
    fn deep_nesting_gives_up_instead_of_overflowing() {
        let tex = format!("{}x{}", "{".repeat(200), "}".repeat(200));
        if let Some(m) = to_mathml(&tex, false) {
            let _ = linear(&m);
        }
    }
}
