//! Binary resources: images (copied once, large rasters downscaled), the
//! generated cover, and the embedded monospace font.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::{DynamicImage, GrayImage, ImageFormat as Fmt, Luma};

use crate::error::{Error, Result};
use crate::model::{Book, Image, ImageFormat};

/// Longest side, in pixels, of raster images in the EPUB.
pub const MAX_IMAGE_PX: u32 = 1600;
pub const COVER_W: u32 = 1600;
pub const COVER_H: u32 = 2560;

/// typst-assets ships the fonts Quire bundles; indexes into `typst_assets::fonts()`.
const SERIF_REGULAR: usize = 0;
const SERIF_BOLD: usize = 1;
const MONO: usize = 16;

pub fn bundled_font(index: usize) -> Option<&'static [u8]> {
    typst_assets::fonts().nth(index)
}

pub fn mono_font() -> Option<&'static [u8]> {
    bundled_font(MONO)
}

/// The bytes to store for an image: as is, or downscaled if a raster is too large.
pub fn image_bytes(img: &Image) -> Result<Vec<u8>> {
    let bytes = std::fs::read(&img.path).map_err(|e| Error::io("read image", &img.path, e))?;
    if img.format == ImageFormat::Svg || img.width.max(img.height) <= MAX_IMAGE_PX {
        return Ok(bytes);
    }
    let fmt = match img.format {
        ImageFormat::Png => Fmt::Png,
        _ => Fmt::Jpeg,
    };
    let decoded = image::load_from_memory_with_format(&bytes, fmt)
        .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?;
    let small = decoded.resize(
        MAX_IMAGE_PX,
        MAX_IMAGE_PX,
        image::imageops::FilterType::Lanczos3,
    );
    let mut out = Cursor::new(Vec::new());
    match img.format {
        ImageFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
            small
                .to_rgb8()
                .write_with_encoder(enc)
                .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?;
        }
        _ => small
            .write_to(&mut out, Fmt::Png)
            .map_err(|e| Error::Internal(format!("{}: {e}", img.path.display())))?,
    }
    Ok(out.into_inner())
}

/// A typographic cover (greyscale PNG, 1600×2560) drawn from the book's metadata.
pub fn cover_png(book: &Book) -> Result<Vec<u8>> {
    let regular = bundled_font(SERIF_REGULAR)
        .and_then(|b| FontRef::try_from_slice(b).ok())
        .ok_or_else(|| Error::Internal("bundled serif font missing".into()))?;
    let bold = bundled_font(SERIF_BOLD)
        .and_then(|b| FontRef::try_from_slice(b).ok())
        .ok_or_else(|| Error::Internal("bundled serif font missing".into()))?;
    let mut img = GrayImage::from_pixel(COVER_W, COVER_H, Luma([255]));
    // A double frame and two rules: structure that reads on any screen.
    frame(&mut img, 80, 8);
    frame(&mut img, 110, 2);
    let margin = 200.0;
    let width = COVER_W as f32 - 2.0 * margin;
    let mut y = 620.0;
    rule(&mut img, y as u32 - 120, 6);
    for line in wrap(&bold, 150.0, &book.meta.title, width) {
        y += 170.0;
        draw_line(&mut img, &bold, 150.0, &line, y);
    }
    if let Some(sub) = &book.meta.subtitle {
        y += 60.0;
        for line in wrap(&regular, 80.0, sub, width) {
            y += 100.0;
            draw_line(&mut img, &regular, 80.0, &line, y);
        }
    }
    rule(&mut img, y as u32 + 110, 6);
    let mut by = COVER_H as f32 - 520.0;
    for line in wrap(&regular, 72.0, &book.meta.authors.join(", "), width) {
        draw_line(&mut img, &regular, 72.0, &line, by);
        by += 90.0;
    }
    let version = format!("Version {}", book.meta.version);
    draw_line(&mut img, &regular, 56.0, &version, COVER_H as f32 - 260.0);
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageLuma8(img)
        .write_to(&mut out, Fmt::Png)
        .map_err(|e| Error::Internal(format!("cover: {e}")))?;
    Ok(out.into_inner())
}

fn frame(img: &mut GrayImage, inset: u32, thick: u32) {
    let (w, h) = img.dimensions();
    for t in 0..thick {
        let (x0, y0, x1, y1) = (inset + t, inset + t, w - inset - t - 1, h - inset - t - 1);
        for x in x0..=x1 {
            img.put_pixel(x, y0, Luma([0]));
            img.put_pixel(x, y1, Luma([0]));
        }
        for y in y0..=y1 {
            img.put_pixel(x0, y, Luma([0]));
            img.put_pixel(x1, y, Luma([0]));
        }
    }
}

fn rule(img: &mut GrayImage, y: u32, thick: u32) {
    let w = img.width();
    for yy in y..(y + thick).min(img.height()) {
        for x in 300..w - 300 {
            img.put_pixel(x, yy, Luma([0]));
        }
    }
}

fn text_width(font: &FontRef<'_>, size: f32, text: &str) -> f32 {
    let f = font.as_scaled(PxScale::from(size));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            w += f.kern(p, id);
        }
        w += f.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Greedy word wrap to `width` pixels.
fn wrap(font: &FontRef<'_>, size: f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(font, size, &candidate) > width {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws one centred line with its baseline at `baseline`.
fn draw_line(img: &mut GrayImage, font: &FontRef<'_>, size: f32, text: &str, baseline: f32) {
    let scale = PxScale::from(size);
    let f = font.as_scaled(scale);
    let mut x = (img.width() as f32 - text_width(font, size, text)) / 2.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(x, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let px = b.min.x as i64 + i64::from(gx);
                let py = b.min.y as i64 + i64::from(gy);
                if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                    let p = img.get_pixel_mut(px as u32, py as u32);
                    let v = (f32::from(p.0[0]) * (1.0 - cov.clamp(0.0, 1.0))) as u8;
                    p.0[0] = v;
                }
            });
        }
        x += f.h_advance(id);
        prev = Some(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The font indexes above must keep pointing at the fonts we mean.
    #[test]
    fn bundled_fonts_are_the_expected_ones() {
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_be_bytes).collect() };
        let has = |font: &[u8], name: &str| {
            let n = utf16(name);
            font.windows(n.len()).any(|w| w == n.as_slice())
        };
        assert!(has(
            bundled_font(SERIF_REGULAR).unwrap(),
            "Libertinus Serif"
        ));
        assert!(has(bundled_font(SERIF_BOLD).unwrap(), "Bold"));
        assert!(has(mono_font().unwrap(), "DejaVu Sans Mono"));
    }
}
