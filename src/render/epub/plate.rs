//! Plates: a figure whose labels a phone's column shrinks past reading gets a
//! page of its own (a non-linear spine item, one tap from the figure) where it
//! fills the screen, quarter-turned when it is landscape — as print books set
//! a wide figure sideways. Nothing pans: paginated engines turn the page on a
//! sideways swipe and e-ink readers don't scroll, so the plate always fits.

use crate::model::{Image, ImageFormat};

/// A phone's text column (a 360 px screen less margins) and the height a
/// plate's image box gets on a 640 px screen (`.plate-figure svg`, 80vh).
const PHONE_COLUMN: f32 = 344.0;
const PHONE_BOX: f32 = 512.0;
/// Text smaller than this in CSS px is hard to read on a phone.
const LEGIBLE_PX: f32 = 9.0;
/// A raster this much wider than the column has detail the column loses.
const RASTER_DETAIL: f32 = 2.0 * PHONE_COLUMN;
/// A plate must enlarge the figure at least this much to be worth a tap.
const MIN_GAIN: f32 = 1.3;

/// How a figure's plate shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Landscape figure: turned a quarter (top to the left) on portrait screens.
    pub turn: bool,
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
    let turn = w > h;
    let fit = if turn {
        (PHONE_BOX / w).min(PHONE_COLUMN / h)
    } else {
        (PHONE_COLUMN / w).min(PHONE_BOX / h)
    };
    // A raster is not enlarged past its own pixels; a vector may be.
    let fit = if img.format == ImageFormat::Svg {
        fit
    } else {
        fit.min(1.0)
    };
    (fit / in_flow >= MIN_GAIN).then_some(Plan { turn })
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
        assert_eq!(plan(&d), Some(Plan { turn: true }));
    }

    #[test]
    fn readable_or_textless_figures_stay_in_the_flow() {
        assert_eq!(plan(&img(ImageFormat::Svg, 400, 300, Some(14.0))), None);
        assert_eq!(plan(&img(ImageFormat::Svg, 1000, 560, None)), None);
        assert_eq!(plan(&img(ImageFormat::Png, 600, 400, None)), None);
        // A tall diagram gains nothing from a page of its own at the same width.
        assert_eq!(plan(&img(ImageFormat::Svg, 800, 2000, Some(12.0))), None);
    }

    #[test]
    fn wide_rasters_get_a_plate_but_are_not_blown_up() {
        assert_eq!(
            plan(&img(ImageFormat::Png, 1600, 900, None)),
            Some(Plan { turn: true })
        );
        // 700 px: turned, the plate shows it at 512/700, 1.5 times the column's 344/700.
        assert_eq!(
            plan(&img(ImageFormat::Png, 700, 300, None)),
            Some(Plan { turn: true })
        );
    }
}
