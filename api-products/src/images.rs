//! The product pictures this service draws and serves itself: SVG files from
//! `api-products/images/`, compiled into the binary so a deployment is one file.

/// Where the pictures are served, and how stored image paths begin.
pub const PREFIX: &str = "/images/";
/// The picture of a product created without one.
pub const PLACEHOLDER: &str = "placeholder.svg";

/// One embedded picture.
pub struct Image {
    pub file: &'static str,
    pub svg: &'static str,
}

macro_rules! embedded {
    ($($file:literal),* $(,)?) => {
        &[$(Image { file: $file, svg: include_str!(concat!("../images/", $file)) }),*]
    };
}

pub static ALL: &[Image] = embedded![
    "placeholder.svg",
    "stoneware-mug.svg",
    "pour-over-dripper.svg",
    "glass-teapot.svg",
    "house-blend-beans.svg",
    "linen-tea-towel.svg",
    "french-press.svg",
    "hand-coffee-grinder.svg",
    "espresso-cups.svg",
    "earl-grey-tin.svg",
    "oak-serving-board.svg",
    "beeswax-candle.svg",
    "gooseneck-kettle.svg",
    "wool-coasters.svg",
];

/// The picture named `file` (`stoneware-mug.svg`), if there is one.
pub fn find(file: &str) -> Option<&'static Image> {
    ALL.iter().find(|image| image.file == file)
}

/// The stored, host-relative path of a picture: `/images/<file>`.
pub fn path_of(file: &str) -> String {
    format!("{PREFIX}{file}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_picture_is_an_svg_document() {
        for image in ALL {
            assert!(image.svg.contains("<svg"), "{}", image.file);
            assert!(
                image.svg.contains("xmlns=\"http://www.w3.org/2000/svg\""),
                "{}",
                image.file
            );
            assert!(!image.svg.contains("<script"), "{}", image.file);
        }
        assert!(find(PLACEHOLDER).is_some());
    }
}
