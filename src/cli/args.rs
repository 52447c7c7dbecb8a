//! The clap definition of the command line: only clap types, so that the
//! integration tests can include this file to generate the man pages and to
//! check docs/commands.md against every flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The help heading of the flags every command accepts.
const GLOBAL: &str = "Global options";

/// mlops: train, validate, package, deploy and serve tabular models from one project file.
#[derive(Debug, Parser)]
#[command(
    name = "mlops",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "Documentation topics (mlops help TOPIC):\n  project-file     mlops.toml: every table and key\n  commands         every command and flag\n  exit-codes       what each exit code means, for scripts\n  serving          mlops serve: protocols, admin API, A/B feedback\n  deploy           deploy and rollback: targets, canaries\n  registry         the registry on git tags, GTO's format\n  statistics       the statistics of validate and abtest-analyze\n  getting-started  the quick start, step by step\n"
)]
pub struct Cli {
    /// The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]
    #[arg(short = 'C', long = "config", global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub config: Option<PathBuf>,
    /// Print one JSON document on stdout instead of the human report
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,
    /// The report's format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)
    #[arg(long, global = true, value_enum, value_name = "FORMAT", help_heading = GLOBAL)]
    pub format: Option<ReportFormat>,
    /// Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,
    /// Say more on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// When to use colours (honours NO_COLOR and CLICOLOR_FORCE)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = GLOBAL)]
    pub color: ColorChoice,
    /// The command
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create mlops.toml and a .gitignore (and data with --example); never overwrites
    Init(InitArgs),
    /// Fit the model on the project's data, report metrics and write the artifact
    Train(TrainArgs),
    /// Predict every row of a CSV: its columns plus a `prediction` column
    Predict(PredictArgs),
    /// Check quality gates, a registered baseline, data and drift; exit 1 on a failure
    Validate(ValidateArgs),
    /// Bundle the committed model reproducibly and register it as NAME@vX.Y.Z
    #[command(disable_version_flag = true)]
    Package(PackageArgs),
    /// List the registry's models: latest version and the version in each stage
    Models(ModelsArgs),
    /// List the registry events in order, of every model or of NAME
    History(HistoryArgs),
    /// Take a version to an environment, verify it there, record tag NAME#ENV#N
    #[command(disable_version_flag = true)]
    Deploy(DeployArgs),
    /// Put back the previous version (or --to VERSION), with the checks of deploy
    Rollback(RollbackArgs),
    /// What each environment's targets serve against what the registry says
    Status(StatusArgs),
    /// Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events
    Show(ShowArgs),
    /// Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration
    Deprecate(DeprecateArgs),
    /// Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on
    Deregister(DeregisterArgs),
    /// Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back
    Unassign(UnassignArgs),
    /// Analyse an A/B experiment; decide ship, keep, inconclusive or invalid
    #[command(name = "abtest-analyze")]
    AbtestAnalyze(AbtestArgs),
    /// Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics
    Serve(ServeArgs),
    /// Print the completion script of a shell (bash, zsh, fish, powershell, elvish)
    Completions(CompletionsArgs),
    /// Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)
    Token(TokenArgs),
    /// Prometheus alert rules, their promtool tests and a Grafana dashboard for the model
    Monitor(MonitorArgs),
}

/// `mlops monitor`
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// What to do
    #[command(subcommand)]
    pub command: MonitorCommand,
}

/// The subcommands of `mlops monitor`.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Write alerts.yml, alerts_test.yml and dashboard.json for the project's model
    Emit(MonitorEmitArgs),
}

/// `mlops monitor emit`
#[derive(Debug, Args)]
pub struct MonitorEmitArgs {
    /// The folder to write the three files to (created if needed)
    #[arg(
        long = "output",
        visible_alias = "out",
        value_name = "DIR",
        default_value = "monitoring"
    )]
    pub out: PathBuf,
    /// The Prometheus job that scrapes the server
    #[arg(long, value_name = "NAME", default_value = "mlops")]
    pub job: String,
    /// Availability objective: the share of requests answered without a 5xx
    #[arg(long, value_name = "SHARE", default_value = "0.999")]
    pub availability: f64,
    /// Latency objective's bound, seconds: a bucket of mlops_request_duration_seconds
    #[arg(long, value_name = "SECONDS", default_value = "0.1")]
    pub latency_le: f64,
    /// Latency objective: the share of requests at most --latency-le
    #[arg(long, value_name = "SHARE", default_value = "0.99")]
    pub latency_target: f64,
    /// Where the runbook annotations point (anchors per alert follow)
    #[arg(long, value_name = "URL", default_value = "docs/monitoring.md")]
    pub runbook: String,
    /// Also write the rules as a PrometheusRule (prometheusrule.yaml) beside this kubernetes environment's manifests
    #[arg(long, value_name = "ENV")]
    pub kube: Option<String>,
}

/// `--bump`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BumpPart {
    /// vX.Y.Z+1
    Patch,
    /// vX.Y+1.0
    Minor,
    /// vX+1.0.0
    Major,
}

/// `mlops package`
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Register this version (vMAJOR.MINOR.PATCH[-PRE][+BUILD])
    #[arg(long, value_name = "vX.Y.Z", conflicts_with = "bump")]
    pub version: Option<String>,
    /// Bump this part of the highest registered version (the first version is v0.0.1)
    #[arg(long, value_enum, value_name = "PART")]
    pub bump: Option<BumpPart>,
    /// Rebuild the bundle of a registered version from its commit and compare its sha256 with the tag's
    #[arg(long, value_name = "NAME@vX.Y.Z", conflicts_with_all = ["version", "bump", "push", "dry_run"])]
    pub check: Option<String>,
    /// Push the new tag to [registry].remote (default origin)
    #[arg(long)]
    pub push: bool,
    /// Print the version, tag and bundle path it would create; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Put the bundle in [registry].bundle_store before tagging
    #[arg(long)]
    pub upload: bool,
}

/// `mlops deploy`
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The environment ([environments.ENV] of the project file; the registry stage)
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The version to deploy [default: the latest registered version of [model].name]
    #[arg(long, value_name = "vX.Y.Z", conflicts_with = "promote")]
    pub version: Option<String>,
    /// Canary: serve the version as challenger beside the champion, with this % of traffic (local and http targets)
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub canary: Option<u8>,
    /// End a canary: make the running challenger the champion, which serves all traffic
    #[arg(long, conflicts_with = "canary")]
    pub promote: bool,
    /// Print the plan (environment, target, current and new version, strategy, checks); change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Push the assignment tag to [registry].remote (default origin)
    #[arg(long)]
    pub push: bool,
    /// Accepted for scripts; mlops never prompts
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Act even when what the environment serves differs from what the registry says
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub multi: MultiFlags,
    /// Environments with targets: finish the interrupted deploy with this journal id (.mlops/deploys/ID.json)
    #[arg(long, value_name = "ID", conflicts_with_all = ["abort", "version", "canary", "promote"])]
    pub resume: Option<String>,
    /// Environments with targets: undo the interrupted deploy with this journal id, putting every target back
    #[arg(long, value_name = "ID", conflicts_with_all = ["version", "canary", "promote"])]
    pub abort: Option<String>,
}

/// The flags of `deploy` and `rollback` for environments with `targets`.
#[derive(Debug, Args)]
pub struct MultiFlags {
    /// Environments with targets = [...]: deploy to these targets only (comma-separated)
    #[arg(long, value_name = "T,T", value_delimiter = ',')]
    pub targets: Option<Vec<String>>,
    /// Environments with targets: stage and verify this many targets at once [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_parallel: Option<u16>,
    /// Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target's /metrics error ratio against [deploy] max_error_ratio
    #[arg(long, value_name = "DURATION")]
    pub bake: Option<String>,
}

/// `mlops rollback`
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment ([environments.ENV] of the project file; the registry stage)
    #[arg(value_name = "ENV")]
    pub env: String,
    /// Put back this version instead of the one live before the current
    #[arg(long, value_name = "vX.Y.Z")]
    pub to: Option<String>,
    /// Print the plan; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Push the assignment tag to [registry].remote (default origin)
    #[arg(long)]
    pub push: bool,
    /// Accepted for scripts; mlops never prompts
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Act even when what the environment serves differs from what the registry says
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub multi: MultiFlags,
}

/// `mlops models`
#[derive(Debug, Args)]
pub struct ModelsArgs {}

/// `mlops status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The environment [default: every environment of the project file]
    #[arg(value_name = "ENV")]
    pub env: Option<String>,
}

/// `mlops show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The model, or one version of it [default version: the latest]
    #[arg(value_name = "NAME[@vX.Y.Z]")]
    pub target: String,
}

/// `mlops deprecate`
#[derive(Debug, Args)]
pub struct DeprecateArgs {
    /// The model
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// `mlops deregister`
#[derive(Debug, Args)]
pub struct DeregisterArgs {
    /// The version
    #[arg(value_name = "NAME@vX.Y.Z")]
    pub target: String,
}

/// `mlops unassign`
#[derive(Debug, Args)]
pub struct UnassignArgs {
    /// The model
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The stage
    #[arg(value_name = "STAGE")]
    pub stage: String,
}

/// `mlops history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this model's events
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

/// `mlops abtest-analyze`
#[derive(Debug, Args)]
pub struct AbtestArgs {
    /// The rows: a CSV or JSON Lines file, `-` for stdin, or an http(s) URL
    #[arg(long, value_name = "PATH|-|URL")]
    pub input: String,
    /// The column naming each row's variant [default: abtest.variant_column, else variant]
    #[arg(long, value_name = "COLUMN")]
    pub variant_column: Option<String>,
    /// The metric column [default: abtest.metric]
    #[arg(long, value_name = "COLUMN")]
    pub metric: Option<String>,
    /// The kind of metric [default: abtest.kind, else continuous]
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// The control variant [default: abtest.control]
    #[arg(long, value_name = "NAME")]
    pub control: Option<String>,
    /// Significance level [default: abtest.alpha, else 0.05]
    #[arg(long, value_name = "ALPHA")]
    pub alpha: Option<f64>,
    /// The planned allocation, like A=0.5,B=0.5 [default: abtest.planned_split, else equal]
    #[arg(long, value_name = "NAME=WEIGHT,...")]
    pub split: Option<String>,
    /// With an http(s) --input: send `Authorization: Bearer` with the token in this environment variable (never printed)
    #[arg(long, value_name = "VAR", default_value = "MLOPS_TOKEN")]
    pub token_env: String,
    /// The test [default: abtest.test, else auto: Welch for continuous, z or Fisher for binary]
    #[arg(long, value_enum)]
    pub test: Option<TestArg>,
    /// Multiple-comparison correction over the variants [default: abtest.correction, else holm]
    #[arg(long, value_enum)]
    pub correction: Option<CorrectionArg>,
    /// Aggregate the rows of each unit (a user, a session) named in this column before testing
    #[arg(long, value_name = "COLUMN")]
    pub unit: Option<String>,
    /// Reduce variance with CUPED: a column measured before the experiment (theta pooled across variants)
    #[arg(long, value_name = "COLUMN")]
    pub covariate: Option<String>,
    /// Relative minimum detectable effect (like 0.02) to report the sample size needed for
    #[arg(long, value_name = "FRACTION")]
    pub mde: Option<f64>,
    /// Which way is better for the metric [default: abtest.direction, else increase]
    #[arg(long, value_enum)]
    pub direction: Option<DirectionArg>,
    /// Exit 1 unless the decision is this one
    #[arg(long, value_enum, value_name = "DECISION")]
    pub require: Option<RequireArg>,
    /// Write the report (in --format, or JSON with --json) to this file, atomically, instead of stdout
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Any real number
    Continuous,
    /// 0/1 or true/false
    Binary,
}

/// `--test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestArg {
    /// Welch (continuous); pooled z, or Fisher when an expected count is below 5 (binary)
    Auto,
    /// Welch's unequal-variance t-test
    Welch,
    /// Student's pooled-variance t-test
    Student,
    /// Mann-Whitney U (exact when small and untied)
    MannWhitney,
    /// Pooled two-proportion z-test
    Z,
    /// 2x2 chi-square with Yates' correction
    Chi2,
    /// Fisher's exact test
    Fisher,
}

/// `--correction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CorrectionArg {
    /// Holm step-down
    Holm,
    /// Bonferroni
    Bonferroni,
    /// Benjamini-Hochberg false discovery rate
    Bh,
    /// No correction
    None,
}

/// `--direction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// Higher is better
    Increase,
    /// Lower is better
    Decrease,
}

/// `--require`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RequireArg {
    /// A challenger is significantly better and the experiment is valid
    Ship,
}

/// `mlops validate`
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Evaluate on this CSV instead of the validation rows of [split]
    #[arg(long, value_name = "CSV")]
    pub data: Option<PathBuf>,
    /// Compare with the version in this stage, or with NAME@vX.Y.Z [default: validate.baseline]
    #[arg(long, value_name = "STAGE|NAME@vX.Y.Z")]
    pub baseline: Option<String>,
    /// Check the drift of this CSV (or prediction log, JSON Lines) against the training rows [default: validate.drift.data]
    #[arg(long, value_name = "CSV|LOG")]
    pub drift_data: Option<PathBuf>,
    /// With a prediction log: only its lines this recent (like 24h, 30m, 7d)
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table
    #[arg(long, visible_alias = "output", value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Write MLOPS_VALIDATE_PASSED=true|false and the metrics to this dotenv file
    #[arg(long, value_name = "PATH")]
    pub dotenv: Option<PathBuf>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// The human report, for a terminal
    Text,
    /// The JSON document (as --json)
    Json,
    /// Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)
    Markdown,
    /// JUnit XML, each check a test case (validate)
    Junit,
}

/// `mlops init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project folder (created if needed)
    #[arg(default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Also write the house-price example dataset to data/train.csv
    #[arg(long)]
    pub example: bool,
}

/// `mlops train`
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Write the artifact here instead of [model].artifact
    #[arg(long = "output", visible_alias = "out", value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Fit in bounded memory, reading the data in blocks (default: by file size or [model].streaming)
    #[arg(long)]
    pub streaming: bool,
}

/// `mlops predict`
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model artifact [default: [model].artifact of the project file]
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// The CSV or Parquet file to predict (`-` for stdin; s3://, gs://, az:// URLs too)
    #[arg(long, value_name = "CSV")]
    pub input: PathBuf,
    /// Write the predictions here (atomically) instead of stdout; .parquet writes Parquet
    #[arg(long, value_name = "CSV")]
    pub output: Option<PathBuf>,
}

/// `mlops serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on this address and port (port 0: any free port) [default: [serve].bind, else 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Serve this model from the start: an artifact JSON or a bundle .tar.gz (checksums verified)
    #[arg(long, value_name = "PATH", conflicts_with = "env")]
    pub model: Option<PathBuf>,
    /// Serve a local environment's current release and follow its deploys
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Keep uploaded bundles, slots, split and A/B observations in this folder across restarts [default: [serve].state_dir, else none]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Also serve the Open Inference Protocol over gRPC on this address and port [default: [serve].grpc_bind, else no gRPC]
    #[arg(long, value_name = "ADDR")]
    pub grpc_bind: Option<String>,
}

/// `--role` of `mlops token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRole {
    /// Inference and model metadata routes
    Predict,
    /// The admin API
    Admin,
}

/// `mlops token`
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// A role the token grants (repeat for both)
    #[arg(long, value_enum, value_name = "ROLE", required = true)]
    pub role: Vec<TokenRole>,
    /// Lifetime: a number with s, m, h or d (like 15m)
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    pub ttl: String,
    /// The token's subject (sub)
    #[arg(long, value_name = "NAME", default_value = "mlops-dev")]
    pub sub: String,
}

/// `mlops completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
    /// Write the script to this file, atomically, instead of stdout
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}
