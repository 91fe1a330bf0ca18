//! Opening a user file for streaming: transparent gzip, a running SHA-256 of
//! the bytes on disk, and bounded reads that never trust a header's size.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use super::digest::HashingReader;
use super::SourceFile;
use crate::{Error, Result};

/// The largest payload any header may announce (16 GiB). A header claiming
/// more is an error, never an allocation.
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 34;

/// Reads at most this much at a time, so memory grows only with the data
/// actually present.
const READ_STEP: usize = 1 << 22;

enum Inner {
    Plain(HashingReader<BufReader<File>>),
    Gz(Box<MultiGzDecoder<BufReader<HashingReader<BufReader<File>>>>>),
}

/// A file opened for streaming; gzip (detected by its magic bytes) is
/// decompressed on the fly, and the digest covers the bytes on disk.
pub struct SourceReader {
    path: PathBuf,
    inner: Inner,
}

impl SourceReader {
    /// Opens `path`; a missing or unreadable file is an I/O error naming it.
    pub fn open(path: &Path) -> Result<SourceReader> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut buf = BufReader::new(file);
        let head = buf.fill_buf().map_err(|e| Error::io(path, e))?;
        let gz = head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
        let hashing = HashingReader::new(buf);
        let inner = if gz {
            Inner::Gz(Box::new(MultiGzDecoder::new(BufReader::new(hashing))))
        } else {
            Inner::Plain(hashing)
        };
        Ok(SourceReader {
            path: path.to_path_buf(),
            inner,
        })
    }

    /// Checks that nothing follows the payload, then finishes the digest.
    pub fn finish(mut self) -> Result<SourceFile> {
        let mut extra = [0u8; 1];
        let path = self.path.clone();
        let n = read_retrying(&mut self, &mut extra, &path)?;
        if n != 0 {
            return Err(Error::bad_input(
                &self.path,
                "unexpected bytes after the data",
            ));
        }
        let sha256 = match self.inner {
            Inner::Plain(h) => h.finish(&self.path)?,
            Inner::Gz(gz) => gz.into_inner().into_inner().finish(&self.path)?,
        };
        Ok(SourceFile {
            path: self.path,
            sha256,
        })
    }
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Gz(r) => r.read(buf),
        }
    }
}

/// Maps a read error: corrupt compressed data is bad input, the rest I/O.
pub fn read_error(path: &Path, e: std::io::Error) -> Error {
    use std::io::ErrorKind::*;
    match e.kind() {
        InvalidData | InvalidInput | UnexpectedEof => {
            Error::bad_input(path, format!("corrupt or truncated data: {e}"))
        }
        _ => Error::io(path, e),
    }
}

fn read_retrying<R: Read>(r: &mut R, buf: &mut [u8], path: &Path) -> Result<usize> {
    loop {
        match r.read(buf) {
            Ok(k) => return Ok(k),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(path, e)),
        }
    }
}

/// Reads exactly `len` bytes from `r` without trusting `len` for the
/// allocation; `what` and `path` name the data in errors.
pub fn read_exact_bounded<R: Read>(
    r: &mut R,
    len: u64,
    path: &Path,
    what: &str,
) -> Result<Vec<u8>> {
    if len > MAX_PAYLOAD_BYTES {
        return Err(Error::bad_input(
            path,
            format!(
                "header claims {len} bytes of {what}, more than the limit of {MAX_PAYLOAD_BYTES}"
            ),
        ));
    }
    let len = len as usize;
    let mut out = Vec::with_capacity(len.min(READ_STEP));
    while out.len() < len {
        let start = out.len();
        let step = (len - start).min(READ_STEP);
        out.resize(start + step, 0);
        let mut filled = start;
        while filled < start + step {
            let k = read_retrying(r, &mut out[filled..start + step], path)?;
            if k == 0 {
                return Err(Error::bad_input(
                    path,
                    format!("truncated: expected {len} bytes of {what}, found {filled}"),
                ));
            }
            filled += k;
        }
    }
    Ok(out)
}
