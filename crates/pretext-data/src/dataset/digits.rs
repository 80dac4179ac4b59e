//! scikit-learn's 8x8 handwritten digits (`sklearn/datasets/data/digits.csv.gz`):
//! a CSV without header, gzipped or plain, one image a line: 64 pixel values in
//! 0..=16 (row-major), then the label 0..=9 as the last column.
//!
//! Pixels are scaled to 0..=255 as `round(v * 255 / 16)`.
use std::path::Path;

use super::ImageDataset;
use super::read::read_all;
use crate::DataError;

/// Side of a digit image.
const SIDE: usize = 8;
/// Pixel values per line.
const PIXELS: usize = SIDE * SIDE;
/// The largest pixel value.
const MAX_VALUE: f32 = 16.0;
/// Number of classes.
const CLASSES: u32 = 10;

/// Reads the digits at `path`, keeping the first `limit` images.
pub(crate) fn load(path: &Path, limit: Option<usize>) -> Result<ImageDataset, DataError> {
    let bytes = read_all(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| DataError::format(path, format!("the file is not utf-8 text: {e}")))?;
    let limit = limit.unwrap_or(usize::MAX);
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    for (i, line) in lines {
        if labels.len() >= limit {
            break;
        }
        let at = |reason: String| DataError::format(path, format!("line {}: {reason}", i + 1));
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != PIXELS + 1 {
            return Err(at(format!(
                "expected {} comma-separated values, found {}",
                PIXELS + 1,
                fields.len()
            )));
        }
        for (column, field) in fields[..PIXELS].iter().enumerate() {
            let v = field
                .parse::<f32>()
                .ok()
                .filter(|v| (0.0..=MAX_VALUE).contains(v))
                .ok_or_else(|| {
                    at(format!(
                        "column {}: pixel value '{field}' is not a number in 0..=16",
                        column + 1
                    ))
                })?;
            pixels.push((v * 255.0 / MAX_VALUE).round() as u8);
        }
        let field = fields[PIXELS];
        let label = field
            .parse::<f32>()
            .ok()
            .filter(|v| v.fract() == 0.0 && (0.0..CLASSES as f32).contains(v))
            .ok_or_else(|| at(format!("label '{field}' is not an integer in 0..=9")))?;
        labels.push(label as u32);
    }
    let names = (0..CLASSES).map(|c| c.to_string()).collect();
    ImageDataset::new(pixels, (1, SIDE, SIDE), Some(labels), names, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGITS: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/digits/digits.csv.gz"
    );

    #[test]
    fn the_committed_digits_load() {
        let data = load(Path::new(DIGITS), None).unwrap();
        assert_eq!(data.len(), 1797);
        assert_eq!(data.shape(), (1, 8, 8));
        assert_eq!(data.num_classes(), Some(10));
        assert_eq!(data.label(0), Some(0));
        assert_eq!(data.label(1), Some(1));
        // The first line starts 0,0,5,13: round(5 * 255 / 16) = 80, round(13 * 255 / 16) = 207.
        assert_eq!(&data.image(0)[..4], &[0, 0, 80, 207]);
        assert!(data.image(1).contains(&255)); // the second line holds a 16
        assert_eq!(load(Path::new(DIGITS), Some(5)).unwrap().len(), 5);
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("digits.csv");
        let good = format!("{}16,3\n", "0,".repeat(PIXELS - 1));
        std::fs::write(&path, format!("{good}{}\n", "1,".repeat(PIXELS - 1))).unwrap();
        let err = load(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: line 2: expected 65 comma-separated values, found 64",
                path.display()
            )
        );
        std::fs::write(&path, format!("{good}17,{}4\n", "0,".repeat(PIXELS - 1))).unwrap();
        let err = load(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: line 2: column 1: pixel value '17' is not a number in 0..=16",
                path.display()
            )
        );
        std::fs::write(&path, format!("{}10\n", "0,".repeat(PIXELS))).unwrap();
        let err = load(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: line 1: label '10' is not an integer in 0..=9",
                path.display()
            )
        );
        std::fs::write(&path, format!("{good}\n\n{good}")).unwrap();
        let data = load(&path, None).unwrap();
        assert_eq!(data.labels(), Some(&[3, 3][..]));
        assert_eq!(data.image(0)[63], 255);
        std::fs::write(&path, "\n\n").unwrap();
        let err = load(&path, None).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("{}: the dataset holds no images", path.display())
        );
    }
}
