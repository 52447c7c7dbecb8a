//! `mlops init [DIR] [--example]`

use super::args::InitArgs;
use super::env::Env;
use super::output::Output;

pub fn run(a: &InitArgs, env: &Env, out: &Output) -> mlops::Result<()> {
    let dir = if a.dir.is_absolute() {
        a.dir.clone()
    } else {
        env.cwd.join(&a.dir)
    };
    let r = mlops::init::init(&dir, a.example)?;
    if out.json {
        return out.report(
            &format!("{}\n", serde_json::to_string_pretty(&r).unwrap_or_default()),
            "",
        );
    }
    let mut s = String::new();
    for c in &r.created {
        s.push_str(&format!("{} {c}\n", out.paint("created", "32")));
    }
    for c in &r.updated {
        s.push_str(&format!(
            "{} {c} (added {})\n",
            out.paint("updated", "33"),
            r.added.join(", ")
        ));
    }
    let next = if a.example {
        "next: run `mlops train` in that folder"
    } else {
        "next: put your CSV at data/train.csv, set data.target in mlops.toml, then run `mlops train`"
    };
    s.push_str(next);
    s.push('\n');
    out.report(&s, next)
}
