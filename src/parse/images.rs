//! Local images: resolved inside the content folder, validated and measured once.
//! Fetched remote images join the same list (see `remote`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{Image, ImageFormat};

/// Decoding budget per image: enough for a 50-megapixel photo, not for a decompression bomb.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug)]
pub struct Images {
    root: PathBuf,
    root_canon: Option<PathBuf>,
    pub list: Vec<Image>,
    by_path: BTreeMap<PathBuf, usize>,
}

impl Images {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            root_canon: root.canonicalize().ok(),
            list: Vec::new(),
            by_path: BTreeMap::new(),
        }
    }

    /// Adds the image at `rel` (relative to the content root); returns its index.
    pub fn add(&mut self, rel: &str) -> Result<usize, String> {
        let path = self.root.join(rel);
        let canon = match path.canonicalize() {
            Ok(c) => c,
            Err(_) => return Err("file not found".into()),
        };
        if let Some(root) = &self.root_canon
            && !canon.starts_with(root)
        {
            return Err(
                "resolves outside the content folder (through a symlink?): copy the image into it"
                    .into(),
            );
        }
        if let Some(&i) = self.by_path.get(&canon) {
            return Ok(i);
        }
        let ext = canon
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let format = match ext.as_str() {
            "png" => ImageFormat::Png,
            "jpg" | "jpeg" => ImageFormat::Jpeg,
            "gif" => ImageFormat::Gif,
            "webp" => ImageFormat::Webp,
            "svg" => ImageFormat::Svg,
            _ => return Err("unsupported format: use PNG, JPEG, GIF, WebP or SVG".into()),
        };
        let bytes = std::fs::read(&canon).map_err(|e| format!("cannot read: {e}"))?;
        let m = measure(&bytes, format)?;
        let i = self.list.len();
        self.list.push(Image {
            path: canon.clone(),
            rel: rel.to_string(),
            format,
            width: m.width,
            height: m.height,
            text_px: m.text_px,
        });
        self.by_path.insert(canon, i);
        Ok(i)
    }

    /// Adds a fetched remote image (already validated); returns its index.
    /// Two URLs with the same bytes share one cached file and one image.
    pub fn add_fetched(&mut self, image: Image) -> usize {
        if let Some(&i) = self.by_path.get(&image.path) {
            return i;
        }
        let i = self.list.len();
        self.by_path.insert(image.path.clone(), i);
        self.list.push(image);
        i
    }
}

/// The format of image bytes from their signature (never from a file name or
/// a Content-Type header); SVG when they parse as XML with an `<svg>` root.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        let text = std::str::from_utf8(bytes).ok()?;
        let doc = parse_svg(text.trim_start_matches('\u{feff}')).ok()?;
        (doc.root_element().tag_name().name() == "svg").then_some(ImageFormat::Svg)
    }
}

/// What measuring an image found: its intrinsic size in pixels and, for an
/// SVG with text, the smallest text size in pixels at that size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub width: u32,
    pub height: u32,
    pub text_px: Option<f32>,
}

/// Validates image bytes of a known format (decoding rasters whole, refusing
/// active SVG content) and measures them; an SVG is parsed once for all of it.
pub fn measure(bytes: &[u8], format: ImageFormat) -> Result<Measured, String> {
    match format {
        ImageFormat::Svg => {
            let text = std::str::from_utf8(bytes).map_err(|_| "SVG is not UTF-8 text")?;
            let doc = parse_svg(text.trim_start_matches('\u{feff}'))?;
            let (width, height) = svg_size(&doc)?;
            Ok(Measured {
                width,
                height,
                text_px: svg_text_px(&doc, width),
            })
        }
        _ => raster_size(bytes, format).map(|(width, height)| Measured {
            width,
            height,
            text_px: None,
        }),
    }
}

/// An SVG's smallest text size in pixels at its intrinsic `width`; `None`
/// without text. Font sizes come from `font-size` attributes, `style`
/// declarations and `<style>` sheets (px, pt, em, %; inherited), scaled by
/// ancestors' `scale`/`matrix` transforms and by the viewBox.
fn svg_text_px(doc: &roxmltree::Document<'_>, width: u32) -> Option<f32> {
    let view_width = view_box(doc.root_element())
        .map(|(w, _)| w)
        .unwrap_or(f64::from(width));
    // Sizes set by a style sheet apply to some text somewhere: count the smallest.
    let sheet_min = doc
        .descendants()
        .filter(|n| n.has_tag_name("style"))
        .filter_map(|n| n.text())
        .flat_map(declared_sizes)
        .map(|s| s.px(16.0))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
    let mut min: Option<f64> = None;
    for node in doc.descendants().filter(|n| {
        n.is_element()
            && matches!(n.tag_name().name(), "text" | "tspan" | "textPath")
            && n.children()
                .any(|c| c.is_text() && !c.text().unwrap_or("").trim().is_empty())
    }) {
        let mut chain: Vec<_> = node.ancestors().filter(|n| n.is_element()).collect();
        chain.reverse();
        let (mut size, mut scale) = (16.0_f64, 1.0_f64);
        for n in chain {
            if let Some(s) = own_size(n) {
                size = s.px(size);
            }
            if let Some(t) = n.attribute("transform") {
                scale *= transform_scale(t);
            }
        }
        let px = size * scale;
        min = Some(min.map_or(px, |m| m.min(px)));
    }
    let min = min?;
    let min = sheet_min.map_or(min, |s| min.min(s));
    let px = min * f64::from(width) / view_width;
    (px.is_finite() && px > 0.0).then_some(px as f32)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FontSize {
    Px(f64),
    /// Relative to the inherited size (em and %).
    Factor(f64),
}

impl FontSize {
    fn px(self, inherited: f64) -> f64 {
        match self {
            Self::Px(v) => v,
            Self::Factor(f) => f * inherited,
        }
    }

    fn parse(v: &str) -> Option<Self> {
        let v = v.trim().trim_end_matches("!important").trim();
        let num = |s: &str| s.trim().parse::<f64>().ok().filter(|x| *x > 0.0);
        if let Some(n) = v.strip_suffix("px") {
            num(n).map(Self::Px)
        } else if let Some(n) = v.strip_suffix("pt") {
            num(n).map(|x| Self::Px(x * 4.0 / 3.0))
        } else if let Some(n) = v.strip_suffix("em") {
            num(n).map(Self::Factor)
        } else if let Some(n) = v.strip_suffix('%') {
            num(n).map(|x| Self::Factor(x / 100.0))
        } else {
            num(v).map(Self::Px)
        }
    }
}

/// An element's own font size: its `style` declaration wins over the attribute.
fn own_size(n: roxmltree::Node<'_, '_>) -> Option<FontSize> {
    n.attribute("style")
        .and_then(|s| declared_sizes(s).last().copied())
        .or_else(|| n.attribute("font-size").and_then(FontSize::parse))
        .or_else(|| n.attribute("font").and_then(font_shorthand_size))
}

/// `font-size: …` (and the size in a `font: …` shorthand) declarations in CSS text.
fn declared_sizes(css: &str) -> Vec<FontSize> {
    css.split(['{', '}', ';'])
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "font-size" => FontSize::parse(value),
                "font" => font_shorthand_size(value),
                _ => None,
            }
        })
        .collect()
}

/// The size in `font: italic bold 12px/1.2 sans-serif`: the first word with a unit.
fn font_shorthand_size(v: &str) -> Option<FontSize> {
    v.split_whitespace()
        .map(|w| w.split('/').next().unwrap_or(w))
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
        .find_map(FontSize::parse)
}

/// How much a `transform` list scales lengths (the square root of the area factor).
fn transform_scale(t: &str) -> f64 {
    let mut scale = 1.0;
    let mut rest = t;
    while let Some(open) = rest.find('(') {
        let name = rest[..open].trim().trim_start_matches(',').trim();
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        let args: Vec<f64> = rest[open + 1..open + close]
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        let factor = match (name, args.as_slice()) {
            ("scale", [s]) => s.abs(),
            ("scale", [sx, sy, ..]) => (sx * sy).abs().sqrt(),
            ("matrix", [a, b, c, d, ..]) => (a * d - b * c).abs().sqrt(),
            _ => 1.0,
        };
        if factor > 0.0 && factor.is_finite() {
            scale *= factor;
        }
        rest = &rest[open + close + 1..];
    }
    scale
}

/// Decodes the whole image (so a corrupt file is caught by `check`, not by a renderer).
fn raster_size(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
    reader.set_format(decoder_format(format));
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("not a valid {} image ({e}): re-export it", fmt_name(format)))?;
    Ok((img.width(), img.height()))
}

/// The `image` crate's decoder for a raster format.
pub fn decoder_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Webp => image::ImageFormat::WebP,
        _ => image::ImageFormat::Jpeg,
    }
}

pub fn fmt_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Gif => "GIF",
        ImageFormat::Webp => "WebP",
        ImageFormat::Svg => "SVG",
    }
}

/// Parses SVG XML. A `<!DOCTYPE svg PUBLIC …>` line is common (Graphviz,
/// Inkscape) and harmless; entity declarations are refused (entity expansion
/// is the one thing a DTD could do to us).
fn parse_svg(text: &str) -> Result<roxmltree::Document<'_>, String> {
    if text.contains("<!ENTITY") {
        return Err("SVG declares XML entities: remove the DTD's entity declarations".into());
    }
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| format!("not a valid SVG ({e})"))
}

/// The width and height of an SVG's viewBox, when it has a valid one.
fn view_box(root: roxmltree::Node<'_, '_>) -> Option<(f64, f64)> {
    let n: Vec<f64> = root
        .attribute("viewBox")?
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (n.len() == 4 && n[2] > 0.0 && n[3] > 0.0).then(|| (n[2], n[3]))
}

/// HTML elements a diagram label is made of (draw.io writes `div`, `span`,
/// `font`, `b`, `i`, `u`, `br`): text and its style, nothing that acts or loads.
const LABEL_HTML: [&str; 15] = [
    "div", "span", "p", "br", "b", "i", "u", "s", "em", "strong", "font", "sub", "sup", "code",
    "strike",
];

/// A `<foreignObject>` that is a diagram's label, not active content:
/// draw.io (diagrams.net) writes each label twice in a `<switch>`, as HTML
/// in a `<foreignObject>` and as SVG `<text>` after it, and a viewer shows
/// the first it can (the rustc-dev-guide's `rustc_stages.svg`). Accepted
/// when an SVG fallback follows it and its HTML is only text and style
/// (scripts and event handlers are refused everywhere, here too).
fn is_label_with_fallback(node: roxmltree::Node<'_, '_>) -> bool {
    node.parent_element()
        .is_some_and(|p| p.tag_name().name() == "switch")
        && node.next_sibling_element().is_some()
        && node
            .descendants()
            .filter(|n| n.is_element())
            .skip(1)
            .all(|n| LABEL_HTML.contains(&n.tag_name().name()))
}

/// Reads an SVG's size from width/height, else its viewBox; refuses active content.
fn svg_size(doc: &roxmltree::Document<'_>) -> Result<(u32, u32), String> {
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err("not an SVG (root element is not <svg>)".into());
    }
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        if name == "script" || (name == "foreignObject" && !is_label_with_fallback(node)) {
            return Err(format!(
                "SVG contains <{name}>: remove it (books carry no active content)"
            ));
        }
        if let Some(a) = node.attributes().find(|a| a.name().starts_with("on")) {
            return Err(format!(
                "SVG has an event handler '{}': remove it",
                a.name()
            ));
        }
    }
    let dim = |name: &str| -> Option<f64> {
        let v = root.attribute(name)?.trim();
        let v = v.strip_suffix("px").unwrap_or(v);
        v.parse::<f64>().ok().filter(|x| *x > 0.0)
    };
    let vb = view_box(root);
    let (w, h) = match (dim("width"), dim("height"), vb) {
        (Some(w), Some(h), _) => (w, h),
        (Some(w), None, Some((vw, vh))) => (w, w * vh / vw),
        (None, Some(h), Some((vw, vh))) => (h * vw / vh, h),
        (_, _, Some(v)) => v,
        // The CSS default size of a replaced element.
        _ => (300.0, 150.0),
    };
    Ok((w.round().max(1.0) as u32, h.round().max(1.0) as u32))
}

#[cfg(test)]
mod svg_tests {
    use super::*;

    #[test]
    fn doctype_accepted_entities_refused() {
        let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"/>";
        let size = |s: &str| measure(s.as_bytes(), ImageFormat::Svg).map(|m| (m.width, m.height));
        assert_eq!(size(dtd), Ok((40, 20)));
        assert_eq!(sniff(dtd.as_bytes()), Some(ImageFormat::Svg));
        let bomb = "<!DOCTYPE svg [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><svg xmlns=\"http://www.w3.org/2000/svg\">&b;</svg>";
        assert!(size(bomb).unwrap_err().contains("entities"));
    }

    fn px(svg: &str) -> Option<f32> {
        measure(svg.as_bytes(), ImageFormat::Svg).ok()?.text_px
    }

    #[test]
    fn a_diagram_label_with_an_svg_fallback_is_no_active_content() {
        let size = |s: &str| measure(s.as_bytes(), ImageFormat::Svg).map(|m| (m.width, m.height));
        let svg = |inner: &str| {
            format!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><switch>{inner}</switch></svg>"#
            )
        };
        let label = r#"<foreignObject width="100%" height="100%" requiredFeatures="http://www.w3.org/TR/SVG11/feature#Extensibility"><div xmlns="http://www.w3.org/1999/xhtml"><div>Stage<br/>0</div></div></foreignObject>"#;
        let fallback = r#"<text x="1" y="10">Stage 0</text>"#;
        assert_eq!(size(&svg(&format!("{label}{fallback}"))), Ok((40, 20)));
        // Without the SVG text after it, or holding more than text, it is refused.
        assert!(size(&svg(label)).unwrap_err().contains("foreignObject"));
        let form = label.replace("<br/>", "<input/>");
        assert!(
            size(&svg(&format!("{form}{fallback}")))
                .unwrap_err()
                .contains("foreignObject")
        );
        let handler = label.replace("<br/>", "<br onload=\"x()\"/>");
        assert!(
            size(&svg(&format!("{handler}{fallback}")))
                .unwrap_err()
                .contains("onload")
        );
        let outside = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">{label}{fallback}</svg>"#
        );
        assert!(size(&outside).unwrap_err().contains("foreignObject"));
    }

    #[test]
    fn smallest_text_size() {
        // Attribute, inherited, overridden in style, scaled by the viewBox.
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="500" viewBox="0 0 1000 500" font-size="16">
            <text x="0" y="10">big</text><g font-size="13"><text>small</text></g>
            <text style="font-size: 20px">styled</text></svg>"#;
        assert_eq!(px(svg), Some(6.5));
        // em against the parent, a scale transform, pt.
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
            <g font-size="20"><text font-size="0.5em">a</text></g>
            <g transform="translate(5 5) scale(2)"><text font-size="9pt">b</text></g></svg>"#;
        assert_eq!(px(svg), Some(10.0));
        // A style sheet's sizes count; default 16 px when nothing says.
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
            <style>.l { font: bold 11px/1.2 sans-serif }</style><text class="l">x</text></svg>"#;
        assert_eq!(px(svg), Some(11.0));
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><text>x</text></svg>"#;
        assert_eq!(px(svg), Some(16.0));
        // No text (or only whitespace) and rasters: nothing to read.
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><text> </text><rect width="5" height="5"/></svg>"#;
        assert_eq!(px(svg), None);
    }
}
