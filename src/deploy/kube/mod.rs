//! The `kubernetes` target: manifests for the engine that scales serving
//! past one machine, written into the environment's folder.
//!
//! Four files, each written atomically: `configmap.yaml` (the bundle as
//! `binaryData`), `deployment.yaml` (`mlops serve --model
//! /models/bundle.tar.gz` with probes, resources, a read-only mount of the
//! ConfigMap and a non-root security context), `service.yaml` and
//! `hpa.yaml`. With `apply = true`, `kubectl apply -f PATH` and `kubectl
//! rollout status` follow; a failure puts the previous files back (and
//! re-applies them when the cluster already took the new ones).

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use super::{Check, Job, Live, Target};
use crate::error::{Error, Result, display_path};
use crate::project::{EnvironmentSection, Project, TargetKind};

/// The files written, in order.
pub const FILES: [&str; 4] = [
    "configmap.yaml",
    "deployment.yaml",
    "service.yaml",
    "hpa.yaml",
];

/// A ConfigMap holds at most 1 MiB.
const CONFIGMAP_MAX: usize = 1024 * 1024 - 4096;

/// The annotation naming the deployed version.
const VERSION_KEY: &str = "mlops.dev/version";

/// A folder of manifests.
#[derive(Debug)]
pub struct Kube {
    root: PathBuf,
    env_name: String,
    env: EnvironmentSection,
    model: String,
}

impl Kube {
    /// The environment `env_name` of `project`, for `model`.
    pub fn new(
        project: &Project,
        env_name: &str,
        env: &EnvironmentSection,
        model: &str,
    ) -> Result<Kube> {
        let path = env.path.as_ref().ok_or_else(|| {
            Error::usage(format!(
                "environments.{env_name} has no path; add the folder the manifests go to"
            ))
        })?;
        Ok(Kube {
            root: project.resolve(path),
            env_name: env_name.to_string(),
            env: env.clone(),
            model: model.to_string(),
        })
    }

    fn app(&self) -> String {
        dns_label(&format!("mlops-{}", self.model))
    }

    fn kubectl(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("kubectl").args(args).output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::usage(format!(
                    "environments.{}.apply = true needs kubectl on PATH; install it, or set apply = false to only write the manifests",
                    self.env_name
                ))
            } else {
                Error::Remote(format!("cannot run kubectl: {e}"))
            }
        })?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim();
        Err(Error::Remote(format!(
            "`kubectl {}` failed: {last}",
            args.join(" ")
        )))
    }

    /// Render the four manifests for `job`'s bundle.
    #[must_use]
    pub fn render(&self, version: &str, sha256: &str, bytes: &[u8]) -> Vec<(&'static str, String)> {
        let app = self.app();
        let replicas = self.env.replicas.unwrap_or(1);
        let image = self
            .env
            .image
            .clone()
            .unwrap_or_else(|| format!("mlops:{}", crate::VERSION));
        let mut meta = json!({
            "name": app,
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/managed-by": "mlops",
                "app.kubernetes.io/version": label_value(version),
            },
            "annotations": { VERSION_KEY: version, "mlops.dev/bundle-sha256": sha256 },
        });
        if let Some(ns) = &self.env.namespace {
            meta["namespace"] = json!(ns);
        }
        let mut cm_meta = meta.clone();
        cm_meta["name"] = json!(format!("{app}-bundle"));
        let configmap = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": cm_meta,
            "binaryData": { "bundle.tar.gz": base64(bytes) },
        });
        let res = self.env.resources.clone().unwrap_or_default();
        let list = |l: Option<&crate::project::ResourceList>, cpu: &str, mem: &str| {
            json!({
                "cpu": l.and_then(|x| x.cpu.clone()).unwrap_or_else(|| cpu.to_string()),
                "memory": l.and_then(|x| x.memory.clone()).unwrap_or_else(|| mem.to_string()),
            })
        };
        let probe = |path: &str, delay: u32| {
            json!({
                "httpGet": { "path": path, "port": "http" },
                "initialDelaySeconds": delay,
                "periodSeconds": 10,
                "timeoutSeconds": 5,
                "failureThreshold": 3,
            })
        };
        let selector = json!({ "app.kubernetes.io/name": app });
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": replicas,
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": {
                        "labels": {
                            "app.kubernetes.io/name": app,
                            "app.kubernetes.io/version": label_value(version),
                        },
                        "annotations": { VERSION_KEY: version, "mlops.dev/bundle-sha256": sha256 },
                    },
                    "spec": {
                        "securityContext": {
                            "runAsNonRoot": true,
                            "runAsUser": 65532,
                            "runAsGroup": 65532,
                            "fsGroup": 65532,
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "containers": [{
                            "name": "mlops-serve",
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["mlops", "serve", "--model", "/models/bundle.tar.gz", "--bind", "0.0.0.0:8080"],
                            "ports": [{ "name": "http", "containerPort": 8080, "protocol": "TCP" }],
                            "resources": {
                                "requests": list(res.requests.as_ref(), "100m", "128Mi"),
                                "limits": list(res.limits.as_ref(), "1", "512Mi"),
                            },
                            "readinessProbe": probe("/v2/health/ready", 2),
                            "livenessProbe": probe("/v2/health/live", 10),
                            "securityContext": {
                                "allowPrivilegeEscalation": false,
                                "readOnlyRootFilesystem": true,
                                "runAsNonRoot": true,
                                "capabilities": { "drop": ["ALL"] },
                            },
                            "volumeMounts": [{ "name": "bundle", "mountPath": "/models", "readOnly": true }],
                        }],
                        "volumes": [{
                            "name": "bundle",
                            "configMap": {
                                "name": format!("{app}-bundle"),
                                "items": [{ "key": "bundle.tar.gz", "path": "bundle.tar.gz" }],
                            },
                        }],
                    },
                },
            },
        });
        let service = json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{ "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP" }],
            },
        });
        let hpa = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta,
            "spec": {
                "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": app },
                "minReplicas": replicas,
                "maxReplicas": replicas.saturating_mul(4).max(replicas + 1),
                "metrics": [{
                    "type": "Resource",
                    "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 70 } },
                }],
            },
        });
        let head = format!(
            "# Written by {} for environment {}; do not edit.\n",
            crate::package::tool(),
            self.env_name
        );
        [configmap, deployment, service, hpa]
            .iter()
            .zip(FILES)
            .map(|(doc, f)| (f, format!("{head}{}", yaml(doc))))
            .collect()
    }

    fn write_all(&self, files: &[(&str, Option<String>)]) -> Result<()> {
        for (f, text) in files {
            let p = self.root.join(f);
            match text {
                Some(t) => crate::fsutil::write_atomic(&p, t.as_bytes())?,
                None => match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove", &p, &e)),
                },
            }
        }
        Ok(())
    }

    fn rollout(&self) -> Result<Vec<Check>> {
        let root = self.root.display().to_string();
        self.kubectl(&["apply", "-f", &root])?;
        let app = format!("deployment/{}", self.app());
        let mut args = vec!["rollout", "status", app.as_str(), "--timeout=300s"];
        if let Some(ns) = &self.env.namespace {
            args.extend(["-n", ns.as_str()]);
        }
        self.kubectl(&args)
            .map_err(|e| Error::Check(e.to_string()))?;
        Ok(vec![
            Check::pass(
                "apply",
                format!("kubectl apply -f {}", display_path(&self.root)),
            ),
            Check::pass("rollout", format!("kubectl rollout status {app} succeeded")),
        ])
    }
}

impl Target for Kube {
    fn kind(&self) -> TargetKind {
        TargetKind::Kubernetes
    }

    fn location(&self) -> String {
        display_path(&self.root)
    }

    fn lock(&mut self) -> Result<()> {
        Ok(())
    }

    fn live(&mut self) -> Result<Live> {
        let text = std::fs::read_to_string(self.root.join("deployment.yaml")).unwrap_or_default();
        let champion = text.lines().find_map(|l| {
            let rest = l
                .trim()
                .strip_prefix(&format!("\"{VERSION_KEY}\":"))
                .or_else(|| l.trim().strip_prefix(&format!("{VERSION_KEY}:")))?;
            serde_json::from_str::<String>(rest.trim()).ok()
        });
        Ok(Live {
            champion,
            ..Live::default()
        })
    }

    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let b = job.bundle;
        if job.bytes.len() > CONFIGMAP_MAX {
            return Err(Error::usage(format!(
                "the bundle of {} {} is {} bytes, more than a ConfigMap holds (1 MiB); serve it from an image instead",
                job.model,
                b.version,
                job.bytes.len()
            )));
        }
        let old: Vec<(&str, Option<String>)> = FILES
            .iter()
            .map(|f| (*f, std::fs::read_to_string(self.root.join(f)).ok()))
            .collect();
        let new = self.render(&b.version, &b.sha256, job.bytes);
        let new_opt: Vec<(&str, Option<String>)> =
            new.iter().map(|(f, t)| (*f, Some(t.clone()))).collect();
        if let Err(e) = self.write_all(&new_opt) {
            let _ = self.write_all(&old);
            return Err(e);
        }
        for (f, t) in &new {
            if std::fs::read_to_string(self.root.join(f)).ok().as_deref() != Some(t.as_str()) {
                let _ = self.write_all(&old);
                return Err(Error::Check(format!(
                    "{} did not read back as written; the previous manifests were put back",
                    display_path(&self.root.join(f))
                )));
            }
        }
        let mut checks = vec![Check::pass(
            "manifests",
            format!(
                "{} written to {}",
                FILES.join(", "),
                display_path(&self.root)
            ),
        )];
        if self.env.apply != Some(true) {
            checks.push(Check::pass(
                "apply",
                "apply = false: writing the manifests is the deploy",
            ));
            return Ok(checks);
        }
        match self.rollout() {
            Ok(c) => {
                checks.extend(c);
                Ok(checks)
            }
            Err(e) => {
                let _ = self.write_all(&old);
                let back = match &e {
                    Error::Check(_) if old.iter().any(|(_, t)| t.is_some()) => {
                        match self.kubectl(&["apply", "-f", &self.root.display().to_string()]) {
                            Ok(_) => "the previous manifests were put back and applied",
                            Err(_) => {
                                "the previous manifests were put back but applying them failed too"
                            }
                        }
                    }
                    _ => "the previous manifests were put back",
                };
                let msg = format!(
                    "deploying {} {} to {} failed ({e}); {back}, and no assignment was recorded",
                    job.model, b.version, self.env_name
                );
                Err(match e {
                    Error::Check(_) => Error::Check(msg),
                    Error::Usage(_) => Error::Usage(msg),
                    _ => Error::Remote(msg),
                })
            }
        }
    }
}

/// A DNS-1123 label: lowercase letters, digits and '-', at most 63 long.
fn dns_label(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(63);
    out.trim_matches('-').to_string()
}

/// A label value: `[A-Za-z0-9._-]`, at most 63 long ('+' of build metadata becomes '_').
fn label_value(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(63);
    out
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                s.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// YAML for a JSON value: block mappings and sequences, every string
/// double-quoted with JSON escapes (valid YAML), keys plain when safe.
#[must_use]
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
        && k.starts_with(|c: char| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                if is_block(x) {
                    out.push_str(&format!("{pad}{}:\n", key(k)));
                    emit(x, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", key(k), scalar(x)));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                if is_block(x) {
                    let mut inner = String::new();
                    emit(x, indent + 2, &mut inner);
                    // The first line goes after the dash.
                    let body = inner
                        .strip_prefix(&" ".repeat(indent + 2))
                        .unwrap_or(&inner);
                    out.push_str(&format!("{pad}- {body}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(x)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn yaml_of_nested_values() {
        let v = json!({"a": {"b": [1, {"c": "x", "d": [true]}], "e": {}}, "app.kubernetes.io/name": "n", "x y": null});
        assert_eq!(
            yaml(&v),
            "a:\n  b:\n    - 1\n    - c: \"x\"\n      d:\n        - true\n  e: {}\napp.kubernetes.io/name: \"n\"\n\"x y\": null\n"
        );
        assert_eq!(dns_label("mlops-House_Price/x"), "mlops-house-price-x");
        assert_eq!(label_value("v1.0.0+b.1"), "v1.0.0_b.1");
    }
}
