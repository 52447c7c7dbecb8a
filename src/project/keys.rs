//! The keys the project file accepts: the valid keys of each table (for
//! "did you mean" hints), and every key dotted from the root (for the test
//! that docs/project-file.md documents each one).

use crate::project::environments::{
    EnvironmentSection, HealthSection, ResourceList, ResourcesSection,
};
use crate::project::validate::Bound;

/// The keys of a baseline rules table.
const RULE_KEYS: &[&str] = &[
    "max_relative_degradation",
    "max_absolute_degradation",
    "min_relative_improvement",
    "min_absolute_improvement",
];

/// Valid keys per table, for "did you mean" hints.
pub(super) const TABLES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "project",
            "data",
            "split",
            "model",
            "registry",
            "abtest",
            "environments",
            "serve",
            "validate",
            "targets",
            "deploy",
        ],
    ),
    ("deploy", &["max_error_ratio"]),
    ("validate", &["thresholds", "baseline", "drift", "data"]),
    (
        "validate.thresholds",
        &[
            "r2",
            "rmse",
            "mae",
            "mape",
            "deviance",
            "accuracy",
            "log_loss",
            "auc",
            "auc_weighted",
            "average_precision",
            "brier",
            "precision",
            "recall",
            "f1",
            "ece",
        ],
    ),
    (
        "validate.baseline",
        &[
            "stage",
            "version",
            "metrics",
            "max_relative_degradation",
            "max_absolute_degradation",
            "min_relative_improvement",
            "min_absolute_improvement",
            "r2",
            "rmse",
            "mae",
            "mape",
            "deviance",
            "accuracy",
            "log_loss",
            "auc",
            "auc_weighted",
            "average_precision",
            "brier",
            "precision",
            "recall",
            "f1",
            "ece",
        ],
    ),
    ("validate.baseline.r2", RULE_KEYS),
    ("validate.baseline.rmse", RULE_KEYS),
    ("validate.baseline.mae", RULE_KEYS),
    ("validate.baseline.mape", RULE_KEYS),
    ("validate.baseline.deviance", RULE_KEYS),
    ("validate.baseline.accuracy", RULE_KEYS),
    ("validate.baseline.log_loss", RULE_KEYS),
    ("validate.baseline.auc", RULE_KEYS),
    ("validate.baseline.auc_weighted", RULE_KEYS),
    ("validate.baseline.average_precision", RULE_KEYS),
    ("validate.baseline.brier", RULE_KEYS),
    ("validate.baseline.precision", RULE_KEYS),
    ("validate.baseline.recall", RULE_KEYS),
    ("validate.baseline.f1", RULE_KEYS),
    ("validate.baseline.ece", RULE_KEYS),
    (
        "validate.drift",
        &["data", "max_psi", "ks_p_value", "chi2_p_value"],
    ),
    (
        "validate.data",
        &["max_missing", "max_out_of_range", "max_unseen"],
    ),
    (
        "serve",
        &[
            "bind",
            "admin_token_env",
            "prediction_log",
            "state_dir",
            "log_max_bytes",
            "log_keep",
            "max_body_bytes",
            "max_batch_rows",
            "timeout_s",
            "tls",
            "header_timeout_s",
            "body_timeout_s",
            "upload_timeout_s",
            "max_connections",
            "max_in_flight",
            "auth",
            "rate_limit",
            "admin_bind",
            "allow_insecure_admin",
            "idle_timeout_s",
            "monitor",
            "grpc_bind",
            "max_message_bytes",
            "strict_features",
        ],
    ),
    ("serve.monitor", &["window", "min_samples", "enabled"]),
    ("serve.tls", &["cert", "key", "client_ca"]),
    (
        "serve.prediction_log",
        &[
            "path",
            "features",
            "sink",
            "url",
            "index",
            "dead_letter",
            "api_key_env",
            "username_env",
            "password_env",
            "buffer_lines",
            "log_max_bytes",
            "log_keep",
        ],
    ),
    (
        "serve.auth",
        &[
            "mode",
            "protect",
            "issuer",
            "audience",
            "algorithms",
            "leeway_s",
            "jwks_file",
            "jwks_url",
            "secret_env",
            "roles_claim",
            "audit_log",
            "roles",
        ],
    ),
    (
        "serve.rate_limit",
        &[
            "rate",
            "burst",
            "key",
            "trusted_proxies",
            "max_keys",
            "roles",
        ],
    ),
    ("registry", &["remote", "stages", "bundle_store"]),
    ("project", &["name", "description"]),
    (
        "data",
        &[
            "path",
            "target",
            "features",
            "exclude",
            "categorical",
            "missing",
            "na_values",
            "max_levels",
            "min_level_count",
            "handle_unknown",
        ],
    ),
    ("split", &["validation_fraction", "seed", "validation_path"]),
    (
        "model",
        &[
            "name",
            "kind",
            "fit_intercept",
            "artifact",
            "power",
            "link",
            "alpha",
            "max_iter",
            "streaming",
            "positive",
            "max_classes",
            "threshold",
            "allow_unconverged",
        ],
    ),
    (
        "abtest",
        &[
            "metric",
            "kind",
            "control",
            "alpha",
            "planned_split",
            "variant_column",
            "test",
            "correction",
            "unit",
            "covariate",
            "mde",
            "direction",
        ],
    ),
];

/// The keys a serde struct accepts, read from its own "unknown field"
/// message (so the list cannot drift from the struct).
fn serde_fields<T: serde::de::DeserializeOwned>() -> Vec<String> {
    match toml::from_str::<T>("zz_not_a_key = 0") {
        Ok(_) => Vec::new(),
        Err(e) => backquoted(e.message())
            .into_iter()
            .skip(1)
            .map(str::to_string)
            .collect(),
    }
}

/// Every key the project file accepts, dotted from the root (`data.path`,
/// `environments.NAME.health.retries`, `validate.thresholds.METRIC.min`),
/// for the test that docs/project-file.md documents each one.
#[doc(hidden)]
#[must_use]
pub fn known_keys() -> Vec<String> {
    let join = |t: &str, k: &str| {
        if t.is_empty() {
            k.to_string()
        } else {
            format!("{t}.{k}")
        }
    };
    let mut keys: Vec<String> = TABLES
        .iter()
        .flat_map(|(t, ks)| ks.iter().map(move |k| join(t, k)))
        .collect();
    // Tables with free names (an environment, a metric) are not in TABLES.
    for (table, fields) in [
        ("validate.thresholds.METRIC", serde_fields::<Bound>()),
        (
            "serve.rate_limit.roles.ROLE",
            serde_fields::<crate::project::types::RoleLimit>(),
        ),
        (
            "environments.NAME",
            env_fields(&["region", "role", "order"]),
        ),
        ("targets.NAME", env_fields(&["targets"])),
        ("targets.NAME.health", serde_fields::<HealthSection>()),
        ("targets.NAME.resources", serde_fields::<ResourcesSection>()),
        ("environments.NAME.health", serde_fields::<HealthSection>()),
        (
            "environments.NAME.resources",
            serde_fields::<ResourcesSection>(),
        ),
        (
            "environments.NAME.resources.requests",
            serde_fields::<ResourceList>(),
        ),
        (
            "environments.NAME.resources.limits",
            serde_fields::<ResourceList>(),
        ),
    ] {
        keys.extend(fields.iter().map(|k| join(table, k)));
    }
    keys
}

/// The keys of an environment or target table, without `except` (the
/// keys only the other kind of table takes).
fn env_fields(except: &[&str]) -> Vec<String> {
    serde_fields::<EnvironmentSection>()
        .into_iter()
        .filter(|k| !except.contains(&k.as_str()))
        .collect()
}

/// Backquoted names in a serde message: "unknown field `x`, expected one of `a`, `b`".
pub(super) fn backquoted(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::types::{
        AbtestSection, DataSection, ModelSection, ProjectFile, ProjectSection, RegistrySection,
        ServeSection, SplitSection, TlsSection,
    };
    use crate::project::validate::{
        BaselineSection, DataChecksSection, DriftSection, Rules, Thresholds, ValidateSection,
    };

    #[test]
    fn tables_list_exactly_the_serde_fields() {
        fn sorted(mut v: Vec<String>) -> Vec<String> {
            v.sort();
            v
        }
        let table = |name: &str| {
            let (_, ks) = TABLES.iter().find(|(t, _)| *t == name).unwrap();
            sorted(ks.iter().map(|k| (*k).to_string()).collect())
        };
        let cases: Vec<(&str, Vec<String>)> = vec![
            ("", serde_fields::<ProjectFile>()),
            (
                "deploy",
                serde_fields::<crate::project::environments::DeploySection>(),
            ),
            ("project", serde_fields::<ProjectSection>()),
            ("data", serde_fields::<DataSection>()),
            ("split", serde_fields::<SplitSection>()),
            ("model", serde_fields::<ModelSection>()),
            ("registry", serde_fields::<RegistrySection>()),
            ("abtest", serde_fields::<AbtestSection>()),
            ("validate", serde_fields::<ValidateSection>()),
            ("validate.thresholds", serde_fields::<Thresholds>()),
            ("validate.baseline", serde_fields::<BaselineSection>()),
            ("validate.baseline.r2", serde_fields::<Rules>()),
            ("validate.drift", serde_fields::<DriftSection>()),
            ("validate.data", serde_fields::<DataChecksSection>()),
            ("serve", serde_fields::<ServeSection>()),
            ("serve.tls", serde_fields::<TlsSection>()),
            (
                "serve.auth",
                serde_fields::<crate::project::types::AuthSection>(),
            ),
            (
                "serve.rate_limit",
                serde_fields::<crate::project::types::RateLimitSection>(),
            ),
            (
                "serve.monitor",
                serde_fields::<crate::project::types::MonitorSection>(),
            ),
            (
                "serve.prediction_log",
                serde_fields::<crate::project::types::PredictionLogSection>(),
            ),
        ];
        for (name, fields) in cases {
            assert!(!fields.is_empty(), "[{name}]");
            assert_eq!(table(name), sorted(fields), "TABLES[{name:?}]");
        }
        let keys = known_keys();
        for k in [
            "environments.NAME.health.retries",
            "environments.NAME.resources.limits.memory",
            "validate.thresholds.METRIC.min",
            "serve.tls.cert",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k}");
        }
    }
}
