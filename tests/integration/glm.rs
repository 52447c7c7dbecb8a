//! Tweedie GLMs against statsmodels (tests/data/glm/, made by its
//! generate.py): log link, powers 1, 1.5, 2 and 3, every row of the bundled
//! house-price data. Required: every coefficient within 1e-10 relative
//! (both solvers stop at their own tolerances).

use std::path::Path;

use crate::common::train_in_process;

fn house_prices_toml(model: &str) -> String {
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/house-prices/train.csv");
    format!(
        "[data]\npath = {:?}\ntarget = \"price\"\nexclude = [\"id\"]\ncategorical = [\"neighborhood\"]\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"m\"\n{model}",
        csv.display().to_string()
    )
}

fn fit(power: &str, link: &str) -> mlops::model::Artifact {
    train_in_process(&house_prices_toml(&format!(
        "kind = \"glm\"\npower = {power}\nlink = \"{link}\"\n"
    )))
}

#[test]
fn tweedie_glms_match_statsmodels() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("tests/data/glm/statsmodels_house_prices.json")).unwrap(),
    )
    .unwrap();
    for (power, want) in reference["fits"].as_object().unwrap() {
        let m = fit(power, "log");
        let mut worst = ((m.intercept - want["intercept"].as_f64().unwrap())
            / want["intercept"].as_f64().unwrap())
        .abs();
        for (k, v) in want["coefficients"].as_object().unwrap() {
            let v = v.as_f64().unwrap();
            worst = worst.max(((m.coefficients[k.as_str()] - v) / v).abs());
        }
        println!("power {power}: max relative difference {worst:.1e}");
        assert!(worst < 1e-10, "power {power}: {worst:e}");
    }
}

#[test]
fn glm_with_power_zero_and_identity_link_is_ols() {
    let ols = train_in_process(&house_prices_toml(""));
    let glm = fit("0", "identity");
    for (k, v) in &ols.coefficients {
        let g = glm.coefficients[k.as_str()];
        assert!(((g - v) / v).abs() < 1e-9, "{k}: {g} vs {v}");
    }
}
