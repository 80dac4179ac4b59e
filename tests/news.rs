//! Real text folders users have: BBC News (five topic folders, one article
//! in Latin-1 among 2,225 UTF-8 ones) and IMDB (`train/` holds the
//! unlabelled `unsup/` beside `pos/` and `neg/`), from the shared archives
//! the repository cannot ship, read through the `text_folder` format.
use std::path::{Path, PathBuf};
use std::process::Command;

use pretext::data::external::test_data;
use pretext::data::text::{TextDataConfig, TextEncoding};

/// Extracts `members` (tar wildcards) of the shared archive `rel` into `dir`;
/// `None`, with the skip line, where the archive is absent.
fn extract(rel: &str, dir: &Path, members: &[&str]) -> Option<PathBuf> {
    let archive = test_data(rel)?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .arg("--wildcards")
        .args(members)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xzf {} failed", archive.display());
    Some(dir.to_path_buf())
}

fn folder(root: PathBuf, exclude: &[&str], encoding: TextEncoding) -> TextDataConfig {
    TextDataConfig::TextFolder {
        root,
        exclude: exclude.iter().map(|e| e.to_string()).collect(),
        limit: None,
        encoding,
    }
}

#[test]
fn bbc_news_is_refused_by_name_as_utf8_and_read_whole_as_utf8_or_latin1() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(dir) = extract("text/bbc-news/bbc.tar.gz", tmp.path(), &["bbc/*"]) else {
        return;
    };
    let root = dir.join("bbc");
    let err = folder(root.clone(), &[], TextEncoding::Utf8)
        .load(Path::new(""))
        .unwrap_err()
        .to_string();
    let latin1 = root.join("sport/199.txt");
    assert!(
        err.starts_with(&format!("{}: invalid UTF-8", latin1.display())),
        "{err}"
    );
    let news = folder(root, &[], TextEncoding::Utf8OrLatin1)
        .load(Path::new(""))
        .unwrap();
    assert_eq!(
        news.class_names(),
        ["business", "entertainment", "politics", "sport", "tech"]
    );
    let labels = news.labels().unwrap();
    let counts: Vec<usize> = (0..5)
        .map(|c| labels.iter().filter(|&&l| l == c).count())
        .collect();
    assert_eq!(counts, [510, 386, 417, 511, 401]); // the archive's README
    assert_eq!(news.len(), 2225);
    assert!(news.docs().iter().all(|d| !d.contains('\u{FFFD}')));
}

#[test]
fn imdb_train_without_its_unlabelled_folder_has_two_classes() {
    let tmp = tempfile::tempdir().unwrap();
    let members = ["aclImdb/train/*/1?_*.txt"]; // 10_*..19_* of pos, neg and unsup
    let Some(dir) = extract("text/imdb/aclImdb.tar.gz", tmp.path(), &members) else {
        return;
    };
    let train = dir.join("aclImdb/train");
    let reviews = folder(train.clone(), &["unsup"], TextEncoding::Utf8)
        .load(Path::new(""))
        .unwrap();
    assert_eq!(reviews.class_names(), ["neg", "pos"]);
    assert_eq!(reviews.len(), 20);
    let unlabelled = folder(train.clone(), &["neg", "pos"], TextEncoding::Utf8)
        .load(Path::new(""))
        .unwrap();
    assert_eq!(unlabelled.len(), 10);
    let err = folder(train.clone(), &["unlabelled"], TextEncoding::Utf8)
        .load(Path::new(""))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: `exclude` names `unlabelled` but the class folders are `neg`, `pos`, `unsup`",
            train.display()
        )
    );
}
