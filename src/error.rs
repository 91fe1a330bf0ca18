//! Errors and the exit-status contract of DESIGN.md §2: 2 for bad usage or bad
//! input (naming the file or flag and what is wrong), 1 for any other failure.

use std::fmt;
use std::path::{Path, PathBuf};

/// Every failure the library reports. `BadInput` and `Usage` map to exit
/// status 2, everything else to 1.
#[derive(Debug)]
pub enum Error {
    /// A file the user gave us is malformed: which file, and what is wrong.
    BadInput { path: PathBuf, problem: String },
    /// A flag or argument is invalid: which one, and why.
    Usage(String),
    /// An I/O failure on a named file (missing, unreadable, unwritable).
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A numerical failure, e.g. the first op whose output is not finite.
    Numerical(String),
    /// Anything else (a bug or an unexpected state).
    Other(String),
}

impl Error {
    /// A malformed-input error about `path`.
    pub fn bad_input(path: impl AsRef<Path>, problem: impl Into<String>) -> Self {
        Error::BadInput {
            path: path.as_ref().to_path_buf(),
            problem: problem.into(),
        }
    }

    /// An I/O error about `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// The process exit status this error maps to (DESIGN.md §2).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput { .. } | Error::Usage(_) => 2,
            // A file the user named that cannot be opened is bad input too.
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 2,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput { path, problem } => write!(f, "{}: {}", path.display(), problem),
            Error::Usage(msg) => write!(f, "{msg}"),
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Numerical(msg) => write!(f, "numerical failure: {msg}"),
            Error::Other(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for Error {}

/// Library-wide result type.
pub type Result<T> = std::result::Result<T, Error>;
