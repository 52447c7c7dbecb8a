//! `train`'s least-squares inference against statsmodels `OLS(...).fit()`
//! on the NIST StRD datasets where statsmodels is itself accurate (Norris,
//! NoInt1, NoInt2, Longley; reference: tests/data/inference/statsmodels_ols.json,
//! made by tests/data/inference/generate.py, versions recorded in it;
//! statsmodels' standard errors there agree with NIST's certified ones to
//! 4e-13).
//! Tolerance: 1e-8 relative on every number, as issue 23 asks.

use std::path::Path;

use serde_json::Value;

use crate::common::train_in_process;

fn close(got: f64, want: f64, what: &str) {
    let err = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        err <= 1e-8,
        "{what}: {got} vs statsmodels {want} ({err:.2e} relative)"
    );
}

#[test]
fn ols_inference_matches_statsmodels_on_nist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(root.join("tests/data/inference/statsmodels_ols.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    for (name, want) in reference["datasets"].as_object().unwrap() {
        let csv = root.join(format!("tests/data/nist/{name}.csv"));
        let toml = format!(
            "[data]\npath = {:?}\ntarget = \"y\"\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"nist\"\nfit_intercept = {}\n",
            csv.display().to_string(),
            want["fit_intercept"]
        );
        let model = train_in_process(&toml);
        let inf = model.inference.expect("a linear model reports inference");
        let f = |k: &str| want[k].as_f64().unwrap();
        assert_eq!(inf.rows, want["rows"].as_u64().unwrap());
        for (k, got) in [
            ("df_model", inf.df_model),
            ("df_resid", inf.df_resid),
            ("r2", inf.r2),
            ("adj_r2", inf.adj_r2),
            ("f_statistic", inf.f_statistic),
            ("f_p_value", inf.f_p_value),
            ("log_likelihood", inf.log_likelihood),
            ("aic", inf.aic),
            ("bic", inf.bic),
        ] {
            close(got, f(k), &format!("{name} {k}"));
        }
        for (param, w) in want["params"].as_object().unwrap() {
            let c = if param == "intercept" {
                inf.intercept.expect("an intercept's statistics")
            } else {
                inf.coefficients[param.as_str()]
            };
            for (k, got) in [
                ("estimate", c.estimate),
                ("std_error", c.std_error),
                ("t", c.t),
                ("p_value", c.p_value),
                ("ci_low", c.ci_low),
                ("ci_high", c.ci_high),
            ] {
                close(got, w[k].as_f64().unwrap(), &format!("{name} {param} {k}"));
            }
        }
        assert_eq!(inf.intercept.is_some(), want["fit_intercept"] == true);
    }
}
