//! Paper profiles as the layout template gets them: a row of the paper
//! table (`model::paper`) written out as Typst values, and the booklet each
//! profile prints as.

use crate::model::paper::Profile;
use crate::model::print::Paper;
use crate::render::booklet::Sheet;

impl Paper {
    /// A short name, for keys (the Typst sources kept per paper).
    pub(super) fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
            Paper::A5 => "a5",
            Paper::SixByNine => "sixbynine",
            Paper::HalfLetter => "halfletter",
            Paper::Ereader => "ereader",
            Paper::Tablet => "tablet",
        }
    }

    /// Booklets: the half-size page and the landscape sheet two of them
    /// fill, from the profile's row.
    pub fn booklet(self) -> (Paper, Sheet) {
        let (page, sheet) = Profile::of(self).booklet;
        (page, Sheet::landscape(Profile::of(sheet)))
    }
}

/// The template's arguments for a profile: its page size, margins and type
/// scale as Typst values (`page-size: (width: 210mm, height: 297mm), …`).
pub(super) fn template_args(p: &Profile) -> String {
    format!(
        "page-size: (width: {}, height: {}), margins: (inside: {}, outside: {}, top: {}, bottom: {}), type-scale: (size: {}, leading: {}, spacing: {}), duplex: {}",
        p.width,
        p.height,
        p.inside,
        p.outside,
        p.top,
        p.bottom,
        p.size,
        p.leading,
        p.spacing,
        p.duplex
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_gets_the_row_as_typst_values() {
        assert_eq!(
            template_args(Profile::of(Paper::Letter)),
            "page-size: (width: 215.9mm, height: 279.4mm), margins: (inside: 1.4in, outside: 2.2in, top: 1in, bottom: 1.25in), type-scale: (size: 12pt, leading: 0.75em, spacing: 1.15em), duplex: true"
        );
    }

    #[test]
    fn booklets_take_their_sheet_from_the_table() {
        assert_eq!(Paper::A4.booklet(), (Paper::A5, Sheet::A4));
        assert_eq!(Paper::SixByNine.booklet(), (Paper::A5, Sheet::A4));
        assert_eq!(Paper::Letter.booklet(), (Paper::HalfLetter, Sheet::LETTER));
        assert_eq!(Sheet::A4.width_mm, 297.0);
        assert_eq!(Sheet::LETTER.height_mm, 215.9);
    }
}
