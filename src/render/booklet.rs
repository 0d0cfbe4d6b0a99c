//! Study booklets: a part's half-size PDF (A5, or half-letter) imposed two-up
//! on landscape sheets (A4, or Letter) in saddle-stitch order. Print the file
//! double-sided, flipping on the short edge, fold each signature in the
//! middle, nest the signatures in order, staple or sew: the pages come out in
//! reading order.
//!
//! The finished part PDF is placed, page by page, as vector graphics by Typst
//! (`image("/part.pdf", page: n)`); nothing is typeset a second time.

use std::fmt::Write as _;

use crate::model::paper::{self, Profile};

/// How a booklet is laid out on its sheets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BookletOptions {
    /// Most sheets folded together; longer parts become several signatures
    /// (a fold of more than ~8 sheets of office paper no longer closes).
    pub signature: usize,
    /// Fold marks at the spine, and trim marks at the fore-edge when there is creep.
    pub marks: bool,
    /// Creep (shingling) compensation per sheet, in millimetres: each sheet
    /// further inside a signature moves its pages this much more towards the
    /// fold, so the fore-edge margin stays even after folding and trimming.
    /// About the paper's thickness (0.1 mm for 80 g/m² office paper).
    pub creep_mm: f64,
}

impl Default for BookletOptions {
    fn default() -> Self {
        Self {
            signature: 8,
            marks: false,
            creep_mm: 0.0,
        }
    }
}

/// One printed side of a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// Source pages (1-based) on the left and right half; `None` is blank.
    pub left: Option<usize>,
    pub right: Option<usize>,
    /// Sheet index inside its signature, 0 for the outermost sheet.
    pub depth: usize,
    /// Sheets in this side's signature.
    pub sheets: usize,
    pub front: bool,
}

/// Every sheet side in print order for `pages` source pages. The page count
/// is padded with blank pages at the end to a multiple of 4; sheets are
/// shared out evenly over as few signatures as `signature` allows.
pub fn sides(pages: usize, signature: usize) -> Vec<Side> {
    let sheets_total = pages.div_ceil(4).max(1);
    let signature = signature.max(1);
    let count = sheets_total.div_ceil(signature);
    let (base, extra) = (sheets_total / count, sheets_total % count);
    let mut out = Vec::with_capacity(sheets_total * 2);
    let mut first = 1; // first source page of the current signature
    for s in 0..count {
        let sheets = base + usize::from(s < extra);
        let last = first + 4 * sheets - 1;
        let page = |n: usize| (n <= pages).then_some(n);
        for depth in 0..sheets {
            // Outermost sheet: last | first on the front, second | second-last behind.
            out.push(Side {
                left: page(last - 2 * depth),
                right: page(first + 2 * depth),
                depth,
                sheets,
                front: true,
            });
            out.push(Side {
                left: page(first + 2 * depth + 1),
                right: page(last - 2 * depth - 1),
                depth,
                sheets,
                front: false,
            });
        }
        first = last + 1;
    }
    out
}

/// Sheet size in millimetres (landscape: width > height).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sheet {
    pub width_mm: f64,
    pub height_mm: f64,
}

impl Sheet {
    pub const A4: Sheet = Sheet::landscape(&paper::A4);
    pub const LETTER: Sheet = Sheet::landscape(&paper::LETTER);

    /// A paper of the table (`model::paper`) turned landscape.
    pub const fn landscape(p: &Profile) -> Sheet {
        Sheet {
            width_mm: p.height.mm(),
            height_mm: p.width.mm(),
        }
    }
}

/// How far in from a sheet's edge its marks start: office printers cannot
/// print the outer 4-5 mm.
pub const MARK_EDGE_MM: f64 = 6.0;

/// Typst markup that imposes the PDF served at `/part.pdf` (`pages` pages).
pub fn markup(pages: usize, sheet: Sheet, opts: &BookletOptions) -> String {
    let (w, h) = (sheet.width_mm, sheet.height_mm);
    let half = w / 2.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "#set page(width: {w}mm, height: {h}mm, margin: 0pt)\n\
         #let cell(n, dx) = place(top + left, dx: dx * 1mm, image(\"/part.pdf\", page: n, width: {half}mm, height: {h}mm))\n\
         #let tick(x, y, dx, dy) = place(top + left, line(start: (x * 1mm, y * 1mm), end: ((x + dx) * 1mm, (y + dy) * 1mm), stroke: 0.3pt + black))"
    );
    for (i, side) in sides(pages, opts.signature).iter().enumerate() {
        if i > 0 {
            out.push_str("#pagebreak()\n");
        }
        let shift = opts.creep_mm * side.depth as f64;
        if let Some(n) = side.left {
            let _ = writeln!(out, "#cell({n}, {shift})");
        }
        if let Some(n) = side.right {
            let _ = writeln!(out, "#cell({n}, {})", half - shift);
        }
        if opts.marks {
            // Office printers leave the outer few millimetres of a sheet
            // blank: every mark starts MARK_EDGE_MM in.
            let (top, bottom) = (MARK_EDGE_MM, h - MARK_EDGE_MM);
            // Fold: short lines on the spine, outside the type area.
            let _ = writeln!(
                out,
                "#tick({half}, {top}, 0, 6)\n#tick({half}, {bottom}, 0, -6)"
            );
            // Trim: where the fore-edges are cut once the signature is
            // folded. The cut takes at least what the inner sheets stick out
            // by, and never less than MARK_EDGE_MM (a fore-edge margin is
            // wider), so the mark is printed.
            let trim = opts.creep_mm * side.sheets.saturating_sub(1) as f64;
            if trim > 0.0 {
                let cut = trim.max(MARK_EDGE_MM);
                for x in [cut, w - cut] {
                    let _ = writeln!(out, "#tick({x}, {top}, 0, 6)\n#tick({x}, {bottom}, 0, -6)");
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(pages: usize, signature: usize) -> Vec<(Option<usize>, Option<usize>)> {
        sides(pages, signature)
            .iter()
            .map(|s| (s.left, s.right))
            .collect()
    }

    #[test]
    fn four_pages_on_one_sheet() {
        assert_eq!(order(4, 8), vec![(Some(4), Some(1)), (Some(2), Some(3))]);
    }

    #[test]
    fn eight_pages_nest_two_sheets() {
        assert_eq!(
            order(8, 8),
            vec![
                (Some(8), Some(1)),
                (Some(2), Some(7)),
                (Some(6), Some(3)),
                (Some(4), Some(5)),
            ]
        );
    }

    #[test]
    fn padding_is_blank_pages_at_the_end() {
        // 6 pages → 8: pages 7 and 8 are blank, on the outer sheet's back/front.
        assert_eq!(
            order(6, 8),
            vec![
                (None, Some(1)),
                (Some(2), None),
                (Some(6), Some(3)),
                (Some(4), Some(5)),
            ]
        );
    }

    #[test]
    fn long_parts_split_into_even_signatures() {
        // 40 pages = 10 sheets; at most 8 per signature → two of 5 sheets.
        let s = sides(40, 8);
        assert_eq!(s.len(), 20);
        assert!(s.iter().all(|x| x.sheets == 5));
        assert_eq!((s[0].left, s[0].right), (Some(20), Some(1)));
        assert_eq!((s[10].left, s[10].right), (Some(40), Some(21)));
        // Every page appears exactly once.
        let mut seen: Vec<usize> = s.iter().flat_map(|x| [x.left, x.right]).flatten().collect();
        seen.sort();
        assert_eq!(seen, (1..=40).collect::<Vec<_>>());
    }

    #[test]
    fn creep_moves_inner_sheets_towards_the_fold() {
        let opts = BookletOptions {
            signature: 8,
            marks: true,
            creep_mm: 0.5,
        };
        let m = markup(8, Sheet::A4, &opts);
        // Outer sheet unshifted, inner sheet 0.5 mm towards the spine.
        assert!(m.contains("#cell(8, 0)"), "{m}");
        assert!(m.contains("#cell(1, 148.5)"), "{m}");
        assert!(m.contains("#cell(6, 0.5)"), "{m}");
        assert!(m.contains("#cell(3, 148)"), "{m}");
        // Marks stay clear of the edge an office printer cannot print:
        // the fold ticks and, with 0.5 mm creep on a 2-sheet signature,
        // the trim ticks 6 mm in (the cut takes 6 mm, more than 0.5).
        assert!(m.contains("#tick(148.5, 6, 0, 6)"), "{m}");
        assert!(m.contains("#tick(148.5, 204, 0, -6)"), "{m}");
        assert!(
            m.contains("#tick(6, 6, 0, 6)") && m.contains("#tick(291, 204, 0, -6)"),
            "{m}"
        );
        for line in m.lines().filter(|l| l.starts_with("#tick(")) {
            let nums: Vec<f64> = line["#tick(".len()..line.len() - 1]
                .split(", ")
                .map(|n| n.parse().expect("number"))
                .collect();
            let (x, y) = (nums[0], nums[1]);
            assert!(
                (6.0..=291.0).contains(&x) && (6.0..=204.0).contains(&y),
                "{line}"
            );
        }
    }
}
