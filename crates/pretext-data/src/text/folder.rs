//! A folder of text files, one document per file, one subfolder per class:
//! `root/<class>/<file>` (the 20 Newsgroups layout, whose files have no
//! extension). Every file is read whatever its name; names starting with `.`
//! are skipped, as are files directly in `root`. Classes and files are
//! sorted, so the order is the same on every machine.
use std::path::{Path, PathBuf};

use super::encoding::INVALID_UTF8;
use super::{TextDataset, TextEncoding, class_names_of};
use crate::DataError;
use crate::dataset::folder::{check_exclude, file_name, sorted_entries};

/// Reads the documents under `root`, but for the class folders in `exclude`
/// (each must exist); `limit` keeps the first documents in class-then-file
/// order (classes as in [`class_names_of`], files by name).
pub(crate) fn load(
    root: &Path,
    exclude: &[String],
    limit: Option<usize>,
    encoding: TextEncoding,
) -> Result<TextDataset, DataError> {
    let all: Vec<PathBuf> = sorted_entries(root)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    let names: Vec<String> = all.iter().map(|f| file_name(f)).collect();
    check_exclude(root, exclude, &names)?;
    let folders: Vec<PathBuf> = all
        .into_iter()
        .filter(|f| !exclude.contains(&file_name(f)))
        .collect();
    if folders.is_empty() {
        return Err(DataError::format(
            root,
            "holds no class subfolders (`root/<class>/<file>` expected)",
        ));
    }
    let names: Vec<String> = folders.iter().map(|f| file_name(f)).collect();
    let (class_names, labels) = class_names_of(&names);
    let mut classes: Vec<(u32, &PathBuf)> = labels.into_iter().zip(&folders).collect();
    classes.sort_unstable(); // class order: numeric when every name is a number

    let mut docs = Vec::new();
    let mut doc_labels = Vec::new();
    let mut skipped = 0;
    'classes: for (label, folder) in classes {
        let files: Vec<PathBuf> = sorted_entries(folder)?
            .into_iter()
            .filter(|p| p.is_file())
            .collect();
        if files.is_empty() {
            return Err(DataError::format(folder, "class folder holds no files"));
        }
        for file in files {
            if limit.is_some_and(|n| docs.len() >= n) {
                break 'classes;
            }
            let bytes = std::fs::read(&file).map_err(|e| DataError::io(&file, e))?;
            let text = encoding
                .decode(encoding.strip_bom(&bytes))
                .ok_or_else(|| DataError::format(&file, INVALID_UTF8))?;
            let doc = text.trim();
            if doc.is_empty() {
                skipped += 1;
            } else {
                docs.push(doc.to_owned());
                doc_labels.push(label);
            }
        }
    }
    Ok(TextDataset::new(docs, Some(doc_labels), class_names, root)?.with_skipped_empty(skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::test_data::write;

    #[test]
    fn text_folder_reads_one_document_per_file() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir, "sci.space/101", b"From: a@b\n\nOrbits and moons.\n");
        write(&dir, "sci.space/102", b"   \n");
        write(&dir, "sci.space/.hidden", b"not read");
        write(&dir, "alt.atheism/55", b"Some   text\nacross lines");
        write(&dir, "README", b"ignored: not in a class folder");
        let d = load(dir.path(), &[], None, TextEncoding::Utf8).unwrap();
        assert_eq!(d.class_names(), ["alt.atheism", "sci.space"]);
        assert_eq!(
            d.docs(),
            [
                "Some   text\nacross lines",
                "From: a@b\n\nOrbits and moons."
            ]
        );
        assert_eq!(d.labels(), Some(&[0, 1][..]));
        assert_eq!(d.skipped_empty(), 1);
        assert_eq!(d.source(), dir.path());
        let d = load(dir.path(), &[], Some(1), TextEncoding::Utf8).unwrap();
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn text_folder_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), &[], None, TextEncoding::Utf8).unwrap_err();
        assert!(
            err.to_string().contains("holds no class subfolders"),
            "{err}"
        );
        let bad = write(&dir, "b/2.txt", b"na\xefve");
        write(&dir, "a/1.txt", b"fine");
        let err = load(dir.path(), &[], None, TextEncoding::Utf8)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("{}: invalid UTF-8", bad.display())),
            "{err}"
        );
        let d = load(dir.path(), &[], None, TextEncoding::Latin1).unwrap();
        assert_eq!(d.docs(), ["fine", "na\u{ef}ve"]);
        std::fs::create_dir(dir.path().join("c")).unwrap();
        let err = load(dir.path(), &[], None, TextEncoding::Latin1).unwrap_err();
        assert!(
            err.to_string().ends_with("class folder holds no files"),
            "{err}"
        );
    }
}
