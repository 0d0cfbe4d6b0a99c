//! Paper profiles as the layout template knows them, and the booklet each
//! one prints on.

use crate::model::print::Paper;
use crate::render::booklet::Sheet;

impl Paper {
    /// The template's name for the profile.
    pub(super) fn key(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
            Paper::A5 => "a5",
            Paper::SixByNine => "sixbynine",
            Paper::HalfLetter => "halfletter",
        }
    }

    /// Booklets: the half-size page and the landscape sheet two of them fill.
    pub fn booklet(self) -> (Paper, Sheet) {
        match self {
            Paper::Letter | Paper::HalfLetter => (Paper::HalfLetter, Sheet::LETTER),
            Paper::A4 | Paper::A5 | Paper::SixByNine => (Paper::A5, Sheet::A4),
        }
    }
}
