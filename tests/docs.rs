//! The documentation holds together: every relative link in the README and
//! `docs/` (and the other top-level guides) names a file that exists and,
//! where it names a heading (`page.md#heading`), a heading that exists; the
//! README stays a front door of at most 300 lines.
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Markdown files whose links are checked: the README, the other
/// top-level guides, `bench/README.md` and everything under `docs/`.
fn documentation(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "CONTRIBUTING.md"]
        .iter()
        .map(|f| root.join(f))
        .chain(std::iter::once(root.join("bench/README.md")))
        .filter(|p| p.is_file())
        .collect();
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The lines of `text` outside fenced code blocks, with their numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// `line` without its inline code spans (`` `...` ``).
fn without_code(line: &str) -> String {
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// The targets of the inline links `[text](target)` on `line`.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut out = Vec::new();
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(after[..end].trim().to_string());
                rest = &after[end..];
            }
            None => break,
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-`
/// and `_`), spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file: its headings' slugs and its `<a id="…">`.
fn anchors(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            out.push(slug(&line[hashes..]));
        }
        let mut rest = line;
        while let Some(at) = rest.find("<a id=\"") {
            let after = &rest[at + 7..];
            let end = after.find('"').unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// One line per broken relative link in `files`: a missing file, or a
/// heading that the linked page does not have.
fn broken_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file
            .strip_prefix(root)
            .unwrap_or(file)
            .display()
            .to_string();
        for (number, line) in prose(&text) {
            for target in link_targets(line) {
                // Web addresses (`https:`, `mailto:`) are not checked here.
                if target.is_empty()
                    || target.split_once(':').is_some_and(|(scheme, _)| {
                        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic())
                    })
                {
                    continue;
                }
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let linked = if path.is_empty() {
                    file.clone()
                } else {
                    file.parent().unwrap().join(path)
                };
                if !linked.exists() {
                    broken.push(format!("{shown}:{number}: {target}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor
                    && linked.extension().is_some_and(|e| e == "md")
                {
                    let page = std::fs::read_to_string(&linked).unwrap();
                    if !anchors(&page).iter().any(|a| a == anchor) {
                        broken.push(format!("{shown}:{number}: {target}: no such heading"));
                    }
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_documentation_resolves() {
    let root = repo_root();
    let files = documentation(&root);
    assert!(files.len() >= 10, "{files:?}");
    let broken = broken_links(&root, &files);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_a_missing_page_and_a_missing_heading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(
        dir.path().join("docs/page.md"),
        "# A page\n\n## Its `part` (two)\n\n<a id=\"kept\"></a>\n",
    )
    .unwrap();
    let readme = "# Title\n\
        [good](docs/page.md#its-part-two) [kept](docs/page.md#kept) [self](#title)\n\
        [web](https://example.com/missing) `[code](missing.md)`\n\
        ```\n[fenced](missing.md)\n```\n\
        [gone](docs/gone.md) and [wrong](docs/page.md#no-such-part)\n";
    std::fs::write(dir.path().join("README.md"), readme).unwrap();
    let files = documentation(dir.path());
    assert_eq!(files.len(), 2);
    let broken = broken_links(dir.path(), &files);
    assert_eq!(
        broken,
        [
            "README.md:7: docs/gone.md: no such file",
            "README.md:7: docs/page.md#no-such-part: no such heading",
        ]
    );
}

#[test]
fn the_readme_is_a_front_door_of_at_most_300_lines() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: move detail into docs/"
    );
}
