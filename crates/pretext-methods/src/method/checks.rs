//! Checks of settings that several methods share, with one message each.

/// `method.temperature`: positive and finite (SimCLR, MoCo).
pub(crate) fn check_temperature(temperature: f32) -> Result<(), String> {
    if temperature > 0.0 && temperature.is_finite() {
        Ok(())
    } else {
        Err(format!(
            "method.temperature must be positive, got {temperature}"
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
