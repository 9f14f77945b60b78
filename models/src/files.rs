//! Reading input files, each with a size cap: a path that names `/dev/zero`, a FIFO or
//! a runaway export fails with the limit in the message instead of exhausting memory.
//! Text that is not UTF-8 is named by its line and byte.

use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Largest input file read, bytes (256 MiB): a year of per-minute load rows for a few
/// dozen halls, or a problem of the largest size accepted, fits well within it; an EPW
/// weather file is under 2 MB.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// The bytes of `path`, at most [`MAX_INPUT_BYTES`].
pub fn read(path: &Path) -> Result<Vec<u8>> {
    read_at_most(path, MAX_INPUT_BYTES)
}

/// The text of `path`, at most [`MAX_INPUT_BYTES`], which must be UTF-8.
pub fn read_text(path: &Path) -> Result<String> {
    text(&path.display().to_string(), read(path)?)
}

/// Largest key, certificate or CA file read, bytes: PEM files are kilobytes.
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// The bytes of `path`, refusing more than `limit`.
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>> {
    read_io(path, limit).map_err(|reason| match reason.kind() {
        std::io::ErrorKind::FileTooLarge => Error::parse(path.display().to_string(), reason),
        _ => Error::Io {
            path: path.to_path_buf(),
            reason,
        },
    })
}

/// As [`read_at_most`], for callers that report an `io::Error`: a file over `limit` is
/// `ErrorKind::FileTooLarge`, with the limit in its message.
pub fn read_io(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {} MiB, the most an input file may be", limit >> 20),
        ));
    }
    Ok(bytes)
}

/// Largest decompressed size accepted from a gzipped file (32 MiB): an hourly EPW is
/// about 1.7 MB, a year of hourly grid data under 1 MB; the cap keeps a corrupt or
/// hostile archive from exhausting memory.
pub const MAX_DECOMPRESSED_BYTES: u64 = 32 << 20;

/// Whether `bytes` start as a gzip stream does.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses a gzip stream (all members), refusing more than
/// [`MAX_DECOMPRESSED_BYTES`]; `file` names it in errors.
pub fn gunzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::parse(file, format!("not a valid gzip stream: {e}")))?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(Error::parse(
            file,
            format!(
                "decompresses to more than {} MiB, the most a gzipped input may hold",
                MAX_DECOMPRESSED_BYTES >> 20
            ),
        ));
    }
    Ok(out)
}

/// `bytes` as UTF-8 text; where they are not, the line and byte of the first bad one.
pub fn text(file: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let column = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        Error::line(
            file,
            line,
            format!(
                "byte {column} of the line (byte {} of the file) is not UTF-8",
                good.len() + 1
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_file_read_of_dev_zero_stops_at_the_cap() {
        let err = read_at_most(Path::new("/dev/zero"), 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/dev/zero") && err.contains("larger than 1 MiB"),
            "{err}"
        );
    }

    #[test]
    fn a_certificate_path_of_dev_zero_stops_at_the_pem_cap() {
        let err = read_io(Path::new("/dev/zero"), MAX_PEM_BYTES).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
    }

    #[test]
    fn text_that_is_not_utf8_is_named_by_line_and_byte() {
        let err = text("t.toml", b"a = 1\nb = \"\xff\"\n".to_vec())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t.toml, line 2: byte 6 of the line (byte 12 of the file) is not UTF-8"
        );
        assert_eq!(text("t", b"ok\n".to_vec()).unwrap(), "ok\n");
    }
}
