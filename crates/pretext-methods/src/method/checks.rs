//! Checks of settings that several methods share, with one message each.

/// The range of `method.temperature`. Similarities are cosines, so logits
/// are at most 1/temperature: below 0.01 they pass 100 and the loss is
/// dominated by rounding (1e-30 gave a loss of 2e29); above 100 every pair
/// looks alike.
const TEMPERATURES: std::ops::RangeInclusive<f32> = 0.01..=100.0;

/// `method.temperature`: between 0.01 and 100 (SimCLR, MoCo, NNCLR, SimCSE).
pub(crate) fn check_temperature(temperature: f32) -> Result<(), String> {
    if TEMPERATURES.contains(&temperature) {
        Ok(())
    } else {
        Err(format!(
            "method.temperature must be between {} and {}, got {temperature}",
            TEMPERATURES.start(),
            TEMPERATURES.end()
        ))
    }
}

/// `method.momentum`: in `[0, 1)` (BYOL, MoCo).
pub(crate) fn check_momentum(momentum: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&momentum) {
        Ok(())
    } else {
        Err(format!("method.momentum must be in [0, 1), got {momentum}"))
    }
}

/// `method.clusters`: at least 2 (SCAN, self-labelling).
pub(crate) fn check_clusters(clusters: usize) -> Result<(), String> {
    if clusters >= 2 {
        Ok(())
    } else {
        Err(format!(
            "method.clusters must be at least 2, got {clusters}"
        ))
    }
}

/// `method.projection`: a valid projection head (every projecting method).
pub(crate) fn check_projection(
    projection: &pretext_nn::ProjectionHeadConfig,
) -> Result<(), String> {
    projection
        .validate()
        .map_err(|e| format!("method.projection: {e}"))
}

/// Checks a registry: every method's name is its own, and is the name its
/// default config is written and read back by (`name = "..."`).
#[cfg(test)]
pub(crate) fn check_registry<C>(all: Vec<C>, name: fn(&C) -> &'static str)
where
    C: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let mut names: Vec<_> = all.iter().map(name).collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names.len(),
        all.len(),
        "two methods share a name: {names:?}"
    );
    for config in all {
        let written = toml::to_string(&config).unwrap();
        let table: toml::Table = written.parse().unwrap();
        assert_eq!(table["name"].as_str(), Some(name(&config)), "{written}");
        let back: C = toml::from_str(&written).unwrap();
        assert_eq!(back, config);
    }
}
