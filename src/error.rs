//! Typed errors of the library.
//!
//! Every variant carries one whole sentence: what failed, where (file:line,
//! column, key, flag) and, where it helps, what to do. The CLI prints it once
//! and maps the variant to the exit code of `cli.md` through [`Error::exit_code`].

use std::path::Path;

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error, classified by the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A check said no (exit 1).
    #[error("{0}")]
    Check(String),
    /// Usage, project-file or file-system error (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Bad or degenerate data (exit 3).
    #[error("{0}")]
    Data(String),
    /// Registry error (exit 4).
    #[error("{0}")]
    Registry(String),
    /// Remote target error (exit 5).
    #[error("{0}")]
    Remote(String),
    /// The reader of our output went away (a closed pipe): stop quietly, exit 0.
    #[error("the output was closed")]
    Pipe,
}

impl Error {
    /// The process exit code of `cli.md` for this error.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Check(_) => 1,
            Error::Usage(_) => 2,
            Error::Data(_) => 3,
            Error::Registry(_) => 4,
            Error::Remote(_) => 5,
            Error::Pipe => 0,
        }
    }

    /// A usage error.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// A data error.
    pub fn data(msg: impl Into<String>) -> Self {
        Error::Data(msg.into())
    }

    /// An I/O error on `path` while doing `what` ("read", "write", ...).
    pub fn io(what: &str, path: &Path, err: &std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::NotFound => "; check the path",
            std::io::ErrorKind::PermissionDenied => "; check the permissions",
            std::io::ErrorKind::StorageFull => {
                return Error::Usage(format!(
                    "cannot {what} {}: no space left on its device; free some space and run again (the previous file is unchanged)",
                    display_path(path)
                ));
            }
            _ => "",
        };
        Error::Usage(format!(
            "cannot {what} {}: {}{hint}",
            display_path(path),
            io_reason(err)
        ))
    }
}

/// An I/O error's reason without the Rust `(os error N)` suffix.
#[must_use]
pub fn io_reason(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A path as the user would type it: relative to the current folder when it
/// lies below it, else as given.
#[must_use]
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
        && !rel.as_os_str().is_empty()
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}
