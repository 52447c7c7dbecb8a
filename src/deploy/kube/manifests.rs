//! The Kubernetes manifests of a deploy, as JSON values: the ConfigMap
//! holding the bundle (named after its content and immutable, so every
//! ReplicaSet keeps its own and `kubectl rollout undo` rolls the model
//! back), the Deployment running `mlops serve` on it, its Service, its
//! HorizontalPodAutoscaler, a NetworkPolicy letting in only the serving
//! ports and a PodDisruptionBudget; and the names and labels they share.
//!
//! No volume for a server state folder (`[serve].state_dir`): the pod
//! serves the ConfigMap's bundle with `--model` and has no admin API, so
//! nothing it is given at run time needs keeping (docs/deploy.md).

use serde_json::{Value, json};

use crate::project::{EnvironmentSection, ResourceList};

/// The annotation naming the deployed version.
pub(super) const VERSION_KEY: &str = "mlops.dev/version";

/// What every manifest of one deploy shares.
pub(super) struct Manifests<'a> {
    /// The app's name (a DNS label).
    pub(super) app: String,
    /// The version deployed.
    pub(super) version: &'a str,
    /// The sha256 of its bundle.
    pub(super) sha256: &'a str,
    /// The environment's settings.
    pub(super) env: &'a EnvironmentSection,
    /// Serve gRPC too, on [`GRPC_PORT`] (`[serve].grpc_bind` is set).
    pub(super) grpc: bool,
}

/// The pods' gRPC port (the Open Inference Protocol's usual one).
pub(super) const GRPC_PORT: u16 = 8001;

impl Manifests<'_> {
    /// Pod replicas.
    fn replicas(&self) -> u32 {
        self.env.replicas.unwrap_or(1)
    }

    /// The metadata of every manifest (the ConfigMap renames it).
    pub(super) fn metadata(&self) -> Value {
        let app = &self.app;
        let version = self.version;
        let mut meta = json!({
            "name": app,
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/managed-by": "mlops",
                "app.kubernetes.io/version": label_value(version),
            },
            "annotations": { VERSION_KEY: version, "mlops.dev/bundle-sha256": self.sha256 },
        });
        if let Some(ns) = &self.env.namespace {
            meta["namespace"] = json!(ns);
        }
        meta
    }

    /// The ConfigMap holding the bundle `bytes`.
    pub(super) fn configmap(&self, meta: &Value, bytes: &[u8]) -> Value {
        let app = &self.app;
        let mut cm_meta = meta.clone();
        cm_meta["name"] = json!(format!("{app}-bundle"));
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": cm_meta,
            "binaryData": { "bundle.tar.gz": base64(bytes) },
        })
    }

    /// The Deployment: `mlops serve` on the mounted bundle.
    pub(super) fn deployment(&self, meta: &Value) -> Value {
        let app = &self.app;
        let version = self.version;
        let selector = json!({ "app.kubernetes.io/name": app });
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": self.replicas(),
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": {
                        "labels": {
                            "app.kubernetes.io/name": app,
                            "app.kubernetes.io/version": label_value(version),
                        },
                        "annotations": {
                            VERSION_KEY: version,
                            "mlops.dev/bundle-sha256": self.sha256,
                            // Scraped by a Prometheus with the usual pod discovery.
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": "8080",
                            "prometheus.io/path": "/metrics",
                        },
                    },
                    "spec": {
                        // The server never calls the Kubernetes API.
                        "automountServiceAccountToken": false,
                        "securityContext": {
                            "runAsNonRoot": true,
                            "runAsUser": 65532,
                            "runAsGroup": 65532,
                            "fsGroup": 65532,
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "containers": [self.container()],
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
        })
    }

    /// The one container of the Deployment's pods.
    fn container(&self) -> Value {
        let image = self
            .env
            .image
            .clone()
            .unwrap_or_else(|| format!("mlops:{}", crate::VERSION));
        let res = self.env.resources.clone().unwrap_or_default();
        // A digest names one image for ever; a tag can move, so it is
        // pulled again on every start.
        let pull = if image.contains("@sha256:") {
            "IfNotPresent"
        } else {
            "Always"
        };
        let mut c = json!({
            "name": "mlops-serve",
            "image": image,
            "imagePullPolicy": pull,
            "command": ["mlops", "serve", "--model", "/models/bundle.tar.gz", "--bind", "0.0.0.0:8080"],
            "ports": [{ "name": "http", "containerPort": 8080, "protocol": "TCP" }],
            "resources": {
                "requests": resource_list(res.requests.as_ref(), "100m", "128Mi"),
                "limits": resource_list(res.limits.as_ref(), "1", "512Mi"),
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
        });
        if self.grpc {
            if let Some(cmd) = c["command"].as_array_mut() {
                cmd.extend([json!("--grpc-bind"), json!(format!("0.0.0.0:{GRPC_PORT}"))]);
            }
            if let Some(ports) = c["ports"].as_array_mut() {
                ports
                    .push(json!({ "name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP" }));
            }
        }
        c
    }

    /// The Service in front of the pods.
    pub(super) fn service(&self, meta: &Value) -> Value {
        let selector = json!({ "app.kubernetes.io/name": self.app });
        let mut ports =
            vec![json!({ "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP" })];
        if self.grpc {
            ports.push(json!({ "name": "grpc", "port": GRPC_PORT, "targetPort": "grpc", "protocol": "TCP", "appProtocol": "grpc" }));
        }
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "type": "ClusterIP",
                "selector": selector,
                "ports": ports,
            },
        })
    }

    /// The HorizontalPodAutoscaler of the Deployment.
    pub(super) fn hpa(&self, meta: &Value) -> Value {
        let app = &self.app;
        let replicas = self.replicas();
        json!({
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
        })
    }
}

impl Manifests<'_> {
    /// The NetworkPolicy: into the pods only the serving ports (http, and
    /// grpc when served); the admin API listens on the pod's loopback.
    pub(super) fn network_policy(&self, meta: &Value) -> Value {
        let mut ports = vec![json!({ "protocol": "TCP", "port": 8080 })];
        if self.grpc {
            ports.push(json!({ "protocol": "TCP", "port": GRPC_PORT }));
        }
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": { "matchLabels": { "app.kubernetes.io/name": self.app } },
                "policyTypes": ["Ingress"],
                "ingress": [{ "ports": ports }],
            },
        })
    }

    /// The PodDisruptionBudget: a node drain takes at most one pod at a time.
    pub(super) fn pod_disruption_budget(&self, meta: &Value) -> Value {
        json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {
                "maxUnavailable": 1,
                "selector": { "matchLabels": { "app.kubernetes.io/name": self.app } },
            },
        })
    }
}

/// Name the ConfigMap `cm` after its content (`{app}-bundle-` and the
/// first 10 hex digits of the sha256 of its `binaryData` and `data`),
/// make it immutable, and point the Deployment `dep`'s volume at it.
pub(super) fn seal_configmap(app: &str, cm: &mut Value, dep: &mut Value) {
    let content = json!([cm["binaryData"], cm["data"]]).to_string();
    let sha = crate::bundle::sha256_hex(content.as_bytes());
    let name = format!("{app}-bundle-{}", &sha[..10]);
    cm["metadata"]["name"] = json!(name);
    cm["immutable"] = json!(true);
    dep["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] = json!(name);
}

/// Requests or limits: those of the project file, else the defaults.
fn resource_list(l: Option<&ResourceList>, cpu: &str, mem: &str) -> Value {
    json!({
        "cpu": l.and_then(|x| x.cpu.clone()).unwrap_or_else(|| cpu.to_string()),
        "memory": l.and_then(|x| x.memory.clone()).unwrap_or_else(|| mem.to_string()),
    })
}

/// An HTTP probe of `path`.
fn probe(path: &str, delay: u32) -> Value {
    json!({
        "httpGet": { "path": path, "port": "http" },
        "initialDelaySeconds": delay,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    })
}

/// A DNS-1123 label: lowercase letters, digits and '-', at most 63 long.
/// When `s` had to be changed, `-` and 6 hex digits of its sha256 follow,
/// so that `a/b` and `a-b` (or `A` and `a`) never share a name.
pub(super) fn dns_label(s: &str) -> String {
    let plain = plain_dns_label(s);
    if plain == s {
        return plain;
    }
    let sha = crate::bundle::sha256_hex(s.as_bytes());
    let mut head = plain;
    head.truncate(63 - 7);
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        format!("x-{}", &sha[..6])
    } else {
        format!("{head}-{}", &sha[..6])
    }
}

/// `s` mapped onto the DNS-1123 label alphabet, without a hash.
fn plain_dns_label(s: &str) -> String {
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
    // A label value begins and ends with a letter or digit.
    out.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
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
    fn grpc_port_only_when_grpc_is_served() {
        let env: EnvironmentSection = toml::from_str("target = \"kubernetes\"\n").unwrap();
        for grpc in [false, true] {
            let m = Manifests {
                app: "mlops-hp".into(),
                version: "v1.0.0",
                sha256: "0",
                env: &env,
                grpc,
            };
            let meta = m.metadata();
            let c = m.container();
            let svc = m.service(&meta);
            let names = |v: &Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            };
            let want: &[&str] = if grpc { &["http", "grpc"] } else { &["http"] };
            assert_eq!(names(&c["ports"]), want);
            assert_eq!(names(&svc["spec"]["ports"]), want);
            let cmd = c["command"].to_string();
            assert_eq!(
                cmd.contains("\"--grpc-bind\",\"0.0.0.0:8001\""),
                grpc,
                "{cmd}"
            );
        }
    }

    #[test]
    fn names_and_labels() {
        let changed = dns_label("mlops-House_Price/x");
        assert!(changed.starts_with("mlops-house-price-x-"), "{changed}");
        assert_eq!(changed.len(), "mlops-house-price-x-".len() + 6);
        assert_eq!(dns_label("mlops-house-price"), "mlops-house-price");
        assert_eq!(label_value("v1.0.0+b.1"), "v1.0.0_b.1");
    }

    /// L13: `a/b` and `a-b` used to get one name.
    #[test]
    fn dns_labels_of_different_names_differ_and_stay_labels() {
        let (slash, dash) = (dns_label("mlops-a/b"), dns_label("mlops-a-b"));
        assert_ne!(slash, dash);
        assert_eq!(dash, "mlops-a-b");
        let long = dns_label(&format!("mlops-{}", "Ab/".repeat(40)));
        assert!(long.len() <= 63, "{long}");
        for l in [slash, long, dns_label("___"), dns_label("mlops-x_")] {
            assert!(l.len() <= 63 && !l.is_empty(), "{l}");
            assert!(!l.starts_with('-') && !l.ends_with('-'), "{l}");
            assert!(
                l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{l}"
            );
        }
    }

    /// L13: a label value cut at 63 characters used to end in `.`, `-` or `_`.
    #[test]
    fn label_values_begin_and_end_with_a_letter_or_digit() {
        let v = format!("v1.0.0-{}.x", "a".repeat(55));
        let cut = &v[..63];
        assert!(cut.ends_with('.'), "{cut}");
        let l = label_value(&v);
        assert!(l.len() <= 63 && !l.ends_with('.'), "{l}");
        assert_eq!(label_value("v1.0.0+b_"), "v1.0.0_b");
        assert_eq!(label_value("_v1-"), "v1");
    }

    /// L13: a digest is pulled once, a tag on every start.
    #[test]
    fn pull_policy_follows_the_image_reference() {
        for (image, pull) in [
            (
                "reg.example/mlops@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "IfNotPresent",
            ),
            ("reg.example/mlops:1.2.3", "Always"),
        ] {
            let env: EnvironmentSection =
                toml::from_str(&format!("target = \"kubernetes\"\nimage = \"{image}\"\n")).unwrap();
            let m = Manifests {
                app: "mlops-m".into(),
                version: "v1.0.0",
                sha256: "0",
                env: &env,
                grpc: false,
            };
            let c = m.container();
            assert_eq!(c["image"], image);
            assert_eq!(c["imagePullPolicy"], pull, "{image}");
        }
    }
}
