//! Label budgets for few-label evaluation (how many labelled examples a
//! downstream head may use), and class-balanced, seeded draws of a training
//! set and a matched validation set from a labelled pool.
use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DataError;

/// How many labels a downstream head may use.
///
/// Written and parsed as `"10/class"`, `"1%"`, `"0.5%"` or `"all"` (also in
/// TOML and JSON: `budgets = ["1/class", "10/class", "1%", "all"]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabelBudget {
    /// `n` labelled images of each class ("10/class").
    PerClass(usize),
    /// A fraction of each class's images ("1%", "10%"; stored as 0.01, 0.1).
    Fraction(f64),
    /// Every labelled image ("all").
    All,
}

impl LabelBudget {
    /// A file-name-safe form: "10-per-class", "1pct", "0.5pct", "all".
    pub fn slug(&self) -> String {
        match *self {
            LabelBudget::PerClass(n) => format!("{n}-per-class"),
            LabelBudget::Fraction(f) => format!("{}pct", percent_text(f)),
            LabelBudget::All => "all".into(),
        }
    }
}

impl FromStr for LabelBudget {
    type Err = String;

    /// Parses `"<n>/class"` (n ≥ 1), `"<p>%"` (0 < p < 100, decimals allowed)
    /// or `"all"`, ignoring surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let unknown =
            || format!("not a label budget: {s:?} (expected \"10/class\", \"1%\" or \"all\")");
        if s == "all" {
            return Ok(LabelBudget::All);
        }
        if let Some(n) = s.strip_suffix("/class") {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unknown());
            }
            let n: usize = n.parse().map_err(|_| unknown())?;
            if n == 0 {
                return Err(format!("label budget {s:?} must be at least 1 per class"));
            }
            return Ok(LabelBudget::PerClass(n));
        }
        if let Some(p) = s.strip_suffix('%') {
            if !is_plain_decimal(p) {
                return Err(unknown());
            }
            // "<p>e-2" is parsed (correctly rounded) straight to the fraction,
            // so that `Display`, which prints the shortest digits of the
            // fraction, reads back as the very same `f64`.
            let f: f64 = format!("{p}e-2").parse().map_err(|_| unknown())?;
            if !(f > 0.0 && f < 1.0) {
                return Err(format!(
                    "label budget {s:?} must be above 0% and below 100% (\"all\" takes every label)"
                ));
            }
            return Ok(LabelBudget::Fraction(f));
        }
        Err(unknown())
    }
}

impl fmt::Display for LabelBudget {
    /// The canonical form: "10/class", "1%", "0.5%", "all". Parsing it gives
    /// back the same budget.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LabelBudget::PerClass(n) => write!(f, "{n}/class"),
            LabelBudget::Fraction(x) => write!(f, "{}%", percent_text(x)),
            LabelBudget::All => f.write_str("all"),
        }
    }
}

impl Serialize for LabelBudget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LabelBudget {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Digits, optionally followed by a point and more digits ("10", "0.5").
fn is_plain_decimal(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        Some((whole, frac)) => digits(whole) && digits(frac),
        None => digits(s),
    }
}

/// `fraction × 100` as plain decimal digits (no exponent), built from the
/// shortest digits that read back as `fraction`: 0.07 gives "7", 0.005 "0.5".
fn percent_text(fraction: f64) -> String {
    if !(fraction.is_finite() && fraction > 0.0) {
        return format!("{}", fraction * 100.0);
    }
    let sci = format!("{fraction:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` writes an exponent");
    let exp: i64 = exp.parse().expect("`{:e}` writes an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // fraction = d.ddd × 10^exp, so percent = d.ddd × 10^(exp + 2): the point
    // falls after `exp + 3` digits.
    let point = exp + 3;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (whole, frac) = digits.split_at(point as usize);
        format!("{whole}.{frac}")
    }
}

/// One seeded draw: indices into the labelled pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelSplit {
    /// The budget drawn.
    pub budget: LabelBudget,
    /// The seed of the draw.
    pub seed: u64,
    /// Indices of the training labels, sorted.
    pub train: Vec<usize>,
    /// Indices of the validation labels (model selection only), sorted, disjoint from `train`.
    pub val: Vec<usize>,
}

/// Draws a class-balanced training set and a matched validation set from a
/// pool with `labels` (values < classes).
///
/// The rules, which runs and result files rely on:
///
/// - For each class `c`, its pool indices (in increasing order) are shuffled
///   with `Rng::seed_from_u64(seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))`:
///   the draw of a class depends only on `seed`, `c` and where that class's
///   images lie in the pool, never on other classes.
/// - Training takes a prefix of the shuffled list and validation a suffix
///   (from its end). With one seed the training sets of budgets therefore
///   nest (1/class ⊂ 5/class ⊂ 10/class ⊂ … ⊂ all), the validation sets of
///   per-class and fraction budgets nest the same way, and a budget's
///   validation set never overlaps the training set of any budget with at
///   most as many training labels per class.
/// - `PerClass(n)`: `n` training and `n` validation labels per class: the
///   labels a budget allows are spent once to train and once again to select.
/// - `Fraction(f)`: `n_c = max(1, round(f × count_c))` training and as many
///   validation labels for a class with `count_c` images.
/// - `All`: `max(1, round(0.1 × count_c))` validation labels per class, the
///   rest of the class for training; together they cover the pool.
/// - Both lists are sorted.
///
/// # Errors
///
/// [`DataError::Invalid`] when a label is not below `classes`, when a class
/// (one with no images included) has too few images for the budget (fewer
/// than `2n` for `PerClass(n)`, `2 n_c` for a fraction, 2 for `All`; the
/// message names the class), when the budget itself is out of range (0 per
/// class, a fraction outside (0, 1)), or when `classes` is 0.
pub fn draw_labels(
    labels: &[u32],
    classes: usize,
    budget: LabelBudget,
    seed: u64,
) -> Result<LabelSplit, DataError> {
    let names: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
    draw_labels_named(labels, &names, budget, seed)
}

/// [`draw_labels`] for a pool whose classes have names (`class_names[c]`
/// names class `c`; `classes` is their number): errors name the classes,
/// every one that falls short of the budget.
pub fn draw_labels_named(
    labels: &[u32],
    class_names: &[String],
    budget: LabelBudget,
    seed: u64,
) -> Result<LabelSplit, DataError> {
    let classes = class_names.len();
    match budget {
        LabelBudget::PerClass(0) => {
            return Err(DataError::Invalid(format!(
                "label budget \"{budget}\" must be at least 1 per class"
            )));
        }
        LabelBudget::Fraction(f) if !(f > 0.0 && f < 1.0) => {
            return Err(DataError::Invalid(format!(
                "label budget fraction {f} must be above 0 and below 1 (\"all\" takes every label)"
            )));
        }
        _ => {}
    }
    if classes == 0 {
        return Err(DataError::Invalid(
            "a label budget needs at least one class, got 0 classes".into(),
        ));
    }
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &label) in labels.iter().enumerate() {
        match by_class.get_mut(label as usize) {
            Some(members) => members.push(i),
            None => {
                return Err(DataError::Invalid(format!(
                    "label {label} (pool index {i}) is not below the class count {classes}"
                )));
            }
        }
    }
    let counts: Vec<(usize, usize)> = by_class
        .iter()
        .map(|members| {
            let count = members.len();
            match budget {
                LabelBudget::PerClass(n) => (n, n),
                LabelBudget::Fraction(f) => {
                    let n = ((f * count as f64).round() as usize).max(1);
                    (n, n)
                }
                LabelBudget::All => {
                    let n_val = ((0.1 * count as f64).round() as usize).max(1);
                    (count.saturating_sub(n_val).max(1), n_val)
                }
            }
        })
        .collect();
    // Every class that falls short, named: a budget of n per class needs 2n
    // labels of each (n to train, n again to validate).
    let short: Vec<(&String, usize, usize, usize)> = by_class
        .iter()
        .zip(&counts)
        .zip(class_names)
        .filter(|((members, (t, v)), _)| t.saturating_add(*v) > members.len())
        .map(|((members, &(t, v)), name)| (name, members.len(), t, v))
        .collect();
    if let [(name, has, t, v)] = short.as_slice() {
        return Err(DataError::Invalid(format!(
            "label budget {budget} needs {} labels of class `{name}` ({t} to train, {v} to \
             validate) but the labelled pool has {has}",
            t + v
        )));
    }
    if !short.is_empty() {
        let each = short
            .iter()
            .map(|(name, has, t, v)| {
                format!(
                    "`{name}` has {has} of {} ({t} to train, {v} to validate)",
                    t + v
                )
            })
            .collect();
        return Err(DataError::Invalid(format!(
            "label budget {budget} needs more labels than the labelled pool has in {} classes: {}",
            short.len(),
            crate::classes::listed_items(each)
        )));
    }
    let mut train = Vec::new();
    let mut val = Vec::new();
    for (c, (mut members, (n_train, n_val))) in by_class.into_iter().zip(counts).enumerate() {
        let count = members.len();
        members.shuffle(&mut crate::Rng::seed_from_u64(
            seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        train.extend_from_slice(&members[..n_train]);
        val.extend_from_slice(&members[count - n_val..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    Ok(LabelSplit {
        budget,
        seed,
        train,
        val,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    /// A shuffled pool with `counts[c]` images of class `c`.
    fn pool(counts: &[usize], seed: u64) -> Vec<u32> {
        let mut labels: Vec<u32> = counts
            .iter()
            .enumerate()
            .flat_map(|(c, &n)| std::iter::repeat_n(c as u32, n))
            .collect();
        labels.shuffle(&mut crate::Rng::seed_from_u64(seed));
        labels
    }

    fn per_class(labels: &[u32], idx: &[usize], classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &i in idx {
            counts[labels[i] as usize] += 1;
        }
        counts
    }

    fn is_subset(small: &[usize], big: &[usize]) -> bool {
        small.iter().all(|i| big.binary_search(i).is_ok())
    }

    fn check_well_formed(split: &LabelSplit, n: usize) {
        assert!(split.train.windows(2).all(|w| w[0] < w[1]), "train sorted");
        assert!(split.val.windows(2).all(|w| w[0] < w[1]), "val sorted");
        assert!(split.train.iter().chain(&split.val).all(|&i| i < n));
        assert!(
            split
                .val
                .iter()
                .all(|i| split.train.binary_search(i).is_err()),
            "train and val overlap"
        );
    }

    const COUNTS: [usize; 4] = [30, 50, 20, 41];

    #[test]
    fn per_class_draws_are_class_balanced_and_disjoint() {
        let labels = pool(&COUNTS, 1);
        for n in [1, 3, 10] {
            let split = draw_labels(&labels, 4, LabelBudget::PerClass(n), 5).unwrap();
            check_well_formed(&split, labels.len());
            assert_eq!(per_class(&labels, &split.train, 4), vec![n; 4]);
            assert_eq!(per_class(&labels, &split.val, 4), vec![n; 4]);
            assert_eq!((split.budget, split.seed), (LabelBudget::PerClass(n), 5));
        }
    }

    #[test]
    fn draws_are_reproducible_under_a_seed() {
        let labels = pool(&COUNTS, 2);
        let budget = LabelBudget::PerClass(5);
        let a = draw_labels(&labels, 4, budget, 11).unwrap();
        assert_eq!(draw_labels(&labels, 4, budget, 11).unwrap(), a);
        let b = draw_labels(&labels, 4, budget, 12).unwrap();
        assert_ne!(b.train, a.train);
        assert_ne!(b.val, a.val);
    }

    #[test]
    fn a_class_draw_ignores_other_classes() {
        // Class 0 occupies the same pool indices in both pools; the other
        // classes differ in size, so class 0's draw must not change.
        let mut a = vec![0u32; 20];
        a.extend(std::iter::repeat_n(1, 10));
        let mut b = vec![0u32; 20];
        b.extend(std::iter::repeat_n(1, 30));
        let class0 = |labels: &[u32]| {
            let s = draw_labels(labels, 2, LabelBudget::PerClass(4), 3).unwrap();
            let t: Vec<usize> = s.train.into_iter().filter(|&i| i < 20).collect();
            let v: Vec<usize> = s.val.into_iter().filter(|&i| i < 20).collect();
            (t, v)
        };
        assert_eq!(class0(&a), class0(&b));
    }

    #[test]
    fn budgets_nest_under_one_seed() {
        let labels = pool(&COUNTS, 3);
        let budgets = [
            LabelBudget::PerClass(1),
            LabelBudget::PerClass(2),
            // 3, 5, 2 and 4 per class: between 2/class and 5/class.
            LabelBudget::Fraction(0.1),
            LabelBudget::PerClass(5),
            LabelBudget::PerClass(10),
            LabelBudget::All,
        ];
        for seed in [0, 9, u64::MAX] {
            let splits: Vec<LabelSplit> = budgets
                .iter()
                .map(|&b| draw_labels(&labels, 4, b, seed).unwrap())
                .collect();
            for (i, small) in splits.iter().enumerate() {
                for big in &splits[i..] {
                    assert!(is_subset(&small.train, &big.train), "{}", big.budget);
                    // `All` keeps only ~10% to validate; the others nest.
                    if big.budget != LabelBudget::All {
                        assert!(is_subset(&small.val, &big.val), "{}", big.budget);
                    }
                    assert!(
                        small
                            .train
                            .iter()
                            .all(|i| big.val.binary_search(i).is_err()),
                        "validation of {} overlaps training of {}",
                        big.budget,
                        small.budget
                    );
                }
            }
        }
    }

    #[test]
    fn fractions_are_taken_per_class() {
        let labels = pool(&[30, 50, 20, 3], 4);
        let split = draw_labels(&labels, 4, LabelBudget::Fraction(0.1), 0).unwrap();
        check_well_formed(&split, labels.len());
        // round(0.1 × count), at least 1.
        assert_eq!(per_class(&labels, &split.train, 4), vec![3, 5, 2, 1]);
        assert_eq!(per_class(&labels, &split.val, 4), vec![3, 5, 2, 1]);
        let split = draw_labels(&labels, 4, LabelBudget::Fraction(0.01), 0).unwrap();
        assert_eq!(per_class(&labels, &split.train, 4), vec![1, 1, 1, 1]);
        let err = draw_labels(&labels, 4, LabelBudget::Fraction(0.5), 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label budget 50% needs 4 labels of class `3` (2 to train, 2 to validate) \
             but the labelled pool has 3"
        );
    }

    #[test]
    fn all_covers_the_pool() {
        let labels = pool(&[30, 50, 2, 14], 5);
        let split = draw_labels(&labels, 4, LabelBudget::All, 8).unwrap();
        check_well_formed(&split, labels.len());
        assert_eq!(split.train.len() + split.val.len(), labels.len());
        // max(1, round(0.1 × count)) per class to validate.
        assert_eq!(per_class(&labels, &split.val, 4), vec![3, 5, 1, 1]);
        assert_eq!(per_class(&labels, &split.train, 4), vec![27, 45, 1, 13]);
        let err = draw_labels(&pool(&[5, 1], 0), 2, LabelBudget::All, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label budget all needs 2 labels of class `1` (1 to train, 1 to validate) \
             but the labelled pool has 1"
        );
    }

    #[test]
    fn too_large_budgets_name_the_class() {
        let labels = pool(&[400, 300, 250, 150], 6);
        let err = draw_labels(&labels, 4, LabelBudget::PerClass(100), 0).unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)));
        assert_eq!(
            err.to_string(),
            "label budget 100/class needs 200 labels of class `3` (100 to train, 100 to validate) \
             but the labelled pool has 150"
        );
        // A class with no images at all is the same error.
        let err = draw_labels(&labels, 5, LabelBudget::PerClass(1), 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label budget 1/class needs 2 labels of class `4` (1 to train, 1 to validate) \
             but the labelled pool has 0"
        );
        // Every class that falls short is named, by its name.
        let names: Vec<String> = ["ant", "bee", "cow", "dog"].map(String::from).into();
        let err = draw_labels_named(&labels, &names, LabelBudget::PerClass(130), 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "label budget 130/class needs more labels than the labelled pool has in 2 classes: \
             `cow` has 250 of 260 (130 to train, 130 to validate), \
             `dog` has 150 of 260 (130 to train, 130 to validate)"
        );
        let err = draw_labels(&labels, 3, LabelBudget::PerClass(1), 0).unwrap_err();
        assert!(matches!(err, DataError::Invalid(_)));
        assert!(err.to_string().contains("label 3"), "{err}");
        assert!(err.to_string().contains("class count 3"), "{err}");
        for bad in [LabelBudget::PerClass(0), LabelBudget::Fraction(1.0)] {
            let err = draw_labels(&labels, 4, bad, 0).unwrap_err();
            assert!(matches!(err, DataError::Invalid(_)), "{err}");
        }
        assert!(draw_labels(&[], 0, LabelBudget::All, 0).is_err());
    }

    #[test]
    fn budgets_parse_and_display_round_trip() {
        let cases = [
            ("10/class", LabelBudget::PerClass(10), "10-per-class"),
            ("1/class", LabelBudget::PerClass(1), "1-per-class"),
            ("1%", LabelBudget::Fraction(0.01), "1pct"),
            ("10%", LabelBudget::Fraction(0.1), "10pct"),
            ("7%", LabelBudget::Fraction(0.07), "7pct"),
            ("0.5%", LabelBudget::Fraction(0.005), "0.5pct"),
            ("12.5%", LabelBudget::Fraction(0.125), "12.5pct"),
            ("all", LabelBudget::All, "all"),
        ];
        for (text, budget, slug) in cases {
            assert_eq!(text.parse::<LabelBudget>(), Ok(budget), "{text}");
            assert_eq!(budget.to_string(), text);
            assert_eq!(budget.slug(), slug);
        }
        assert_eq!("  5/class\n".parse(), Ok(LabelBudget::PerClass(5)));
        // Any fraction in (0, 1) reads back bit for bit.
        let mut rng = crate::Rng::seed_from_u64(0);
        for _ in 0..2000 {
            let f: f64 = rng.random_range(1e-9..1.0);
            let b = LabelBudget::Fraction(f);
            let text = b.to_string();
            assert!(!text.contains('e'), "{text}");
            assert_eq!(text.parse::<LabelBudget>(), Ok(b), "{text}");
        }
    }

    #[test]
    fn bad_budgets_are_rejected() {
        let unknown = |s: &str| {
            format!("not a label budget: {s:?} (expected \"10/class\", \"1%\" or \"all\")")
        };
        for bad in [
            "abc",
            "",
            "10",
            "10/Class",
            "-1/class",
            "+1/class",
            "1.5/class",
            "/class",
            "%",
            "1e1%",
            ".5%",
            "5.%",
            "-1%",
            "ALL",
            "10 %",
        ] {
            assert_eq!(
                bad.parse::<LabelBudget>(),
                Err(unknown(bad.trim())),
                "{bad:?}"
            );
        }
        assert_eq!(
            "0/class".parse::<LabelBudget>(),
            Err("label budget \"0/class\" must be at least 1 per class".into())
        );
        for bad in ["0%", "0.0%", "100%", "150%"] {
            let err = bad.parse::<LabelBudget>().unwrap_err();
            assert!(
                err.contains("must be above 0% and below 100%"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn budgets_round_trip_through_toml() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Config {
            budgets: Vec<LabelBudget>,
        }
        let config: Config =
            toml::from_str(r#"budgets = ["1/class", "10/class", "1%", "0.5%", "all"]"#).unwrap();
        assert_eq!(
            config.budgets,
            vec![
                LabelBudget::PerClass(1),
                LabelBudget::PerClass(10),
                LabelBudget::Fraction(0.01),
                LabelBudget::Fraction(0.005),
                LabelBudget::All,
            ]
        );
        let text = toml::to_string(&config).unwrap();
        assert!(text.contains(r#""0.5%""#), "{text}");
        assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
        let err = toml::from_str::<Config>(r#"budgets = ["lots"]"#).unwrap_err();
        assert!(err.to_string().contains("not a label budget"), "{err}");

        let labels = pool(&[6, 6], 7);
        let split = draw_labels(&labels, 2, LabelBudget::Fraction(0.25), 42).unwrap();
        let text = toml::to_string(&split).unwrap();
        assert!(text.contains(r#"budget = "25%""#), "{text}");
        assert_eq!(toml::from_str::<LabelSplit>(&text).unwrap(), split);
    }
}
