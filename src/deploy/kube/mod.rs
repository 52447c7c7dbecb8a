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

use super::target::{Check, Job, Live, Target};
use crate::error::{Error, Result, display_path};
use crate::project::{EnvironmentSection, Project, TargetKind};

use manifests::{Manifests, VERSION_KEY, dns_label};

pub use yaml::yaml;

mod manifests;
mod yaml;

/// The files written, in order.
pub const FILES: [&str; 4] = [
    "configmap.yaml",
    "deployment.yaml",
    "service.yaml",
    "hpa.yaml",
];

/// A ConfigMap holds at most 1 MiB.
const CONFIGMAP_MAX: usize = 1024 * 1024 - 4096;

/// A folder of manifests.
#[derive(Debug)]
pub struct Kube {
    root: PathBuf,
    env_name: String,
    env: EnvironmentSection,
    model: String,
    /// `[serve].grpc_bind` is set: the pods serve gRPC too.
    grpc: bool,
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
            grpc: project
                .file
                .serve
                .as_ref()
                .is_some_and(|s| s.grpc_bind.is_some()),
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
        let m = Manifests {
            app: self.app(),
            version,
            sha256,
            env: &self.env,
            grpc: self.grpc,
        };
        let meta = m.metadata();
        let docs = [
            m.configmap(&meta, bytes),
            m.deployment(&meta),
            m.service(&meta),
            m.hpa(&meta),
        ];
        let head = format!(
            "# Written by {} for environment {}; do not edit.\n",
            crate::package::tool(),
            self.env_name
        );
        docs.iter()
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

    /// Write the `new` manifests and read them back; on failure put the
    /// `old` ones back.
    fn replace_files(
        &self,
        old: &[(&str, Option<String>)],
        new: &[(&'static str, String)],
    ) -> Result<()> {
        let new_opt: Vec<(&str, Option<String>)> =
            new.iter().map(|(f, t)| (*f, Some(t.clone()))).collect();
        if let Err(e) = self.write_all(&new_opt) {
            let _ = self.write_all(old);
            return Err(e);
        }
        for (f, t) in new {
            if std::fs::read_to_string(self.root.join(f)).ok().as_deref() != Some(t.as_str()) {
                let _ = self.write_all(old);
                return Err(Error::Check(format!(
                    "{} did not read back as written; the previous manifests were put back",
                    display_path(&self.root.join(f))
                )));
            }
        }
        Ok(())
    }

    /// Put the `old` manifests back after the rollout of `job` failed with
    /// `e` (and re-apply them when the cluster took the new ones): the error.
    fn put_back(&self, old: &[(&str, Option<String>)], e: Error, job: &Job<'_>) -> Error {
        let _ = self.write_all(old);
        let back = match &e {
            Error::Check(_) if old.iter().any(|(_, t)| t.is_some()) => {
                match self.kubectl(&["apply", "-f", &self.root.display().to_string()]) {
                    Ok(_) => "the previous manifests were put back and applied",
                    Err(_) => "the previous manifests were put back but applying them failed too",
                }
            }
            _ => "the previous manifests were put back",
        };
        let msg = format!(
            "deploying {} {} to {} failed ({e}); {back}, and no assignment was recorded",
            job.model, job.bundle.version, self.env_name
        );
        match e {
            Error::Check(_) => Error::Check(msg),
            Error::Usage(_) => Error::Usage(msg),
            _ => Error::Remote(msg),
        }
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
        self.replace_files(&old, &new)?;
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
            Err(e) => Err(self.put_back(&old, e, job)),
        }
    }
}
