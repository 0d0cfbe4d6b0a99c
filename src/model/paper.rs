//! The paper table: every print profile one row (page size, margins, type
//! size, the booklet it prints as), read by the PDF renderer, which hands it
//! to the layout template as numbers (the template looks nothing up by
//! name), and by booklet imposition for its sheet.
//!
//! The measure, size and leading are a book designer's: about 65-70
//! characters a line of Libertinus (45-75 is the range books use), the wider
//! outside margin carrying the thumb, the inside one the binding, and leading
//! opened up for the longer line. A4 and Letter take a larger size and wide
//! margins rather than a line of 110 characters.

use std::fmt;

use super::print::Paper;

/// A length as written in Typst, unit and all (`3.4cm`), so the template
/// gets exactly the value a literal in it would give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    Mm(f64),
    Cm(f64),
    In(f64),
    Pt(f64),
    Em(f64),
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Length::Mm(v) => write!(f, "{v}mm"),
            Length::Cm(v) => write!(f, "{v}cm"),
            Length::In(v) => write!(f, "{v}in"),
            Length::Pt(v) => write!(f, "{v}pt"),
            Length::Em(v) => write!(f, "{v}em"),
        }
    }
}

impl Length {
    /// In millimetres (an `em` has no absolute size: 0).
    pub const fn mm(self) -> f64 {
        match self {
            Length::Mm(v) => v,
            Length::Cm(v) => v * 10.0,
            Length::In(v) => v * 25.4,
            Length::Pt(v) => v * 25.4 / 72.0,
            Length::Em(_) => 0.0,
        }
    }
}

/// One paper profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub paper: Paper,
    /// Trimmed page, portrait.
    pub width: Length,
    pub height: Length,
    /// Margins for duplex printing: inside (the binding), outside (the
    /// thumb), top, bottom. They set the measure: about 65-70 characters a
    /// line of the body type (the shipped book's median full line: A4 69,
    /// Letter 70, A5 68, 6 × 9 67).
    pub inside: Length,
    pub outside: Length,
    pub top: Length,
    pub bottom: Length,
    /// Body type size, leading (the gap between lines) and paragraph spacing.
    pub size: Length,
    pub leading: Length,
    pub spacing: Length,
    /// Booklets: the half-size page laid out, and the sheet (landscape) two
    /// of them are imposed on.
    pub booklet: (Paper, Paper),
    /// Printed on both sides of the paper: left- and right-hand pages, a
    /// blank back to the cover, parts opening on the right. A screen shows
    /// one page at a time: none of that, and no page left blank.
    pub duplex: bool,
}

/// Every profile. A new paper is a row here, a variant of [`Paper`] (and of
/// the CLI's value enum), and its arm in [`Profile::of`].
pub const PROFILES: [Profile; 7] = [A4, LETTER, A5, SIX_BY_NINE, HALF_LETTER, EREADER, TABLET];

pub const A4: Profile = Profile {
    paper: Paper::A4,
    width: Length::Mm(210.0),
    height: Length::Mm(297.0),
    inside: Length::Cm(3.4),
    outside: Length::Cm(5.4),
    top: Length::Cm(2.6),
    bottom: Length::Cm(3.2),
    size: Length::Pt(12.0),
    leading: Length::Em(0.75),
    spacing: Length::Em(1.15),
    booklet: (Paper::A5, Paper::A4),
    duplex: true,
};

pub const LETTER: Profile = Profile {
    paper: Paper::Letter,
    width: Length::Mm(215.9),
    height: Length::Mm(279.4),
    inside: Length::In(1.4),
    outside: Length::In(2.2),
    top: Length::In(1.0),
    bottom: Length::In(1.25),
    size: Length::Pt(12.0),
    leading: Length::Em(0.75),
    spacing: Length::Em(1.15),
    booklet: (Paper::HalfLetter, Paper::Letter),
    duplex: true,
};

pub const A5: Profile = Profile {
    paper: Paper::A5,
    width: Length::Mm(148.0),
    height: Length::Mm(210.0),
    inside: Length::Cm(2.1),
    outside: Length::Cm(2.7),
    top: Length::Cm(1.8),
    bottom: Length::Cm(2.3),
    size: Length::Pt(10.0),
    leading: Length::Em(0.7),
    spacing: Length::Em(1.05),
    booklet: (Paper::A5, Paper::A4),
    duplex: true,
};

pub const SIX_BY_NINE: Profile = Profile {
    paper: Paper::SixByNine,
    width: Length::In(6.0),
    height: Length::In(9.0),
    inside: Length::In(0.9),
    outside: Length::In(1.2),
    top: Length::In(0.75),
    bottom: Length::In(0.95),
    size: Length::Pt(10.0),
    leading: Length::Em(0.7),
    spacing: Length::Em(1.05),
    // No 6 × 9 sheet stock: its booklets are A5 on A4.
    booklet: (Paper::A5, Paper::A4),
    duplex: true,
};

pub const HALF_LETTER: Profile = Profile {
    paper: Paper::HalfLetter,
    width: Length::In(5.5),
    height: Length::In(8.5),
    inside: Length::In(0.8),
    outside: Length::In(1.05),
    top: Length::In(0.7),
    bottom: Length::In(0.9),
    size: Length::Pt(9.5),
    leading: Length::Em(0.7),
    spacing: Length::Em(1.05),
    booklet: (Paper::HalfLetter, Paper::Letter),
    duplex: true,
};

/// A 6-7 inch e-reader: the page is the screen's 3:4 at its size (a 6.8"
/// Paperwhite shows 4.1 x 5.5 in), so the reader sees it without zooming;
/// even margins (no binding), 9.5 pt type for about 60 characters a line
/// (the shipped book's full lines), a paperback's measure on a screen held
/// at reading distance.
pub const EREADER: Profile = Profile {
    paper: Paper::Ereader,
    width: Length::Mm(104.0),
    height: Length::Mm(139.0),
    inside: Length::Mm(6.0),
    outside: Length::Mm(6.0),
    top: Length::Mm(8.0),
    bottom: Length::Mm(9.0),
    size: Length::Pt(9.5),
    leading: Length::Em(0.65),
    spacing: Length::Em(0.95),
    booklet: (Paper::A5, Paper::A4),
    duplex: false,
};

/// A 10-10.3 inch e-ink tablet: 157 x 210 mm, its screen's 3:4 at size
/// (reMarkable 2 and Boox Note Air 157 x 210 mm, Kindle Scribe 158 x
/// 210 mm); even 12 mm margins, 10.5 pt type for about 65 characters.
pub const TABLET: Profile = Profile {
    paper: Paper::Tablet,
    width: Length::Mm(157.0),
    height: Length::Mm(210.0),
    inside: Length::Mm(12.0),
    outside: Length::Mm(12.0),
    top: Length::Mm(12.0),
    bottom: Length::Mm(14.0),
    size: Length::Pt(10.5),
    leading: Length::Em(0.7),
    spacing: Length::Em(1.0),
    booklet: (Paper::A5, Paper::A4),
    duplex: false,
};

impl Profile {
    /// The row of `paper`.
    pub const fn of(paper: Paper) -> &'static Profile {
        match paper {
            Paper::A4 => &A4,
            Paper::Letter => &LETTER,
            Paper::A5 => &A5,
            Paper::SixByNine => &SIX_BY_NINE,
            Paper::HalfLetter => &HALF_LETTER,
            Paper::Ereader => &EREADER,
            Paper::Tablet => &TABLET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paper_has_its_own_row() {
        for row in &PROFILES {
            assert_eq!(Profile::of(row.paper), row);
        }
        assert_eq!(Length::Cm(3.4).to_string(), "3.4cm");
        assert_eq!(Length::In(1.0).to_string(), "1in");
        assert_eq!(Length::Mm(215.9).mm(), 215.9);
    }

    #[test]
    fn booklets_print_on_a4_or_letter_sheets() {
        for row in &PROFILES {
            let (page, sheet) = row.booklet;
            assert!(matches!(sheet, Paper::A4 | Paper::Letter), "{row:?}");
            // Two booklet pages side by side fill the sheet turned landscape.
            let (page, sheet) = (Profile::of(page), Profile::of(sheet));
            // (A5 is 148 mm wide, half of A4's 297 rounded down as ISO 216 does.)
            assert!(
                (2.0 * page.width.mm() - sheet.height.mm()).abs() <= 1.0,
                "{row:?}"
            );
            assert!((page.height.mm() - sheet.width.mm()).abs() < 1.0, "{row:?}");
        }
    }
}
