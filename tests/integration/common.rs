//! The test builder: a temporary project folder, files in it, and one run of
//! the real `mlops` binary with a clean environment.
//!
//! ```ignore
//! Test::new()
//!     .toml(PROJECT)
//!     .file("d.csv", "a,y\n1,2\n")
//!     .args(["train"])
//!     .run()
//!     .code(0)
//!     .stdout_contains("Trained");
//! ```
//!
//! Builder methods take and return the test by value; `run` borrows it, so
//! the folder can be inspected (and the binary run again with other `args`)
//! afterwards. Every assertion is `#[track_caller]` and prints the command's
//! whole output when it fails.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde_json::Value;

/// The `mlops` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_mlops");

/// The repository root (for the bundled example and `completions/`).
#[must_use]
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled example's training file, absolute.
#[must_use]
pub fn example_csv() -> PathBuf {
    repo().join("examples/house-prices/train.csv")
}

/// A project file for the bundled example: the data path is absolute, the
/// artifact goes to `models/house-price.json` in the test's folder.
#[must_use]
pub fn example_toml() -> String {
    format!(
        r#"[project]
name = "house-prices"

[data]
path = {path}
target = "price"
exclude = ["id"]
categorical = ["neighborhood"]
missing = "error"

[split]
validation_fraction = 0.2
seed = 42

[model]
name = "house-price"
kind = "linear"
fit_intercept = true
artifact = "models/house-price.json"
"#,
        path = toml_str(&example_csv().display().to_string())
    )
}

/// `s` as a TOML basic string.
#[must_use]
pub fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// One test: a temporary folder, and how to run the binary in it.
pub struct Test {
    dir: tempfile::TempDir,
    cwd: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
}

impl Test {
    /// An empty temporary folder; the binary runs in it.
    #[must_use]
    pub fn new() -> Test {
        let dir = tempfile::Builder::new()
            .prefix("mlops-it-")
            .tempdir()
            .expect("create a temporary folder");
        // The canonical path, so that paths in messages come out relative.
        let cwd = std::fs::canonicalize(dir.path()).unwrap();
        Test {
            dir,
            cwd,
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// The test's folder (canonical).
    #[must_use]
    pub fn root(&self) -> PathBuf {
        std::fs::canonicalize(self.dir.path()).unwrap()
    }

    /// A path inside the test's folder.
    #[must_use]
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root().join(rel)
    }

    /// Write a file (parents created).
    #[must_use]
    pub fn file(self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> Test {
        self.write(rel, contents);
        self
    }

    /// Write a file without consuming the test.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
    }

    /// Write `mlops.toml`.
    #[must_use]
    pub fn toml(self, text: &str) -> Test {
        self.file("mlops.toml", text)
    }

    /// Create a folder.
    #[must_use]
    pub fn dir(self, rel: impl AsRef<Path>) -> Test {
        std::fs::create_dir_all(self.path(rel)).unwrap();
        self
    }

    /// The command-line arguments (replacing earlier ones).
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Set an environment variable for the run.
    #[must_use]
    pub fn env(mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> Test {
        self.env.push((k.into(), Some(v.into())));
        self
    }

    /// Unset an environment variable for the run (`NO_COLOR` is set by default).
    #[must_use]
    pub fn env_remove(mut self, k: impl Into<OsString>) -> Test {
        self.env.push((k.into(), None));
        self
    }

    /// Run in this subfolder of the test's folder instead of its root.
    #[must_use]
    pub fn current_dir(mut self, rel: impl AsRef<Path>) -> Test {
        let p = self.path(rel);
        std::fs::create_dir_all(&p).unwrap();
        self.cwd = p;
        self
    }

    /// Bytes fed to the binary's stdin (default: empty).
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Test {
        self.stdin = Some(bytes.into());
        self
    }

    /// Whether a file exists in the test's folder.
    #[must_use]
    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.path(rel).exists()
    }

    /// A file of the test's folder as bytes.
    #[track_caller]
    #[must_use]
    pub fn read_bytes(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let p = self.path(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    }

    /// A file of the test's folder as text.
    #[track_caller]
    #[must_use]
    pub fn read(&self, rel: impl AsRef<Path>) -> String {
        String::from_utf8(self.read_bytes(rel)).unwrap()
    }

    /// A JSON file of the test's folder.
    #[track_caller]
    #[must_use]
    pub fn read_json(&self, rel: impl AsRef<Path>) -> Value {
        serde_json::from_slice(&self.read_bytes(rel)).unwrap()
    }

    /// Every file below the test's folder, relative, sorted, with contents.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    let rel = p.strip_prefix(root).unwrap().to_path_buf();
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        let root = self.root();
        walk(&root, &root, &mut out);
        out.sort();
        out
    }

    /// The command as it would run, for tests that drive the process
    /// themselves (pipes).
    #[must_use]
    pub fn command(&self) -> Command {
        let mut c = self.base_command();
        c.args(&self.args);
        c
    }

    /// The command with these arguments instead of the test's own.
    #[must_use]
    pub fn command_args<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut c = self.base_command();
        c.args(args);
        c
    }

    /// The command without arguments.
    fn base_command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(&self.cwd);
        for k in [
            "MLOPS_CONFIG",
            "NO_COLOR",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "SOURCE_DATE_EPOCH",
            "RUST_BACKTRACE",
            "GITHUB_ACTIONS",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_OUTPUT",
            "GITLAB_CI",
        ] {
            c.env_remove(k);
        }
        c.env("NO_COLOR", "1");
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    /// Run the binary and collect its output.
    #[must_use]
    pub fn run(&self) -> Output {
        self.run_with(&self.args)
    }

    /// Run the binary with these arguments (the test's own are kept).
    #[must_use]
    pub fn run_args<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        self.run_with(&args)
    }

    fn run_with(&self, args: &[OsString]) -> Output {
        let mut c = self.base_command();
        c.args(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn mlops");
        let input = self.stdin.clone().unwrap_or_default();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            // The binary may exit before reading all of it.
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().expect("wait for mlops");
        let _ = writer.join();
        let mut cmdline = String::from("mlops");
        for a in args {
            let _ = write!(cmdline, " {}", a.to_string_lossy());
        }
        Output {
            status: out.status,
            stdout_bytes: out.stdout.clone(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            cmdline,
        }
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// The exit status.
    pub status: ExitStatus,
    /// Stdout (lossy UTF-8).
    pub stdout: String,
    /// Stdout as bytes.
    pub stdout_bytes: Vec<u8>,
    /// Stderr (lossy UTF-8).
    pub stderr: String,
    cmdline: String,
}

impl Output {
    fn describe(&self) -> String {
        format!(
            "`{}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }

    /// Assert the exit code.
    #[track_caller]
    pub fn code(&self, n: i32) -> &Output {
        assert_eq!(
            self.status.code(),
            Some(n),
            "expected exit code {n}\n{}",
            self.describe()
        );
        self
    }

    /// Assert exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Output {
        self.code(0)
    }

    /// Assert the exit code and that stderr is exactly `error: {msg}`.
    #[track_caller]
    pub fn error(&self, code: i32, msg: &str) -> &Output {
        self.code(code).stderr_eq(&format!("error: {msg}\n"))
    }

    /// Assert that stdout contains `s`.
    #[track_caller]
    pub fn stdout_contains(&self, s: &str) -> &Output {
        assert!(
            self.stdout.contains(s),
            "stdout does not contain {s:?}\n{}",
            self.describe()
        );
        self
    }

    /// Assert that stdout does not contain `s`.
    #[track_caller]
    pub fn stdout_lacks(&self, s: &str) -> &Output {
        assert!(
            !self.stdout.contains(s),
            "stdout contains {s:?}\n{}",
            self.describe()
        );
        self
    }

    /// Assert that stdout is exactly `s`.
    #[track_caller]
    pub fn stdout_eq(&self, s: &str) -> &Output {
        assert_eq!(self.stdout, s, "stdout differs\n{}", self.describe());
        self
    }

    /// Assert that stderr is exactly `s`.
    #[track_caller]
    pub fn stderr_eq(&self, s: &str) -> &Output {
        assert_eq!(self.stderr, s, "stderr differs\n{}", self.describe());
        self
    }

    /// Assert that stderr contains `s`.
    #[track_caller]
    pub fn stderr_contains(&self, s: &str) -> &Output {
        assert!(
            self.stderr.contains(s),
            "stderr does not contain {s:?}\n{}",
            self.describe()
        );
        self
    }

    /// Assert that stderr is empty.
    #[track_caller]
    pub fn stderr_empty(&self) -> &Output {
        self.stderr_eq("")
    }

    /// Stdout as one JSON document.
    #[track_caller]
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.describe()))
    }
}

/// A deterministic pseudo-random number in [0, 1) from a counter
/// (SplitMix64), so generated data is the same on every run.
#[must_use]
pub fn unit(seed: u64, i: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    #[allow(clippy::cast_precision_loss)]
    let u = (z >> 11) as f64 / (1u64 << 53) as f64;
    u
}

/// A small noisy regression table: `id,a,b,c,y` with `n` rows, `c` one of
/// three levels, `y = 10 + 2a - 3b + {0, 4, -1}[c] + noise`.
#[must_use]
pub fn noisy_csv(n: u64) -> String {
    let mut s = String::from("id,a,b,c,y\n");
    for i in 0..n {
        let a = (unit(1, i) * 100.0).round() / 10.0;
        let b = (unit(2, i) * 50.0).round() / 10.0;
        let (c, shift) = match i % 3 {
            0 => ("north", 0.0),
            1 => ("south", 4.0),
            _ => ("west", -1.0),
        };
        let noise = unit(3, i) - 0.5;
        let y = 10.0 + 2.0 * a - 3.0 * b + shift + noise;
        let _ = writeln!(s, "{i},{a},{b},{c},{y:.4}");
    }
    s
}

/// A project file over `d.csv` with target `y`, no validation rows, the
/// artifact at `out/m.json`, and `extra` lines added to `[data]`.
#[must_use]
pub fn simple_toml(data_extra: &str) -> String {
    format!(
        "[data]\npath = \"d.csv\"\ntarget = \"y\"\n{data_extra}\n[split]\nvalidation_fraction = 0.0\n\n[model]\nname = \"m\"\nartifact = \"out/m.json\"\n"
    )
}

/// Assert `a ≈ b` within `tol`, relative to `max(1, |b|)`.
#[track_caller]
pub fn close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{a} is not within {tol} of {b}"
    );
}

/// Lowercase hex SHA-256 of bytes.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::new();
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Train in process through the library: `project_text` is the content of an
/// `mlops.toml` placed in a fresh temporary folder.
#[track_caller]
pub fn train_in_process(project_text: &str) -> mlops::model::Artifact {
    train_with(project_text, false, 0)
}

/// [`train_in_process`] on the streaming path with `block`-byte blocks.
#[track_caller]
pub fn train_streaming(project_text: &str, block: usize) -> mlops::model::Artifact {
    train_with(project_text, true, block)
}

#[track_caller]
fn train_with(project_text: &str, streaming: bool, block: usize) -> mlops::model::Artifact {
    let dir = tempfile::tempdir().unwrap();
    let project =
        mlops::project::Project::from_text(project_text, dir.path().join("mlops.toml")).unwrap();
    let opts = mlops::train::TrainOptions {
        out: Some(dir.path().join("model.json")),
        created_at: "2026-01-01T00:00:00Z".into(),
        streaming,
        block,
    };
    mlops::train::train(&project, &opts, &mlops::report::NoProgress)
        .unwrap_or_else(|e| panic!("{e}"))
        .model
}

/// The fixed identity and time of commits made by the tests.
pub const GIT_TIME: i64 = 1_700_000_000;

/// A fixed git signature at `time`.
#[must_use]
pub fn git_sig(time: i64) -> git2::Signature<'static> {
    git2::Signature::new("Test User", "test@example.com", &git2::Time::new(time, 0)).unwrap()
}

impl Test {
    /// Make the test's folder a git repository (with git2), with
    /// `user.name`/`user.email` set and `HOME` pointing into the folder so
    /// that no global configuration leaks in.
    #[must_use]
    pub fn git_init(self) -> Test {
        let repo = git2::Repository::init(self.root()).unwrap();
        let mut cfg = repo.config().unwrap();
        cfg.set_str("user.name", "Test User").unwrap();
        cfg.set_str("user.email", "test@example.com").unwrap();
        self.git_env()
    }

    /// Point `HOME` and `XDG_CONFIG_HOME` into the test's folder and ignore
    /// the system git configuration.
    #[must_use]
    pub fn git_env(self) -> Test {
        let home = self.path(".home");
        std::fs::create_dir_all(&home).unwrap();
        self.env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
    }

    /// The test's repository.
    #[must_use]
    pub fn repo(&self) -> git2::Repository {
        git2::Repository::open(self.root()).unwrap()
    }

    /// Commit every file of the work tree (ignored ones too, as
    /// `git add -f`), with the fixed signature at `time`; returns the commit.
    pub fn commit_all(&self, msg: &str, time: i64) -> git2::Oid {
        let repo = self.repo();
        let mut index = repo.index().unwrap();
        index
            .add_all(
                ["*"],
                git2::IndexAddOption::FORCE,
                Some(&mut |p: &Path, _: &[u8]| {
                    // Never the bundles or the fake home.
                    let s = p.to_string_lossy();
                    i32::from(s.starts_with("dist") || s.starts_with(".home"))
                }),
            )
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git_sig(time);
        let parents: Vec<git2::Commit<'_>> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
            .unwrap()
    }

    /// Create an annotated tag on `commit` as GTO would, tagged at `time`.
    pub fn tag(&self, name: &str, commit: git2::Oid, time: i64, msg: &str) {
        let repo = self.repo();
        let obj = repo.find_object(commit, None).unwrap();
        repo.tag(name, &obj, &git_sig(time), msg, false).unwrap();
    }

    /// Assign `stage` to `version` of the example model (`house-price`), as
    /// the library writes stage events.
    pub fn assign(&self, stage: &str, version: &str) {
        mlops::registry::repo::write_event(
            &self.repo(),
            "house-price",
            &mlops::registry::tag::Action::Assign(stage.into()),
            Some(version),
        )
        .unwrap();
    }

    /// The names of the repository's tags, sorted.
    #[must_use]
    pub fn tags(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .repo()
            .tag_names(None)
            .unwrap()
            .iter()
            .flatten()
            .flatten()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }
}

/// A trained, committed example project in a fresh repository: the test and
/// its first commit.
#[must_use]
pub fn packaged_project() -> (Test, git2::Oid) {
    let t = Test::new()
        .toml(&example_toml())
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string())
        .args(["-q", "train"]);
    t.run().success();
    let c = t.commit_all("model", GIT_TIME);
    (t, c)
}

/// A tmpfs of `size` mounted on `dir` (unmounted on drop); an error, with
/// the reason, when this is not root or the mount fails.
pub struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    pub fn mount(dir: &std::path::Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (the test needs root, as in CI): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Fill the file system holding `dir` up with `dir/filler`, to the last byte.
pub fn fill_up(dir: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    while f.write_all(&chunk[..1]).is_ok() {}
}
