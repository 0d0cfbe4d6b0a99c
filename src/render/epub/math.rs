//! TeX math → MathML (pulldown-latex), with the TeX kept as alttext.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};

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
    // alttext gives assistive technology and old readers the source.
    let alt = format!("<math alttext=\"{}\"", escape(tex.trim()));
    // XHTML has no named `&nbsp;` entity; use the numeric reference.
    Some(out.replacen("<math", &alt, 1).replace("&nbsp;", "&#160;"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
