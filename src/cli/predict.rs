//! `mlops predict --input CSV|PARQUET [--model PATH] [--output CSV|PARQUET]`

use std::io::Write;

use super::args::{Cli, PredictArgs};
use super::env::{Env, config_path};
use super::output::Output;
use mlops::Result;
use mlops::error::{Error, display_path};
use mlops::fsutil::AtomicFile;
use mlops::model::Artifact;
use mlops::project::Project;

pub fn run(a: &PredictArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let model_path = match &a.model {
        Some(p) => env.cwd.join(p),
        None => Project::load(config_path(cli, env), &env.cwd)
            .map_err(|e| {
                Error::usage(format!(
                    "no --model given and no project to take [model].artifact from: {e}"
                ))
            })?
            .artifact_path()?,
    };
    if out.json && a.output.is_none() {
        return Err(Error::usage(
            "--json needs --output: without it the predictions themselves go to stdout as CSV",
        ));
    }
    let model = Artifact::load(&model_path)?;
    let stdin_input = a.input.as_os_str() == "-";
    let input_path = env.input_path(&a.input);
    let origin = if stdin_input {
        "<stdin>".to_string()
    } else {
        display_path(&input_path)
    };
    let parquet_in = !stdin_input && mlops::data::is_parquet(&input_path);
    let parquet_file = if parquet_in {
        Some(mlops::data::ParquetFile::open(&input_path)?)
    } else {
        None
    };
    let input: Box<dyn std::io::Read> = if stdin_input {
        Box::new(std::io::stdin().lock())
    } else if parquet_in {
        Box::new(std::io::empty())
    } else if let Some(url) = mlops::data::store_url(&input_path) {
        Box::new(mlops::data::store::Remote::open(url)?.reader(0)?)
    } else {
        Box::new(
            std::fs::File::open(&input_path)
                .map_err(|e| Error::io("read the input", &input_path, &e))?,
        )
    };
    let rows = match &parquet_file {
        Some(f) => mlops::predict::Rows::Parquet(f),
        None => mlops::predict::Rows::Csv(input, &origin),
    };
    match &a.output {
        None => {
            let n = match rows {
                mlops::predict::Rows::Csv(input, origin) => {
                    mlops::predict::predict(&model, input, origin, std::io::stdout().lock())?
                }
                parquet => mlops::predict::predict_from(&model, parquet, std::io::stdout(), false)?,
            };
            out.verbose(&format!("predicted {n} rows with {}", model.name));
            Ok(())
        }
        Some(p) => {
            let path = env.cwd.join(p);
            let mut file = AtomicFile::create(&path)?;
            let parquet_out = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
            let n = mlops::predict::predict_from(&model, rows, file.file(), parquet_out)?;
            file.file()
                .flush()
                .map_err(|e| Error::io("write", &path, &e))?;
            file.commit()?;
            if out.json {
                let doc = serde_json::json!({
                    "model": model.name,
                    "model_path": display_path(&model_path),
                    "input": origin,
                    "output": display_path(&path),
                    "rows": n,
                });
                out.report(
                    &format!(
                        "{}\n",
                        serde_json::to_string_pretty(&doc).unwrap_or_default()
                    ),
                    "",
                )
            } else {
                let line = format!(
                    "{} {n} predictions to {}\n",
                    out.paint("Wrote", "1"),
                    display_path(&path)
                );
                out.report(&line, &line)
            }
        }
    }
}
