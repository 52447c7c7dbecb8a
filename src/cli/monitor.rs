//! `mlops monitor emit [--output DIR]`: write `alerts.yml`, `alerts_test.yml`
//! and `dashboard.json` for the project's model (templates in
//! [`mlops::monitor`]), each atomically.

use std::path::PathBuf;

use mlops::project::TargetKind;

use super::args::{Cli, MonitorArgs, MonitorCommand, MonitorEmitArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::Error;
use mlops::monitor::{self, Options};
use mlops::project::Project;

pub fn run(a: &MonitorArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    match &a.command {
        MonitorCommand::Emit(e) => emit(e, cli, env, out),
    }
}

fn emit(a: &MonitorEmitArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(config_path(cli, env), &env.cwd)?;
    let o = Options {
        job: a.job.clone(),
        model: project.model()?.name.clone(),
        availability: a.availability,
        latency_le: a.latency_le,
        latency_target: a.latency_target,
        runbook: a.runbook.clone(),
    };
    o.check()?;
    let kube_dir = match &a.kube {
        Some(name) => Some(kube_folder(&project, name)?),
        None => None,
    };
    let dir = env.cwd.join(&a.out);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create the folder", &dir, &e))?;
    let files = [
        ("alerts.yml", monitor::alerts_yml(&o)),
        ("alerts_test.yml", monitor::alerts_test_yml(&o)),
        ("dashboard.json", monitor::dashboard_json(&o)),
    ];
    let mut writes: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|(name, text)| (dir.join(name), text))
        .collect();
    if let Some(k) = kube_dir {
        std::fs::create_dir_all(&k).map_err(|e| Error::io("create the folder", &k, &e))?;
        writes.push((
            k.join("prometheusrule.yaml"),
            monitor::prometheus_rule_yaml(&o),
        ));
    }
    let mut report = String::new();
    let n = writes.len();
    for (path, text) in writes {
        mlops::fsutil::write_atomic(&path, text.as_bytes())?;
        report.push_str(&format!("wrote {}\n", path.display()));
    }
    out.report(&report, &format!("wrote {n} files to {}", dir.display()))
}

/// The manifests folder of kubernetes environment `name`.
fn kube_folder(project: &Project, name: &str) -> Result<PathBuf> {
    let e = project.environment(name)?;
    match (&e.target, &e.path) {
        (Some(TargetKind::Kubernetes), Some(p)) => Ok(project.resolve(p)),
        _ => Err(Error::usage(format!(
            "--kube {name}: environment \"{name}\" is not a kubernetes environment with a path; name one whose target is \"kubernetes\""
        ))),
    }
}
