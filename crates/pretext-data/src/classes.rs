//! Classes matched by name across datasets: a test set's labels re-expressed
//! in a labelled pool's class list, so that a class folder that sorts
//! differently (an extra class in the pool, one fewer in the test set) keeps
//! its meaning. Numeric labels without names (IDX, CIFAR batches, the digits)
//! are named by their value ("0", "1", …) and so matched by value. Also the
//! label checks and selections every dataset shares (`check_len`,
//! `select`).
use std::collections::HashMap;
use std::path::Path;

use crate::DataError;

/// Checks a dataset's size against its labels: at least one sample, and
/// one label per sample when labelled. `items` names the samples in the
/// error (`images`, `documents`), which names `source`.
pub(crate) fn check_len(
    source: &Path,
    len: usize,
    labels: Option<&[u32]>,
    items: &str,
) -> Result<(), DataError> {
    if len == 0 {
        return Err(DataError::format(
            source,
            format!("the dataset holds no {items}"),
        ));
    }
    if let Some(l) = labels
        && l.len() != len
    {
        return Err(DataError::format(
            source,
            format!("{} labels for {len} {items}", l.len()),
        ));
    }
    Ok(())
}

/// The labels of the samples `indices`, in order, when there are labels
/// (a subset of a dataset).
pub(crate) fn select(labels: Option<&[u32]>, indices: &[usize]) -> Option<Vec<u32>> {
    labels.map(|l| indices.iter().map(|&i| l[i]).collect())
}

/// For each class of `own` (a dataset's class list, indexed by its labels),
/// the index of the class of the same name in `target`. A class no label
/// uses needs no place (it maps to `u32::MAX`); every used class missing from
/// `target` is named in one error for `source`.
pub(crate) fn class_map(
    own: &[String],
    labels: &[u32],
    target: &[String],
    source: &Path,
) -> Result<Vec<u32>, DataError> {
    let index: HashMap<&str, u32> = target
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let mut used = vec![false; own.len()];
    for &l in labels {
        if let Some(u) = used.get_mut(l as usize) {
            *u = true;
        }
    }
    let mut map = Vec::with_capacity(own.len());
    let mut missing = Vec::new();
    for (name, &used) in own.iter().zip(&used) {
        match index.get(name.as_str()) {
            Some(&i) => map.push(i),
            None => {
                map.push(u32::MAX);
                if used {
                    missing.push(name.clone());
                }
            }
        }
    }
    if !missing.is_empty() {
        let (what, verb) = if missing.len() == 1 {
            ("class", "is")
        } else {
            ("classes", "are")
        };
        return Err(DataError::format(
            source,
            format!(
                "{what} {} {verb} not among the {} classes {}",
                listed(&missing),
                target.len(),
                listed(target)
            ),
        ));
    }
    Ok(map)
}

/// The class names of a dataset with `classes` classes: `names` when it has
/// them, else the label values `"0"`, `"1"`, ….
pub(crate) fn named(names: &[String], classes: usize) -> Vec<String> {
    if names.is_empty() {
        (0..classes).map(|c| c.to_string()).collect()
    } else {
        names.to_vec()
    }
}

/// `a`, `b`, ... for a message, at most ten names.
pub fn listed(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".into();
    }
    listed_items(names.iter().map(|n| format!("`{n}`")).collect())
}

/// The first ten of `items` joined with commas, then `and N more`.
pub(crate) fn listed_items(items: Vec<String>) -> String {
    const SHOWN: usize = 10;
    let more = items.len().saturating_sub(SHOWN);
    let mut out: Vec<String> = items.into_iter().take(SHOWN).collect();
    if more > 0 {
        out.push(format!("and {more} more"));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn classes_map_by_name_whatever_their_order() {
        // The pool has an extra class that sorts first.
        let pool = strings(&["BACKGROUND", "cat", "dog"]);
        let test = strings(&["cat", "dog"]);
        let map = class_map(&test, &[0, 1, 1], &pool, Path::new("t")).unwrap();
        assert_eq!(map, [1, 2]);
    }

    #[test]
    fn every_missing_class_is_named_and_unused_ones_are_not() {
        let pool = strings(&["a", "b"]);
        let test = strings(&["a", "c", "d", "e"]);
        // `e` has no label: it needs no place.
        let err = class_map(&test, &[0, 1, 2], &pool, Path::new("test"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "test: classes `c`, `d` are not among the 2 classes `a`, `b`"
        );
        let err = class_map(&test[..2], &[1], &pool, Path::new("test"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "test: class `c` is not among the 2 classes `a`, `b`");
        assert_eq!(
            class_map(&test, &[0], &pool, Path::new("t")).unwrap(),
            [0, u32::MAX, u32::MAX, u32::MAX]
        );
    }

    #[test]
    fn unnamed_classes_are_named_by_value() {
        assert_eq!(named(&[], 3), ["0", "1", "2"]);
        assert_eq!(named(&strings(&["x"]), 3), ["x"]);
    }
}
