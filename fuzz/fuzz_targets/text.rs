//! The text readers: any bytes, read as lines, as a CSV or TSV table with
//! quoted fields (a header naming `text` and `label` columns), as
//! label-and-text lines, or as a class folder of one document, in UTF-8 or
//! Latin-1, must load or fail with an error; what loads must hold labels
//! for every document, each naming a class.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::{TextDataConfig, TextEncoding};

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let encoding = if choice & 0x80 == 0 {
        TextEncoding::Utf8
    } else {
        TextEncoding::Latin1
    };
    let config = match choice & 0x7f {
        0..=31 => TextDataConfig::Lines {
            path: scratch::file("docs.txt", content),
            limit: None,
            encoding,
        },
        32..=63 => TextDataConfig::Table {
            path: scratch::file("docs.csv", content),
            text_column: "text".into(),
            label_column: Some("label".into()),
            delimiter: None,
            limit: None,
            encoding,
        },
        64..=95 => TextDataConfig::Table {
            path: scratch::file("docs.tsv", content),
            text_column: "text".into(),
            label_column: (choice & 1 == 0).then(|| "label".into()),
            delimiter: Some('\t'),
            limit: None,
            encoding,
        },
        96..=111 => TextDataConfig::LabelText {
            path: scratch::file("docs.txt", content),
            limit: None,
            encoding,
        },
        _ => {
            let doc = scratch::file("folder/a/doc.txt", content);
            scratch::file("folder/b/doc.txt", b"another document");
            TextDataConfig::TextFolder {
                root: doc.parent().unwrap().parent().unwrap().to_path_buf(),
                limit: None,
                encoding,
            }
        }
    };
    if let Ok(d) = config.load(std::path::Path::new("/")) {
        if let Some(labels) = d.labels() {
            assert_eq!(labels.len(), d.len());
            let classes = d.class_names().len();
            assert!(labels.iter().all(|&l| (l as usize) < classes));
        }
    }
});
