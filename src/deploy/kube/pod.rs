//! The project's `[serve]` settings carried into the pods: who may call
//! what (`[serve.auth]`), how often (`[serve.rate_limit]`), the timeouts
//! and caps, as an `mlops.toml` in the bundle's ConfigMap that the
//! container reads with `--config`. Secrets never go into a manifest: each
//! environment variable the settings name (`admin_token_env`,
//! `[serve.auth].secret_env`) comes from the Kubernetes Secret
//! `<app>-secrets` through `secretKeyRef`, under a key of the same name.
//!
//! What names a file of this machine is rewritten for the pod: the JWKS
//! file travels in the ConfigMap, the prediction and audit logs go to an
//! `emptyDir` at [`LOG_DIR`]; `[serve.tls]` and `state_dir` stay behind
//! (TLS ends at the Ingress or the mesh; the pod keeps no state). The
//! pod's admin API, when one is on, listens on the pod's loopback only
//! ([`ADMIN_BIND`]), reachable through `kubectl port-forward`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::error::{Error, Result, display_path};
use std::path::PathBuf;

use crate::project::{PredictionLogSetting, Project, ServeSection};

/// Where the pod's project file is mounted.
pub(super) const CONFIG_PATH: &str = "/models/mlops.toml";
/// Where the pod writes its logs (an `emptyDir`).
pub(super) const LOG_DIR: &str = "/var/log/mlops";
/// The pod's admin API address.
pub(super) const ADMIN_BIND: &str = "127.0.0.1:8081";

/// What the pods get of `[serve]`.
#[derive(Debug, Clone)]
pub(super) struct PodServe {
    /// The pod's `mlops.toml`.
    toml: String,
    /// The JWKS file's content, when `[serve.auth].jwks_file` is set.
    jwks: Option<String>,
    /// Environment variables filled from the Secret.
    secrets: Vec<String>,
}

#[derive(Serialize)]
struct PodFile<'a> {
    serve: &'a ServeSection,
}

/// The prediction log's setting for a pod: files go to [`LOG_DIR`], the
/// sink's credential variables come from the Secret.
fn pod_log(setting: PredictionLogSetting, secrets: &mut Vec<String>) -> PredictionLogSetting {
    let file = || PathBuf::from(format!("{LOG_DIR}/predictions.jsonl"));
    match setting {
        PredictionLogSetting::Path(_) => PredictionLogSetting::Path(file()),
        PredictionLogSetting::Table(mut t) => {
            if t.path.is_some() {
                t.path = Some(file());
            }
            if t.dead_letter.is_some() {
                t.dead_letter = Some(PathBuf::from(format!("{LOG_DIR}/predictions.dead.jsonl")));
            }
            for v in [&t.api_key_env, &t.username_env, &t.password_env] {
                secrets.extend(v.iter().cloned());
            }
            PredictionLogSetting::Table(t)
        }
    }
}

impl PodServe {
    /// The pods' share of `project`'s `[serve]`; `None` without one.
    ///
    /// # Errors
    /// The JWKS file cannot be read (exit 2).
    pub(super) fn of(project: &Project) -> Result<Option<PodServe>> {
        let Some(sv) = &project.file.serve else {
            return Ok(None);
        };
        let mut pod = sv.clone();
        pod.bind = None;
        pod.state_dir = None;
        pod.tls = None;
        pod.allow_insecure_admin = None;
        pod.admin_bind = None;
        let mut secrets: Vec<String> = pod.admin_token_env.iter().cloned().collect();
        pod.prediction_log = pod.prediction_log.take().map(|s| pod_log(s, &mut secrets));
        let mut jwks = None;
        let mut jwt = false;
        if let Some(a) = pod.auth.as_mut() {
            jwt = a.mode.as_deref() == Some("jwt");
            if let Some(f) = &a.jwks_file {
                let path = project.resolve(f);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::usage(format!(
                        "cannot read [serve.auth].jwks_file {} for the pods' ConfigMap: {}; fix the path or use jwks_url",
                        display_path(&path),
                        crate::error::io_reason(&e)
                    ))
                })?;
                jwks = Some(text);
                a.jwks_file = Some("jwks.json".into());
            }
            if a.audit_log.is_some() {
                a.audit_log = Some(format!("{LOG_DIR}/audit.jsonl").into());
            }
            secrets.extend(a.secret_env.iter().cloned());
        }
        if jwt || pod.admin_token_env.is_some() {
            pod.admin_bind = Some(ADMIN_BIND.to_string());
        }
        secrets.sort();
        secrets.dedup();
        let toml = toml::to_string(&PodFile { serve: &pod })
            .map_err(|e| Error::usage(format!("cannot write the pods' [serve] settings: {e}")))?;
        Ok(Some(PodServe {
            toml: format!(
                "# [serve] of the project, for the pods (secrets come from the Secret named in the Deployment)\n{toml}"
            ),
            jwks,
            secrets,
        }))
    }

    /// Put the settings into the ConfigMap `cm` and the Deployment `dep`
    /// of app `app`: the files as `data`, their mount, `--config`, the
    /// secrets' `secretKeyRef`s and the log folder.
    pub(super) fn apply(&self, app: &str, cm: &mut Value, dep: &mut Value) {
        let mut data = json!({ "mlops.toml": self.toml });
        if let Some(j) = &self.jwks {
            data["jwks.json"] = json!(j);
        }
        cm["data"] = data;
        let spec = &mut dep["spec"]["template"]["spec"];
        if let Some(items) = spec["volumes"][0]["configMap"]["items"].as_array_mut() {
            items.push(json!({ "key": "mlops.toml", "path": "mlops.toml" }));
            if self.jwks.is_some() {
                items.push(json!({ "key": "jwks.json", "path": "jwks.json" }));
            }
        }
        if let Some(v) = spec["volumes"].as_array_mut() {
            v.push(json!({ "name": "logs", "emptyDir": {} }));
        }
        let c = &mut spec["containers"][0];
        if let Some(cmd) = c["command"].as_array_mut() {
            cmd.extend([json!("--config"), json!(CONFIG_PATH)]);
        }
        if let Some(m) = c["volumeMounts"].as_array_mut() {
            m.push(json!({ "name": "logs", "mountPath": LOG_DIR }));
        }
        if !self.secrets.is_empty() {
            let secret = format!("{app}-secrets");
            c["env"] = self
                .secrets
                .iter()
                .map(|v| {
                    json!({
                        "name": v,
                        "valueFrom": { "secretKeyRef": { "name": secret, "key": v } },
                    })
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &std::path::Path, serve: &str) -> Project {
        std::fs::write(dir.join("mlops.toml"), serve).unwrap();
        Project::load(Some(&dir.join("mlops.toml")), dir).unwrap()
    }

    #[test]
    fn secrets_travel_by_reference_and_the_settings_by_configmap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keys.json"), "{\"keys\":[]}").unwrap();
        let p = project(
            dir.path(),
            "[serve]\nbind = \"0.0.0.0:9000\"\nadmin_token_env = \"MLOPS_ADMIN_TOKEN\"\nprediction_log = \"logs/p.jsonl\"\nstate_dir = \"state\"\nidle_timeout_s = 30\n[serve.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n[serve.auth]\nmode = \"jwt\"\nissuer = \"https://i\"\naudience = \"a\"\njwks_file = \"keys.json\"\nsecret_env = \"MLOPS_JWT_SECRET\"\naudit_log = \"logs/audit.jsonl\"\n[serve.rate_limit]\nrate = \"100/s\"\nkey = \"sub\"\n",
        );
        let pod = PodServe::of(&p).unwrap().unwrap();
        let mut cm = json!({"kind": "ConfigMap"});
        let mut dep = json!({"spec": {"template": {"spec": {
            "containers": [{"command": ["mlops", "serve"], "volumeMounts": []}],
            "volumes": [{"name": "bundle", "configMap": {"items": []}}],
        }}}});
        pod.apply("mlops-m", &mut cm, &mut dep);
        let c = &dep["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["env"],
            json!([
                {"name": "MLOPS_ADMIN_TOKEN", "valueFrom": {"secretKeyRef": {"name": "mlops-m-secrets", "key": "MLOPS_ADMIN_TOKEN"}}},
                {"name": "MLOPS_JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "mlops-m-secrets", "key": "MLOPS_JWT_SECRET"}}},
            ])
        );
        assert_eq!(
            c["command"],
            json!(["mlops", "serve", "--config", CONFIG_PATH])
        );
        assert_eq!(cm["data"]["jwks.json"], "{\"keys\":[]}");
        // The pod's file is a project file the server accepts on 0.0.0.0.
        let text = cm["data"]["mlops.toml"].as_str().unwrap();
        let file: crate::project::ProjectFile = toml::from_str(text).unwrap();
        let sv = file.serve.unwrap();
        assert!(sv.tls.is_none() && sv.state_dir.is_none() && sv.bind.is_none());
        assert_eq!(sv.admin_bind.as_deref(), Some(ADMIN_BIND));
        assert_eq!(sv.idle_timeout_s, Some(30.0));
        let a = sv.auth.as_ref().unwrap();
        assert_eq!(
            a.jwks_file.as_deref(),
            Some(std::path::Path::new("jwks.json"))
        );
        assert_eq!(
            a.audit_log.as_deref(),
            Some(std::path::Path::new("/var/log/mlops/audit.jsonl"))
        );
        assert_eq!(sv.rate_limit.as_ref().unwrap().key.as_deref(), Some("sub"));
        // (The secret itself is the pod's business: left out of this check.)
        let mut sv = sv.clone();
        sv.auth.as_mut().unwrap().secret_env = None;
        let mut config = crate::serve::Config::from_section(
            Some(&sv),
            |q| std::path::Path::new("/models").join(q),
            Some("t".into()),
        )
        .unwrap();
        config.bind = "0.0.0.0:8080".parse().unwrap();
        assert!(config.check_admin_exposure().is_ok());
    }

    #[test]
    fn no_serve_section_changes_nothing_and_a_missing_jwks_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(dir.path(), "[project]\nname = \"x\"\n");
        assert!(PodServe::of(&p).unwrap().is_none());
        let p = project(
            dir.path(),
            "[serve.auth]\nmode = \"jwt\"\nissuer = \"i\"\naudience = \"a\"\njwks_file = \"gone.json\"\n",
        );
        let e = PodServe::of(&p).unwrap_err();
        assert!(e.to_string().contains("gone.json"), "{e}");
    }
}
