//! A folder of PNG or JPEG images: labelled as `root/<class>/*.png` (the
//! classes are the sorted subfolder names, a label is the class's index), or
//! unlabelled as `root/*.png`. Files are sorted, so the order is the same on
//! every machine; names starting with `.` are skipped.
//!
//! Images are converted to grey (`luma8`) or RGB (`rgb8`), resized with a
//! triangle filter when a size is set, and stored channel-first.
use std::path::{Path, PathBuf};

use ::image::imageops::{self, FilterType};
use ::image::{ImageDecoder, ImageReader};
use rayon::prelude::*;

use super::ImageDataset;
use crate::{DataError, memory};

/// File extensions read, compared without case.
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];
/// Images decoded in parallel at a time: memory stays near the final size.
const CHUNK: usize = 256;

/// How to read an image folder; see [`super::DatasetConfig::ImageFolder`].
pub(crate) struct FolderOptions {
    /// Whether the images sit in one subfolder per class.
    pub labelled: bool,
    /// 1 (grey) or 3 (RGB); `None`: 3 if any image has colour, else 1.
    pub channels: Option<usize>,
    /// `[height, width]` every image is resized to; `None`: all must share one size.
    pub size: Option<[u32; 2]>,
    /// Keep the first `limit` images (in sorted order).
    pub limit: Option<usize>,
    /// Class folders left out (labelled folders only).
    pub exclude: Vec<String>,
}

/// Reads the images under `root`.
pub(crate) fn load(root: &Path, options: &FolderOptions) -> Result<ImageDataset, DataError> {
    if let Some(c) = options.channels
        && c != 1
        && c != 3
    {
        return Err(DataError::Invalid(format!(
            "image folder `channels` must be 1 or 3, got {c}"
        )));
    }
    if let Some([h, w]) = options.size
        && (h == 0 || w == 0)
    {
        return Err(DataError::Invalid(format!(
            "image folder `size` must be positive, got [{h}, {w}]"
        )));
    }

    if !options.labelled && !options.exclude.is_empty() {
        return Err(DataError::Invalid(
            "image folder `exclude` leaves out class folders; it needs `labelled = true`".into(),
        ));
    }
    let mut skipped = 0;
    let (mut files, class_names) = if options.labelled {
        labelled_files(root, &options.exclude, &mut skipped)?
    } else {
        let files = image_files(root, &mut skipped)?;
        if files.is_empty() {
            return Err(DataError::format(
                root,
                "holds no png or jpeg images directly (images in class subfolders need `labelled = true`)",
            ));
        }
        (files.into_iter().map(|f| (f, 0)).collect(), Vec::new())
    };
    if let Some(limit) = options.limit {
        if limit == 0 {
            return Err(DataError::Invalid(
                "`limit` must be at least 1, got 0".into(),
            ));
        }
        files.truncate(limit);
    }

    // First pass: headers only, to choose channels and size before decoding.
    let headers = in_order(files.par_iter().map(|(f, _)| header(f)).collect())?;
    let channels = options
        .channels
        .unwrap_or(if headers.iter().any(|h| h.colour) {
            3
        } else {
            1
        });
    let (height, width) = match options.size {
        Some([h, w]) => (h, w),
        None => {
            let first = &headers[0];
            if let Some((i, h)) = headers
                .iter()
                .enumerate()
                .find(|(_, h)| (h.width, h.height) != (first.width, first.height))
            {
                return Err(DataError::format(
                    &files[i].0,
                    format!(
                        "image is {}x{} (height x width) but {} is {}x{}; set `size` to resize every image",
                        h.height,
                        h.width,
                        files[0].0.display(),
                        first.height,
                        first.width
                    ),
                ));
            }
            (first.height, first.width)
        }
    };

    // Sizes before allocation, against the budget read once: each image
    // decoding (its pixels as stored and as converted) on every thread at
    // once, then the dataset whole.
    if let Some(budget) = memory::budget() {
        let share = 0.5 / rayon::current_num_threads().max(1) as f64;
        for ((file, _), h) in files.iter().zip(&headers) {
            let full = f64::from(h.width) * f64::from(h.height);
            let decoding = h.bytes as f64 + full * channels as f64;
            budget.allows(decoding, share).map_err(|why| {
                DataError::format(
                    file,
                    format!("a {}x{} image: decoding it {why}", h.height, h.width),
                )
            })?;
        }
        let stored = files.len() as f64 * channels as f64 * f64::from(height) * f64::from(width);
        budget.allows(stored, 0.5).map_err(|why| {
            let key = if options.size.is_some() { "`size`" } else { "`limit` or `size`" };
            DataError::format(
                root,
                format!(
                    "{} images of {channels}x{height}x{width}: storing them {why}; set {key} to read fewer or smaller images",
                    files.len()
                ),
            )
        })?;
    }

    let converted = match channels {
        3 => headers.iter().filter(|h| !h.colour).count(),
        _ => 0,
    };

    // Second pass: decode, convert, resize, a chunk at a time in parallel.
    let mut pixels = Vec::new();
    for chunk in files.chunks(CHUNK) {
        let decoded = chunk
            .par_iter()
            .map(|(f, _)| decode(f, channels, height, width))
            .collect();
        for image in in_order(decoded)? {
            pixels.extend_from_slice(&image);
        }
    }
    let labels = options
        .labelled
        .then(|| files.iter().map(|&(_, l)| l).collect());
    Ok(ImageDataset::new(
        pixels,
        (channels, height as usize, width as usize),
        labels,
        class_names,
        root,
    )?
    .with_skipped_files(skipped)
    .with_converted_grey(converted))
}

/// An error naming `root` when `exclude` names a class folder that is not
/// among `names`, the folders `root` holds.
pub(crate) fn check_exclude(
    root: &Path,
    exclude: &[String],
    names: &[String],
) -> Result<(), DataError> {
    let unknown: Vec<String> = exclude
        .iter()
        .filter(|e| !names.contains(e))
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(DataError::format(
        root,
        format!(
            "`exclude` names {} but the class folders are {}",
            crate::listed(&unknown),
            crate::listed(names)
        ),
    ))
}

/// The images of every class subfolder of `root` but those in `exclude`,
/// with their labels, and the class names. Files that are not images are
/// counted in `skipped`.
#[allow(clippy::type_complexity)]
fn labelled_files(
    root: &Path,
    exclude: &[String],
    skipped: &mut usize,
) -> Result<(Vec<(PathBuf, u32)>, Vec<String>), DataError> {
    let (folders, files): (Vec<PathBuf>, Vec<PathBuf>) =
        sorted_entries(root)?.into_iter().partition(|p| p.is_dir());
    *skipped += files.len();
    let names: Vec<String> = folders.iter().map(|p| file_name(p)).collect();
    check_exclude(root, exclude, &names)?;
    let classes: Vec<PathBuf> = folders
        .into_iter()
        .filter(|p| !exclude.contains(&file_name(p)))
        .collect();
    if classes.is_empty() {
        return Err(DataError::format(
            root,
            "holds no class subfolders (set `labelled = false` for a flat folder of images)",
        ));
    }
    if let [one] = classes.as_slice() {
        return Err(DataError::format(
            root,
            format!(
                "holds one class folder ({}): a labelled folder needs two classes or more \
                 (set `labelled = false` to read its images without labels)",
                file_name(one)
            ),
        ));
    }
    let mut files = Vec::new();
    let mut names = Vec::with_capacity(classes.len());
    for (label, dir) in classes.iter().enumerate() {
        let images = image_files(dir, skipped)?;
        if images.is_empty() {
            return Err(DataError::format(
                dir,
                "class folder holds no png or jpeg images",
            ));
        }
        files.extend(images.into_iter().map(|f| (f, label as u32)));
        names.push(file_name(dir));
    }
    Ok((files, names))
}

/// The sorted PNG and JPEG files directly in `dir`; other files are counted
/// in `skipped` (folders are not: a labelled root's class folders sit there).
fn image_files(dir: &Path, skipped: &mut usize) -> Result<Vec<PathBuf>, DataError> {
    let mut images = Vec::new();
    for p in sorted_entries(dir)? {
        if p.is_dir() {
            continue;
        }
        if !p.is_file() {
            // A broken link, a socket, a device: nothing to read.
            *skipped += 1;
            continue;
        }
        let image = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)));
        if image {
            images.push(p);
        } else {
            *skipped += 1;
        }
    }
    Ok(images)
}

/// The entries of `dir` whose names do not start with `.`, sorted by name.
pub(crate) fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))? {
        let path = entry.map_err(|e| DataError::io(dir, e))?.path();
        if !file_name(&path).starts_with('.') {
            entries.push(path);
        }
    }
    entries.sort();
    Ok(entries)
}

/// The last component of `path`, lossily as UTF-8 (empty when there is none).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// What the first pass learns from an image's header.
struct Header {
    width: u32,
    height: u32,
    colour: bool,
    /// Bytes of its pixels decoded as stored.
    bytes: u64,
}

/// Reads the header of the image at `path` without decoding its pixels.
fn header(path: &Path) -> Result<Header, DataError> {
    let decoder = reader(path)?
        .into_decoder()
        .map_err(|e| DataError::format(path, format!("cannot decode image: {e}")))?;
    let (width, height) = decoder.dimensions();
    Ok(Header {
        width,
        height,
        colour: decoder.color_type().has_color(),
        bytes: decoder.total_bytes(),
    })
}

/// Decodes the image at `path` to `channels` channels of `height x width`,
/// channel-first.
fn decode(path: &Path, channels: usize, height: u32, width: u32) -> Result<Vec<u8>, DataError> {
    let image = reader(path)?
        .decode()
        .map_err(|e| DataError::format(path, format!("cannot decode image: {e}")))?;
    Ok(if channels == 1 {
        let grey = fit(image.into_luma8(), height, width);
        grey.into_raw()
    } else {
        let rgb = fit(image.into_rgb8(), height, width).into_raw();
        // Interleaved RGBRGB... to planes RR..GG..BB...
        let mut planar = vec![0u8; rgb.len()];
        let plane = rgb.len() / 3;
        for (i, px) in rgb.chunks_exact(3).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                planar[c * plane + i] = v;
            }
        }
        planar
    })
}

/// `image` resized to `height x width` when it has another size.
fn fit<P: ::image::Pixel + 'static>(
    image: ::image::ImageBuffer<P, Vec<P::Subpixel>>,
    height: u32,
    width: u32,
) -> ::image::ImageBuffer<P, Vec<P::Subpixel>> {
    if image.dimensions() == (width, height) {
        image
    } else {
        imageops::resize(&image, width, height, FilterType::Triangle)
    }
}

/// An image reader for `path` that picks the format from the bytes; a
/// zero-byte file is an error.
fn reader(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, e))?
        .len();
    if len == 0 {
        return Err(DataError::format(path, "the file is empty"));
    }
    ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| DataError::io(path, e))
}

/// The values in order, or the first error in file order (not the first to
/// happen on some thread), so messages do not depend on scheduling.
fn in_order<T>(results: Vec<Result<T, DataError>>) -> Result<Vec<T>, DataError> {
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::image::{GrayImage, Luma, Rgb, RgbImage};

    fn options(labelled: bool) -> FolderOptions {
        FolderOptions {
            labelled,
            channels: None,
            size: None,
            limit: None,
            exclude: Vec::new(),
        }
    }

    fn grey(path: &Path, w: u32, h: u32, v: u8) {
        GrayImage::from_pixel(w, h, Luma([v])).save(path).unwrap();
    }

    /// Two classes of 4x3 grey PNGs: `cat` holds 2, `dog` holds 1.
    fn two_classes() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for class in ["dog", "cat"] {
            std::fs::create_dir(dir.path().join(class)).unwrap();
        }
        grey(&dir.path().join("cat/b.png"), 4, 3, 20);
        grey(&dir.path().join("cat/a.png"), 4, 3, 10);
        grey(&dir.path().join("dog/z.png"), 4, 3, 30);
        std::fs::write(dir.path().join("cat/notes.txt"), "not an image").unwrap();
        std::fs::write(dir.path().join("README"), "ignored").unwrap();
        dir
    }

    #[test]
    fn labelled_folder_loads_sorted_with_class_names() {
        let dir = two_classes();
        let data = load(dir.path(), &options(true)).unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data.shape(), (1, 3, 4));
        assert_eq!(data.class_names(), &["cat".to_string(), "dog".to_string()]);
        assert_eq!(data.labels(), Some(&[0, 0, 1][..]));
        assert_eq!(
            [data.image(0)[0], data.image(1)[0], data.image(2)[0]],
            [10, 20, 30]
        );
        let limited = load(
            dir.path(),
            &FolderOptions {
                limit: Some(2),
                ..options(true)
            },
        )
        .unwrap();
        assert_eq!(limited.labels(), Some(&[0, 0][..]));
        // notes.txt in a class folder and README beside them are counted.
        assert_eq!(data.skipped_files(), 2);
    }

    #[test]
    fn excluded_class_folders_are_left_out_and_must_exist() {
        let dir = two_classes();
        std::fs::create_dir(dir.path().join("emu")).unwrap();
        grey(&dir.path().join("emu/a.png"), 4, 3, 90);
        let data = load(
            dir.path(),
            &FolderOptions {
                exclude: vec!["cat".into()],
                ..options(true)
            },
        )
        .unwrap();
        assert_eq!(data.class_names(), ["dog", "emu"]);
        assert_eq!((data.len(), data.labels()), (2, Some(&[0, 1][..])));
        // Leaving one class is not a labelled dataset.
        let err = load(
            dir.path(),
            &FolderOptions {
                exclude: vec!["cat".into(), "emu".into()],
                ..options(true)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("holds one class folder (dog)"), "{err}");
        let err = load(
            dir.path(),
            &FolderOptions {
                exclude: vec!["cow".into(), "cat".into(), "BACKGROUND".into()],
                ..options(true)
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            format!(
                "{}: `exclude` names `cow`, `BACKGROUND` but the class folders are `cat`, `dog`, `emu`",
                dir.path().display()
            )
        );
        let err = load(
            dir.path(),
            &FolderOptions {
                exclude: vec!["cat".into()],
                ..options(false)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("needs `labelled = true`"), "{err}");
    }

    #[test]
    fn unlabelled_folder_loads_and_colour_gives_three_planar_channels() {
        let dir = tempfile::tempdir().unwrap();
        grey(&dir.path().join("1.png"), 2, 2, 100);
        let mut rgb = RgbImage::from_pixel(2, 2, Rgb([200, 50, 7]));
        rgb.put_pixel(1, 0, Rgb([1, 2, 3]));
        rgb.save(dir.path().join("2.PNG")).unwrap();
        let data = load(dir.path(), &options(false)).unwrap();
        assert!(data.labels().is_none());
        assert_eq!(data.shape(), (3, 2, 2));
        assert_eq!(data.image(0), &[100; 12]);
        assert_eq!(
            data.image(1),
            &[200, 1, 200, 200, 50, 2, 50, 50, 7, 3, 7, 7],
        );
        let forced = load(
            dir.path(),
            &FolderOptions {
                channels: Some(1),
                ..options(false)
            },
        )
        .unwrap();
        assert_eq!(forced.shape(), (1, 2, 2));
        assert_eq!(forced.image(0), &[100; 4]);
        // The labelled layout needs class subfolders.
        let err = load(dir.path(), &options(true)).unwrap_err().to_string();
        assert!(err.contains("holds no class subfolders"), "{err}");
    }

    #[test]
    fn reading_says_in_one_line_what_it_skipped_and_converted() {
        let dir = tempfile::tempdir().unwrap();
        grey(&dir.path().join("1.png"), 2, 2, 100);
        RgbImage::from_pixel(2, 2, Rgb([200, 50, 7]))
            .save(dir.path().join("2.png"))
            .unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.png"), dir.path().join("3.png")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        let data = load(dir.path(), &options(false)).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!((data.skipped_files(), data.converted_grey()), (2, 1));
        let note = data.reading_note().unwrap();
        assert_eq!(note.lines().count(), 1);
        assert!(
            note.contains("skipped 2 files that are not a PNG or JPEG image (or a broken link)")
                && note.contains("converted 1 grey image to colour"),
            "{note}"
        );
        // Read as grey, nothing is converted.
        let grey_only = FolderOptions {
            channels: Some(1),
            ..options(false)
        };
        assert_eq!(load(dir.path(), &grey_only).unwrap().converted_grey(), 0);
    }

    #[test]
    fn mixed_sizes_are_an_error_unless_size_is_set() {
        let dir = tempfile::tempdir().unwrap();
        grey(&dir.path().join("a.png"), 4, 3, 10);
        grey(&dir.path().join("b.png"), 4, 3, 10);
        grey(&dir.path().join("c.png"), 6, 5, 90);
        let err = load(dir.path(), &options(false)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: image is 5x6 (height x width) but {} is 3x4; set `size` to resize every image",
                dir.path().join("c.png").display(),
                dir.path().join("a.png").display()
            )
        );
        let sized = FolderOptions {
            size: Some([2, 3]),
            ..options(false)
        };
        let data = load(dir.path(), &sized).unwrap();
        assert_eq!(data.shape(), (1, 2, 3));
        assert_eq!(data.image(2), &[90; 6]);
    }

    #[test]
    fn corrupt_and_empty_images_name_the_file() {
        let dir = two_classes();
        let bad = dir.path().join("dog/broken.png");
        let mut bytes = std::fs::read(dir.path().join("dog/z.png")).unwrap();
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&bad, &bytes).unwrap();
        let err = load(dir.path(), &options(true)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: cannot decode image", bad.display())),
            "{err}"
        );
        std::fs::write(&bad, b"this is not a png at all").unwrap();
        let err = load(dir.path(), &options(true)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: cannot decode image", bad.display())),
            "{err}"
        );
        std::fs::write(&bad, []).unwrap();
        let err = load(dir.path(), &options(true)).unwrap_err().to_string();
        assert_eq!(err, format!("{}: the file is empty", bad.display()));
    }

    #[test]
    fn empty_folders_and_bad_options_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), &options(false)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: holds no png", dir.path().display())),
            "{err}"
        );
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        std::fs::create_dir(dir.path().join("full")).unwrap();
        grey(&dir.path().join("full/a.png"), 2, 2, 9);
        let err = load(dir.path(), &options(true)).unwrap_err().to_string();
        assert!(err.contains("class folder holds no png"), "{err}");
        let missing = dir.path().join("missing");
        let err = load(&missing, &options(false)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: ", missing.display())),
            "{err}"
        );
        let two = FolderOptions {
            channels: Some(2),
            ..options(false)
        };
        assert!(load(dir.path(), &two).is_err());
    }
}
