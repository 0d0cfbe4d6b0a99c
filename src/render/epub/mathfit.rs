//! How wide a display formula is, roughly, so that a page too narrow for it
//! shows its text form (which wraps) instead of MathML (which can't): a
//! formula is never cut at the page edge nor hidden in a sideways scroll that
//! paginated readers can't scroll.

use super::math;

/// Formulas narrower than this (em) fit every page Quire aims at (a 360 px
/// phone leaves about 20 em, the estimate may be a little short); wider ones
/// get a width class.
const NARROWEST: u32 = 15;
/// Width classes step by this many em; `book.css` has one media rule per step.
const STEP: u32 = 5;
/// The widest class `book.css` knows; anything wider uses it.
const WIDEST: u32 = 80;

/// ` math-wide math-w25`-style classes for a display formula at least 15 em wide (its
/// estimated width rounded up to a 5 em step), or `""`.
pub fn width_class(tex: &str) -> String {
    let Some(mathml) = math::to_mathml(tex, true) else {
        return String::new();
    };
    let Some(em) = estimate_em(&mathml) else {
        return String::new();
    };
    if em < f64::from(NARROWEST) {
        return String::new();
    }
    let step = (em / f64::from(STEP)).ceil() as u32 * STEP;
    format!(" math-wide math-w{}", step.min(WIDEST))
}

/// Estimated width in em of a MathML fragment: token glyphs at typical
/// advances, operator spacing, scripts at 70 %, fractions as wide as their
/// wider part. Errs wide (a formula that would fit merely shows as text).
pub fn estimate_em(mathml: &str) -> Option<f64> {
    let doc = roxmltree::Document::parse(mathml).ok()?;
    // 15 % more than the sum: MathML's own spacing and wider glyphs than
    // text (bold, script letters); erring wide only shows a formula as text.
    Some(width(doc.root_element(), 0) * 1.15)
}

/// Deeper than this the estimate stops descending (formulas nest by braces).
const MAX_DEPTH: usize = 64;

fn text_em(s: &str) -> f64 {
    s.chars()
        .map(|c| match c {
            ' ' | '\u{a0}' | '\u{2009}' | '\u{2006}' => 0.28,
            'i' | 'j' | 'l' | 't' | 'f' | 'r' | '.' | ',' | ':' | ';' | '!' | '|' | '\'' => 0.32,
            'm' | 'w' | 'M' | 'W' => 0.85,
            c if c.is_ascii_uppercase() => 0.68,
            _ => 0.52,
        })
        .sum()
}

fn width(n: roxmltree::Node<'_, '_>, depth: usize) -> f64 {
    if depth > MAX_DEPTH {
        return 0.0;
    }
    let kids = || n.children().filter(|c| c.is_element());
    let sum = |d: usize| kids().map(|c| width(c, d)).sum::<f64>();
    let nth = |i: usize| kids().nth(i).map_or(0.0, |c| width(c, depth + 1));
    let text = || n.text().unwrap_or("").trim().to_string();
    match n.tag_name().name() {
        "mi" | "mn" | "mtext" | "ms" => text_em(&text()),
        // Relations and binary operators carry thick/medium space on both sides.
        "mo" => {
            let t = text();
            let spaced =
                t.chars().count() == 1 && "=<>≤≥≈≠≡∼→←⇒⇔+−-×·÷±∈∉⊂⊆∪∩".contains(t.as_str());
            text_em(&t) + if spaced { 0.5 } else { 0.1 }
        }
        "mspace" => n
            .attribute("width")
            .and_then(|w| w.trim_end_matches("em").parse().ok())
            .unwrap_or(0.3),
        "mfrac" => nth(0).max(nth(1)) + 0.3,
        "msub" | "msup" => nth(0) + 0.7 * nth(1) + 0.1,
        "msubsup" => nth(0) + 0.7 * nth(1).max(nth(2)) + 0.1,
        "munder" | "mover" => nth(0).max(0.7 * nth(1)),
        "munderover" => nth(0).max(0.7 * nth(1)).max(0.7 * nth(2)),
        "msqrt" => sum(depth + 1) + 1.0,
        "mroot" => nth(0) + 0.6 * nth(1) + 1.0,
        "mtable" => kids().map(|row| width(row, depth + 1)).fold(0.0, f64::max),
        "annotation" | "annotation-xml" => 0.0,
        "semantics" => nth(0),
        _ => sum(depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_formulas_get_no_class_wide_ones_a_step() {
        assert_eq!(width_class(r"E = mc^2"), "");
        assert_eq!(width_class(r"\frac{a}{b}"), "");
        // The formula issue 13 saw 284 px past a phone's edge (~38 em wide).
        let wide = r"T_{\text{first byte}} \approx T_{\text{DNS}} + \text{RTT}_{\text{TCP}} + \text{RTT}_{\text{TLS}} + \text{RTT}_{\text{HTTP}} + T_{\text{server}} \approx 50 + 90 + 90 + 90 + 20 = 340\,\text{ms}";
        let class = width_class(wide);
        let em: u32 = class
            .trim()
            .strip_prefix("math-wide math-w")
            .and_then(|n| n.parse().ok())
            .expect("a width class");
        assert!((40..=50).contains(&em), "{class}");
        // A fraction is as wide as its wider part, not the sum.
        let frac = estimate_em(&math::to_mathml(r"\frac{aaaaaaaaaa}{b}", true).unwrap()).unwrap();
        let flat = estimate_em(&math::to_mathml(r"aaaaaaaaaa b", true).unwrap()).unwrap();
        assert!(frac < flat, "{frac} vs {flat}");
        assert_eq!(width_class(r"\frac{a}{"), "", "unparsable TeX: no class");
        assert_eq!(
            width_class(&format!("{}x", "x + ".repeat(200))).trim(),
            "math-wide math-w80",
            "capped at the widest class"
        );
    }
}
