//! The `kubernetes` target: manifests for the engine that scales serving
//! past one machine, written into the environment's folder.
//!
//! Six files, each written atomically: `configmap.yaml` (the bundle as
//! `binaryData`, in an immutable ConfigMap named `{app}-bundle-{sha}` after
//! its content), `deployment.yaml` (`mlops serve --model
//! /models/bundle.tar.gz` with probes, resources, a read-only mount of that
//! ConfigMap, no service account token and a non-root security context),
//! `service.yaml`, `hpa.yaml`, `networkpolicy.yaml` and `pdb.yaml`.
//! `PATH/.lock` is the deploy lock (`flock`, as for `local`). With `apply =
//! true`, `kubectl apply` of those files and `kubectl rollout status`
//! follow; a failure puts the previous files back (and re-applies them when
//! the cluster already took the new ones).
//!
//! What is live ([`Target::live`]): with `apply = true`, the cluster's
//! answer (`kubectl get deployment`: the version annotation of the pod
//! template, so a `kubectl rollout undo` behind mlops' back is seen and
//! `deploy`/`rollback` say the cluster and the registry disagree); with
//! `apply = false`, `deployment.yaml` in the folder, the last manifests
//! written, since applying them is someone else's job.
//!
//! Old ConfigMaps stay in the cluster (a ReplicaSet that `rollout undo`
//! brings back needs its own); docs/deploy.md shows how to prune them.

use std::path::PathBuf;
use std::process::Command;

use super::phase::{Phased, Requests};
use super::target::{Check, Job, Live, Target};
use crate::error::{Error, Result, display_path};
use crate::project::{EnvironmentSection, Project, TargetKind};

use manifests::{Manifests, VERSION_KEY, dns_label, seal_configmap};

pub use yaml::yaml;

mod manifests;
mod pod;
mod yaml;

/// The files written, in order.
pub const FILES: [&str; 6] = [
    "configmap.yaml",
    "deployment.yaml",
    "service.yaml",
    "hpa.yaml",
    "networkpolicy.yaml",
    "pdb.yaml",
];

/// A ConfigMap holds at most 1 MiB.
const CONFIGMAP_MAX: usize = 1024 * 1024 - 4096;

/// Client-side `kubectl apply` (and most GitOps tools) copy the whole
/// object into the `kubectl.kubernetes.io/last-applied-configuration`
/// annotation, and a object's annotations hold at most 256 KiB; the
/// ConfigMap carries the bundle in base64. Room left for the rest of the
/// object (names, labels, `mlops.toml`).
const ANNOTATIONS_MAX: usize = 256 * 1024 - 16 * 1024;

/// The size of `n` bytes in base64.
const fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// A folder of manifests.
#[derive(Debug)]
pub struct Kube {
    root: PathBuf,
    env_name: String,
    env: EnvironmentSection,
    model: String,
    /// The project's `[serve]` for the pods.
    pod: Option<pod::PodServe>,
    /// `[serve].grpc_bind` is set: the pods serve gRPC too.
    grpc: bool,
    /// The deploy lock on `PATH/.lock`, held until the target is dropped.
    lock: Option<std::fs::File>,
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
            pod: pod::PodServe::of(project)?,
            grpc: project
                .file
                .serve
                .as_ref()
                .is_some_and(|s| s.grpc_bind.is_some()),
            lock: None,
        })
    }

    fn app(&self) -> String {
        dns_label(&format!("mlops-{}", self.model))
    }

    /// `kubectl apply` of the files this target writes, never of
    /// whatever else the folder holds.
    fn apply_files(&self) -> Result<String> {
        let paths: Vec<String> = FILES
            .iter()
            .map(|f| self.root.join(f).display().to_string())
            .collect();
        let mut args = vec!["apply"];
        for p in &paths {
            args.extend(["-f", p.as_str()]);
        }
        self.kubectl(&args)
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

    /// With `apply = true`, what the cluster runs: the version annotation
    /// of the Deployment's pod template, which `kubectl rollout undo` puts
    /// back with the rest of the template. `None` when there is no
    /// Deployment; a cluster that cannot be asked is an error (exit 5).
    fn cluster_version(&self) -> Result<Option<String>> {
        let app = self.app();
        let mut args = vec![
            "get",
            "deployment",
            app.as_str(),
            "--ignore-not-found",
            "-o",
            "json",
        ];
        if let Some(ns) = &self.env.namespace {
            args.extend(["-n", ns.as_str()]);
        }
        let out = self.kubectl(&args)?;
        if out.trim().is_empty() {
            return Ok(None);
        }
        let doc: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
            Error::Remote(format!(
                "`kubectl {}` did not print a Deployment as JSON ({e}); check the kubectl on PATH",
                args.join(" ")
            ))
        })?;
        Ok(doc
            .pointer("/spec/template/metadata/annotations")
            .and_then(|a| a.get(VERSION_KEY))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string))
    }

    /// Render the manifests for `job`'s bundle.
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
        let mut docs = [
            m.configmap(&meta, bytes),
            m.deployment(&meta),
            m.service(&meta),
            m.hpa(&meta),
            m.network_policy(&meta),
            m.pod_disruption_budget(&meta),
        ];
        let [cm, dep, ..] = &mut docs;
        if let Some(p) = &self.pod {
            p.apply(&m.app, cm, dep);
        }
        seal_configmap(&m.app, cm, dep);
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
            Error::Check(_) if old.iter().any(|(_, t)| t.is_some()) => match self.apply_files() {
                Ok(_) => "the previous manifests were put back and applied",
                Err(_) => "the previous manifests were put back but applying them failed too",
            },
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
        self.apply_files()?;
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

/// The version annotation in the text of `deployment.yaml` (JSON or YAML
/// style), if any.
fn folder_version(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let rest = l
            .trim()
            .strip_prefix(&format!("\"{VERSION_KEY}\":"))
            .or_else(|| l.trim().strip_prefix(&format!("{VERSION_KEY}:")))?;
        serde_json::from_str::<String>(rest.trim()).ok()
    })
}

/// A bundle a ConfigMap can hold.
fn fits(job: &Job<'_>) -> Result<()> {
    let encoded = base64_len(job.bytes.len());
    if encoded > CONFIGMAP_MAX || encoded > ANNOTATIONS_MAX {
        return Err(Error::usage(format!(
            "the bundle of {} {} is {} bytes ({encoded} in base64), more than a ConfigMap applied with kubectl takes \
             (its copy in the last-applied-configuration annotation must stay under 256 KiB, so at most {} bytes of bundle); \
             serve it from an image instead",
            job.model,
            job.bundle.version,
            job.bytes.len(),
            ANNOTATIONS_MAX / 4 * 3
        )));
    }
    Ok(())
}

impl Target for Kube {
    fn kind(&self) -> TargetKind {
        TargetKind::Kubernetes
    }

    fn location(&self) -> String {
        display_path(&self.root)
    }

    fn lock(&mut self) -> Result<()> {
        self.lock = Some(super::local::flock(&self.root, &self.env_name)?);
        Ok(())
    }

    fn live(&mut self) -> Result<Live> {
        let champion = if self.env.apply == Some(true) {
            self.cluster_version()?
        } else {
            folder_version(
                &std::fs::read_to_string(self.root.join("deployment.yaml")).unwrap_or_default(),
            )
        };
        Ok(Live {
            champion,
            ..Live::default()
        })
    }

    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let b = job.bundle;
        fits(job)?;
        let new = self.render(&b.version, &b.sha256, job.bytes);
        self.switch(&new, job)
    }
}

impl Kube {
    /// `PATH/.staged/<version>/`: where a manifest set waits for its commit.
    fn staged_dir(&self, version: &str) -> PathBuf {
        self.root.join(".staged").join(version)
    }

    fn current_files(&self) -> Vec<(&'static str, Option<String>)> {
        FILES
            .iter()
            .map(|f| (*f, std::fs::read_to_string(self.root.join(f)).ok()))
            .collect()
    }

    /// Make `new` the manifests (and roll them out when `apply = true`).
    fn switch(&self, new: &[(&'static str, String)], job: &Job<'_>) -> Result<Vec<Check>> {
        let old = self.current_files();
        self.replace_files(&old, new)?;
        let mut checks = vec![Check::pass(
            "manifests",
            format!(
                "{} written to {}",
                FILES.join(", "),
                display_path(&self.root)
            ),
        )];
        if self.env.apply == Some(true) {
            checks.extend(self.rollout().map_err(|e| self.put_back(&old, e, job))?);
        } else {
            checks.push(Check::pass(
                "apply",
                format!(
                    "apply = false: nothing applied; the version is recorded as rendered until `kubectl apply -f {}` runs it",
                    display_path(&self.root)
                ),
            ));
        }
        Ok(checks)
    }
}

impl Phased for Kube {
    fn stage(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let b = job.bundle;
        fits(job)?;
        let dir = self.staged_dir(&b.version);
        for (f, text) in self.render(&b.version, &b.sha256, job.bytes) {
            let p = dir.join(f);
            crate::fsutil::write_atomic(&p, text.as_bytes())?;
            if std::fs::read_to_string(&p).ok().as_deref() != Some(text.as_str()) {
                return Err(Error::Check(format!(
                    "{} did not read back as written",
                    display_path(&p)
                )));
            }
        }
        Ok(vec![Check::pass(
            "manifests",
            format!("{} staged in {}", FILES.join(", "), display_path(&dir)),
        )])
    }

    fn commit(&mut self, job: &Job<'_>) -> Result<Vec<Check>> {
        let b = job.bundle;
        let new = self.render(&b.version, &b.sha256, job.bytes);
        let checks = self.switch(&new, job)?;
        self.unstage(&b.version)?;
        Ok(checks)
    }

    fn revert(&mut self, job: &Job<'_>, previous: Option<&str>) -> Result<()> {
        let Some(v) = previous else {
            let none: Vec<(&str, Option<String>)> = FILES.iter().map(|f| (*f, None)).collect();
            return self.write_all(&none);
        };
        if self.live()?.champion.as_deref() == Some(v) {
            return Ok(());
        }
        let bytes = (job.fetch)(v)?;
        let sha = crate::bundle::sha256_hex(&bytes);
        let old = self.render(v, &sha, &bytes);
        self.switch(&old, job).map(|_| ())
    }

    fn unstage(&mut self, version: &str) -> Result<()> {
        let dir = self.staged_dir(version);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &dir, &e)),
        }
    }

    fn requests(&mut self) -> Result<Option<Requests>> {
        Ok(None)
    }

    fn ready(&mut self) -> bool {
        self.root.join("deployment.yaml").is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::smoke::Rows;

    fn kube_at(root: &std::path::Path) -> Kube {
        Kube {
            root: root.to_path_buf(),
            env_name: "prod".into(),
            env: toml::from_str("target = \"kubernetes\"\npath = \"k8s\"\n").unwrap(),
            model: "m".into(),
            pod: None,
            grpc: false,
            lock: None,
        }
    }

    /// M4: two deploys to one folder: one holds the lock, the other is
    /// refused (before this, `lock()` did nothing and both wrote).
    #[test]
    fn two_deploys_to_one_folder_give_one_writer_and_one_lock_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("k8s");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let results: Vec<Result<Kube>> = (0..2)
            .map(|_| {
                let (root, barrier) = (root.clone(), std::sync::Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut k = kube_at(&root);
                    barrier.wait();
                    k.lock().map(|()| k)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("another deploy to prod is running"),
            "{}",
            errors[0]
        );
        drop(results);
        kube_at(&root).lock().unwrap();
    }

    /// M4: a 300 KB bundle passes the 1 MiB check on raw bytes but not
    /// `kubectl apply` (base64 in a 256 KiB annotation): refused up front.
    #[test]
    fn a_bundle_kubectl_would_refuse_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, b) = crate::deploy::test_bundle(dir.path(), "v2.0.0", 0.0);
        let rows = Rows {
            rows: Vec::new(),
            source: "none".into(),
        };
        let fetch = |_: &str| -> Result<Vec<u8>> { Err(Error::Registry("no".into())) };
        let job = |bytes: &'static [u8]| Job {
            step: super::super::target::Step::Replace {
                drop_challenger: false,
            },
            model: "m",
            bundle: &b,
            bytes,
            smoke: &rows,
            registry_champion: None,
            fetch: &fetch,
        };
        let big: &'static [u8] = Box::leak(vec![0u8; 300_000].into_boxed_slice());
        let e = fits(&job(big)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("last-applied-configuration"), "{e}");
        let small: &'static [u8] = Box::leak(vec![0u8; 150_000].into_boxed_slice());
        fits(&job(small)).unwrap();
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 8);
    }

    /// M4: the ConfigMap is named after its content and immutable, and
    /// the Deployment mounts that one, so each ReplicaSet keeps its model.
    #[test]
    fn two_bundles_get_two_immutable_configmaps() {
        let dir = tempfile::tempdir().unwrap();
        let k = kube_at(&dir.path().join("k8s"));
        let name = |files: &[(&str, String)]| {
            let cm = &files[0].1;
            assert!(cm.contains("immutable: true"), "{cm}");
            let line = cm
                .lines()
                .find(|l| l.trim_start().starts_with("name: \"mlops-m-bundle-"))
                .unwrap_or_else(|| panic!("{cm}"))
                .trim()
                .to_string();
            let dep = &files[1].1;
            assert!(dep.contains(&line), "{line}\n{dep}");
            line
        };
        let a = name(&k.render("v1.0.0", "aa", b"bundle one"));
        let b = name(&k.render("v1.1.0", "bb", b"bundle two"));
        assert_ne!(a, b);
        assert_eq!(a, name(&k.render("v1.0.0", "aa", b"bundle one")));
        assert_eq!(a.len(), "name: \"mlops-m-bundle-\"".len() + 10);
    }

    /// L13: no service account token, a NetworkPolicy and a PodDisruptionBudget.
    #[test]
    fn pods_get_no_token_a_network_policy_and_a_disruption_budget() {
        let dir = tempfile::tempdir().unwrap();
        let k = kube_at(&dir.path().join("k8s"));
        let files = k.render("v1.0.0", "aa", b"bundle");
        let names: Vec<&str> = files.iter().map(|(f, _)| *f).collect();
        assert_eq!(names, FILES);
        assert!(files[1].1.contains("automountServiceAccountToken: false"));
        assert!(files[4].1.contains("kind: \"NetworkPolicy\""));
        assert!(files[4].1.contains("port: 8080"));
        assert!(files[5].1.contains("kind: \"PodDisruptionBudget\""));
        assert!(files[5].1.contains("maxUnavailable: 1"));
    }

    #[test]
    fn stage_commit_revert_and_unstage_move_manifest_sets() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, b) = crate::deploy::test_bundle(dir.path(), "v2.0.0", 0.0);
        let env: EnvironmentSection =
            toml::from_str("target = \"kubernetes\"\npath = \"k8s\"\n").unwrap();
        let mut k = Kube {
            root: dir.path().join("k8s"),
            env_name: "prod".into(),
            env,
            model: "m".into(),
            pod: None,
            grpc: false,
            lock: None,
        };
        let rows = Rows {
            rows: Vec::new(),
            source: "none".into(),
        };
        let fetch = |_: &str| -> Result<Vec<u8>> { Err(Error::Registry("no".into())) };
        let job = Job {
            step: super::super::target::Step::Replace {
                drop_challenger: false,
            },
            model: "m",
            bundle: &b,
            bytes: &bytes,
            smoke: &rows,
            registry_champion: None,
            fetch: &fetch,
        };
        k.stage(&job).unwrap();
        assert!(k.root.join(".staged/v2.0.0/deployment.yaml").is_file());
        assert_eq!(k.live().unwrap().champion, None, "staging serves nothing");
        k.unstage("v2.0.0").unwrap();
        assert!(!k.root.join(".staged/v2.0.0").exists());
        k.stage(&job).unwrap();
        k.commit(&job).unwrap();
        assert_eq!(k.live().unwrap().champion.as_deref(), Some("v2.0.0"));
        assert!(!k.root.join(".staged/v2.0.0").exists());
        assert!(k.ready());
        k.revert(&job, None).unwrap();
        assert_eq!(k.live().unwrap().champion, None);
        assert!(!k.ready());
    }
}
