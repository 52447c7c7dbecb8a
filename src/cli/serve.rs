//! `mlops serve [--bind ADDR] [--model PATH | --env ENV] [--state-dir DIR] [--grpc-bind ADDR]`

use std::io::Write;
use std::sync::Arc;

use super::args::{Cli, ServeArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::{Error, display_path};
use mlops::project::{Project, TargetKind};
use mlops::serve::{self, Config, Events};

/// Server events on stderr: the address always (scripts wait for it),
/// the rest unless `--quiet`.
struct Stderr {
    quiet: bool,
    warn_label: String,
}

impl Events for Stderr {
    fn listening(&self, url: &str) {
        let _ = writeln!(std::io::stderr(), "listening on {url}");
    }
    fn info(&self, msg: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{msg}");
        }
    }
    fn warn(&self, msg: &str) {
        let _ = writeln!(std::io::stderr(), "{} {msg}", self.warn_label);
    }
    fn listening_grpc(&self, addr: &str) {
        let _ = writeln!(std::io::stderr(), "grpc listening on {addr}");
    }
}

pub fn run(a: &ServeArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let explicit = config_path(cli, env);
    // A project is optional with --model or nothing; --env needs one.
    let project = match (Project::discover(explicit, &env.cwd), &a.env) {
        (Ok(_), _) | (Err(_), Some(_)) => Some(Project::load(explicit, &env.cwd)?),
        (Err(e), None) if explicit.is_some() => return Err(e),
        (Err(_), None) => None,
    };
    let section = project.as_ref().and_then(|p| p.file.serve.as_ref());
    let token_env = section.and_then(|s| s.admin_token_env.as_deref());
    let token = token_env.and_then(|v| std::env::var(v).ok());
    if let (Some(v), Some(t)) = (token_env, &token) {
        serve::admin::check_token(v, t)?;
    }
    let mut config = Config::from_section(
        section,
        |p| {
            project
                .as_ref()
                .map_or_else(|| env.cwd.join(p), |pr| pr.resolve(p))
        },
        token,
    )?;
    if let Some(b) = &a.bind {
        config.bind = mlops::project::parse_bind(b).ok_or_else(|| {
            Error::usage(format!(
                "--bind \"{b}\" is not an address and port, like 127.0.0.1:8080, localhost:8080 or 8080"
            ))
        })?;
    }
    if let Some(b) = &a.grpc_bind {
        config.grpc_bind = Some(mlops::project::parse_bind(b).ok_or_else(|| {
            Error::usage(format!(
                "--grpc-bind \"{b}\" is not an address and port, like 127.0.0.1:8001, localhost:8001 or 8001"
            ))
        })?);
    }
    if let Some(d) = &a.state_dir {
        config.state_dir = Some(env.cwd.join(d));
    }
    // That the admin API is off is said once, by the server (even without -v).
    let initial = match &a.model {
        Some(p) => Some(serve::load_model(&env.cwd.join(p))?),
        None => None,
    };
    if let (Some(name), Some(project)) = (&a.env, &project) {
        let e = project.environment(name)?;
        if e.targets.is_some() {
            return Err(Error::usage(format!(
                "environment \"{name}\" spans several targets; --env serves the folder of a single-target local environment"
            )));
        }
        if e.target != Some(TargetKind::Local) {
            return Err(Error::usage(format!(
                "environment \"{name}\" has target \"{}\"; --env serves a \"local\" environment's folder",
                e.kind().as_str()
            )));
        }
        let Some(path) = &e.path else {
            return Err(Error::usage(format!(
                "environment \"{name}\" has no path; add environments.{name}.path"
            )));
        };
        let dir = project.resolve(path);
        out.verbose(&format!("following {}", display_path(&dir)));
        config.env_dir = Some(dir);
    }
    let events = Arc::new(Stderr {
        quiet: out.quiet,
        warn_label: out.paint("warning:", "1;33"),
    });
    serve::serve(config, initial, events)
}
