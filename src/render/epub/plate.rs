//! Plates: a figure whose labels a phone's column shrinks past reading gets a
//! page of its own (a non-linear spine item, one tap from the figure) where it
//! fills the screen, quarter-turned when it is landscape — as print books set
//! a wide figure sideways. Nothing pans: paginated engines turn the page on a
//! sideways swipe and e-ink readers don't scroll, so the plate always fits.

use crate::model::{Image, ImageFormat};

/// A phone's text column and the height of a plate's image box on it, in CSS
/// px: a 360×640 screen less an engine's margins (foliate-js leaves ~310 px
/// across) and the plate's caption lines (`.plate`, 82vh), a little under
/// what engines give so that the text comes out at least as large as planned.
const PHONE_COLUMN: f32 = 300.0;
const PHONE_BOX: f32 = 460.0;
/// Text smaller than this in CSS px is hard to read on a phone.
const LEGIBLE_PX: f32 = 9.0;
/// The scale at which a raster keeps every pixel on a phone or e-reader
/// screen (2 device pixels per CSS pixel or more); a raster wider than the
/// column at this scale loses detail there.
const RASTER_SCALE: f32 = 0.5;
const RASTER_DETAIL: f32 = PHONE_COLUMN / RASTER_SCALE;
/// A plate must enlarge the figure at least this much to be worth a tap.
const MIN_GAIN: f32 = 1.3;

/// How a figure's plate shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Shown turned a quarter (top to the left): the figure is bigger that way
    /// on a phone's page (a wide figure).
    pub turn: bool,
    /// When even the whole figure on a page is too small to read on a phone:
    /// overlapping parts of it, each on a page of its own, large enough.
    pub details: Vec<Detail>,
}

/// A part of a figure, in its intrinsic pixels, and whether it is shown turned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detail {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
    pub turn: bool,
}

impl Detail {
    /// The `viewBox` of an inline SVG showing this part, and the transform of
    /// the whole image inside it (a quarter turn, top to the left, when turned).
    pub fn view(&self) -> (String, String) {
        let n = |v: f32| format!("{}", (v * 100.0).round() / 100.0);
        if self.turn {
            // (x, y) -> (y - y0, x0 + w - x): the part's top edge on the left.
            (
                format!("0 0 {} {}", n(self.height), n(self.width)),
                format!(
                    "translate({} {}) rotate(-90)",
                    n(-self.y),
                    n(self.x + self.width)
                ),
            )
        } else {
            (
                format!(
                    "{} {} {} {}",
                    n(self.x),
                    n(self.y),
                    n(self.width),
                    n(self.height)
                ),
                String::new(),
            )
        }
    }
}

/// Neighbouring details share this fraction of their size (context across the cut).
const OVERLAP: f32 = 0.1;
/// At most this many details across and down.
const MAX_SPLIT: u32 = 3;

/// The scale at which a `w`×`h` picture fits the phone's plate box, and
/// whether it is turned for that.
fn fit(w: f32, h: f32) -> (f32, bool) {
    let upright = (PHONE_COLUMN / w).min(PHONE_BOX / h);
    let turned = (PHONE_BOX / w).min(PHONE_COLUMN / h);
    if turned > upright {
        (turned, true)
    } else {
        (upright, false)
    }
}

/// Whether `img` needs a plate, and how it is shown there.
pub fn plan(img: &Image) -> Option<Plan> {
    let (w, h) = (img.width as f32, img.height as f32);
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    let in_flow = (PHONE_COLUMN / w).min(1.0);
    match (img.format, img.text_px) {
        (_, Some(t)) if t * in_flow >= LEGIBLE_PX => return None,
        (ImageFormat::Svg, None) => return None,
        (_, None) if w <= RASTER_DETAIL => return None,
        _ => {}
    }
    let vector = img.format == ImageFormat::Svg;
    // A raster is not enlarged past its own pixels; a vector may be.
    let cap = |s: f32| if vector { s } else { s.min(1.0) };
    let (whole, turn) = fit(w, h);
    let whole = cap(whole);
    // The scale the text needs (a raster: all of its pixels).
    let needed = match img.text_px {
        Some(t) => LEGIBLE_PX / t,
        None => RASTER_SCALE,
    };
    let details = if whole < needed {
        details(w, h, needed, &cap)
    } else {
        Vec::new()
    };
    (whole / in_flow >= MIN_GAIN || !details.is_empty()).then_some(Plan { turn, details })
}

/// The fewest overlapping parts (up to 3×3) each shown at `needed` scale or
/// more; the closest split when none reaches it.
fn details(w: f32, h: f32, needed: f32, cap: &dyn Fn(f32) -> f32) -> Vec<Detail> {
    let span = |n: u32, len: f32| {
        if n == 1 {
            len
        } else {
            (len / n as f32 * (1.0 + OVERLAP)).min(len)
        }
    };
    let mut best: Option<(u32, u32, f32)> = None;
    let mut splits: Vec<(u32, u32)> = (1..=MAX_SPLIT)
        .flat_map(|c| (1..=MAX_SPLIT).map(move |r| (c, r)))
        .filter(|&(c, r)| c * r > 1)
        .collect();
    splits.sort_by_key(|&(c, r)| (c * r, c.abs_diff(r)));
    for (c, r) in splits {
        let scale = cap(fit(span(c, w), span(r, h)).0);
        if best.is_none_or(|(_, _, s)| scale > s + 0.01) {
            best = Some((c, r, scale));
        }
        if scale >= needed {
            best = Some((c, r, scale));
            break;
        }
    }
    let Some((c, r, _)) = best else {
        return Vec::new();
    };
    let (tw, th) = (span(c, w), span(r, h));
    let step = |n: u32, len: f32, t: f32, i: u32| {
        if n == 1 {
            0.0
        } else {
            (len - t) * i as f32 / (n - 1) as f32
        }
    };
    let turn = fit(tw, th).1;
    (0..r)
        .flat_map(|j| (0..c).map(move |i| (i, j)))
        .map(|(i, j)| Detail {
            x: step(c, w, tw, i),
            y: step(r, h, th, j),
            width: tw,
            height: th,
            turn,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn img(format: ImageFormat, width: u32, height: u32, text_px: Option<f32>) -> Image {
        Image {
            path: PathBuf::new(),
            rel: String::new(),
            format,
            width,
            height,
            text_px,
        }
    }

    #[test]
    fn small_labels_on_a_wide_diagram_get_a_turned_plate() {
        // The shipped diagrams: 1000 px wide, 13 px labels (4.5 px on a phone).
        let d = img(ImageFormat::Svg, 1000, 560, Some(13.0));
        let p = plan(&d).expect("a plate");
        assert!(p.turn);
        // Turned whole it shows 13 px at 0.46: 6.0 px. Three overlapping
        // upright strips (367×560) show it at 0.82: 10.6 px.
        assert_eq!(p.details.len(), 3);
        let last = p.details[2];
        assert!((last.x + last.width - 1000.0).abs() < 0.01 && last.height == 560.0);
        assert!(fit(last.width, last.height).0 * 13.0 >= LEGIBLE_PX);
        // The strips cover the figure and overlap.
        assert!(p.details[1].x < p.details[0].width);
    }

    #[test]
    fn readable_or_textless_figures_stay_in_the_flow() {
        assert_eq!(plan(&img(ImageFormat::Svg, 400, 300, Some(14.0))), None);
        assert_eq!(plan(&img(ImageFormat::Svg, 1000, 560, None)), None);
        assert_eq!(plan(&img(ImageFormat::Png, 600, 400, None)), None);
        // A diagram small enough for the column, however tall, stays.
        assert_eq!(plan(&img(ImageFormat::Svg, 300, 2000, Some(11.0))), None);
    }

    #[test]
    fn a_tall_diagram_with_small_text_is_shown_in_parts() {
        // The column already shows it whole and upright: no turned whole view
        // is bigger, but parts are.
        let p = plan(&img(ImageFormat::Svg, 800, 1200, Some(12.0))).expect("a plate");
        assert!(!p.turn && p.details.len() >= 2);
        for d in &p.details {
            assert!(fit(d.width, d.height).0 * 12.0 >= LEGIBLE_PX, "{d:?}");
        }
    }

    #[test]
    fn wide_rasters_get_a_plate_but_are_not_blown_up() {
        let p = plan(&img(ImageFormat::Png, 1600, 900, None)).expect("a plate");
        assert!(p.turn);
        // Whole and turned: 0.29. Two halves (880×900) reach 0.34, three
        // strips (587×900) upright 0.51: every pixel on a 2× screen.
        assert_eq!(p.details.len(), 3);
        // 700 px: turned, the plate shows it at 460/700 = 0.66, past 0.5: no details.
        let p = plan(&img(ImageFormat::Png, 700, 300, None)).expect("a plate");
        assert!(p.turn && p.details.is_empty());
    }
}
