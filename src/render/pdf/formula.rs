//! Formulas typeset one by one for the Kindle file's images: the PDFs' own
//! TeX → Typst conversion, fonts and math font, 12 pt like the A4 text, on
//! a white page just big enough. Rendered to SVG by typst-svg (glyphs as
//! outlines, no live text); the EPUB side draws it as a PNG.

use rayon::prelude::*;
use typst::foundations::Datetime;
use typst::layout::{Abs, Frame, FrameItem};
use typst_layout::PagedDocument;

use super::Fonts;
use super::math::tex_to_typst;
use super::world::{ImageStore, QuireWorld, main_source};

/// The text size formulas are set at: an image's em is this many points.
pub const SIZE_PT: f64 = 12.0;

/// One typeset formula.
#[derive(Debug, Clone)]
pub struct Formula {
    pub svg: String,
    /// Page size in points.
    pub width: f64,
    pub height: f64,
    /// The baseline from the top, in points (inline formulas; display
    /// formulas stand alone).
    pub baseline: f64,
}

/// Each (TeX, display) typeset, in parallel; `None` where the TeX does not
/// convert or Typst refuses it.
pub fn typeset(fonts: &Fonts, formulas: &[(String, bool)]) -> Vec<Option<Formula>> {
    formulas
        .par_iter()
        .map(|(tex, display)| one(fonts, tex, *display))
        .collect()
}

fn one(fonts: &Fonts, tex: &str, display: bool) -> Option<Formula> {
    let m = tex_to_typst(tex)?;
    // A marker right after an inline formula sits on its line's baseline.
    // A block equation, inline style for an inline formula: in a paragraph,
    // a formula's height would not count (its line is the text's).
    let body = if display {
        format!("$ {m} $")
    } else {
        format!("$ inline({m}) $")
    };
    let markup = format!(
        "#set page(width: auto, height: auto, margin: 1.5pt, fill: white)\n\
         #set text(font: (\"Libertinus Serif\", \"New Computer Modern\"), size: {SIZE_PT}pt)\n\
         #show math.equation: set text(font: (\"Libertinus Math\", \"New Computer Modern Math\"))\n\
         {body}\n"
    );
    let images = ImageStore::empty();
    let today = Datetime::from_ymd(2000, 1, 1)?;
    let world = QuireWorld::new(fonts, &images, main_source(markup), &[], today);
    let doc = typst::compile::<PagedDocument>(&world).output.ok()?;
    let page = doc.pages().first()?;
    let size = page.frame.size();
    let baseline = baseline(&page.frame, Abs::zero()).map_or(size.y.to_pt() * 0.75, Abs::to_pt);
    Some(Formula {
        svg: typst_svg::svg(page, &typst_svg::SvgOptions::default()),
        width: size.x.to_pt(),
        height: size.y.to_pt(),
        baseline,
    })
}

/// The baseline of the first frame in `frame` that has one (the equation's).
fn baseline(frame: &Frame, top: Abs) -> Option<Abs> {
    for (pos, item) in frame.items() {
        if let FrameItem::Group(g) = item {
            let y = top + pos.y + g.transform.ty;
            if g.frame.has_baseline() {
                return Some(y + g.frame.baseline());
            }
            if let Some(b) = baseline(&g.frame, y) {
                return Some(b);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fraction_keeps_its_height_and_baseline() {
        let fonts = Fonts::load(&[]);
        let f = one(&fonts, r"h = \frac{hits}{hits + misses}", false).expect("typeset");
        eprintln!("{} x {} baseline {}", f.width, f.height, f.baseline);
        // Taller than a line of 12 pt text, the baseline inside it.
        assert!(f.height > 16.0, "{f:?}");
        assert!(f.baseline > 3.0 && f.baseline < f.height - 2.0, "{f:?}");
        assert!(!f.svg.contains("<text"), "glyphs are outlines");
    }
}
