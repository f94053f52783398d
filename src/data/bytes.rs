//! Reading data files with bounded memory: raw or gzip, never more than a stated limit.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::Format;
use crate::error::LoadError;

/// The most bytes any one data file may decode to (gzip, zip and MATLAB streams included).
pub(crate) const MAX_DECODED_BYTES: u64 = 1 << 30;

/// The most pixels (`N·H·W`) a dataset may hold: 1 GiB of `f32`.
pub(crate) const MAX_PIXELS: usize = 1 << 28;

/// Opens `path` for reading.
pub(crate) fn open(path: &Path) -> Result<File, LoadError> {
    File::open(path).map_err(|e| LoadError::io(path, e))
}

/// Length of the file at `path` in bytes.
pub(crate) fn file_len(path: &Path) -> Result<u64, LoadError> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| LoadError::io(path, e))
}

/// True if the file starts with the gzip magic bytes.
pub(crate) fn is_gzip(path: &Path) -> Result<bool, LoadError> {
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut open(path)?, &mut magic).map_err(|e| LoadError::io(path, e))?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}

/// A reader of the decoded contents: gunzipped if the file is gzip, else the file itself.
pub(crate) fn decoded_reader(path: &Path) -> Result<Box<dyn Read>, LoadError> {
    let file = BufReader::new(open(path)?);
    if is_gzip(path)? {
        Ok(Box::new(MultiGzDecoder::new(file)))
    } else {
        Ok(Box::new(file))
    }
}

/// Reads all of `reader`, failing once more than `limit` bytes come out (a decompression bomb or a bad header).
pub(crate) fn read_capped(path: &Path, reader: impl Read, limit: u64) -> Result<Vec<u8>, LoadError> {
    let mut buf = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| decode_error(path, e))?;
    if buf.len() as u64 > limit {
        return Err(LoadError::format(
            path,
            format!("decodes to more than {limit} bytes; refusing to read further"),
        ));
    }
    Ok(buf)
}

/// Reads the whole decoded file, at most [`MAX_DECODED_BYTES`].
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>, LoadError> {
    read_capped(path, decoded_reader(path)?, MAX_DECODED_BYTES)
}

/// The first `n` decoded bytes (fewer if the file is shorter).
pub(crate) fn head(path: &Path, n: usize) -> Result<Vec<u8>, LoadError> {
    let mut buf = vec![0u8; n];
    let got = read_up_to(&mut decoded_reader(path)?, &mut buf).map_err(|e| decode_error(path, e))?;
    buf.truncate(got);
    Ok(buf)
}

/// The format a file's first bytes announce.
pub(super) fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0, 0, 8]) && head.len() >= 4 {
        Some(Format::Idx)
    } else if head.starts_with(b"\x93NUMPY") {
        Some(Format::Npy)
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Npz)
    } else if head.starts_with(b"MATLAB 5.0") {
        Some(Format::Mat)
    } else if head.starts_with(b"\x89PNG") || head.starts_with(&[0xff, 0xd8, 0xff]) || head.starts_with(b"BM") {
        Some(Format::Image)
    } else {
        None
    }
}

/// An I/O error while decoding, as a format error (corrupt gzip, early end) naming the file.
pub(crate) fn decode_error(path: &Path, e: std::io::Error) -> LoadError {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => LoadError::io(path, e),
        std::io::ErrorKind::UnexpectedEof => LoadError::format(path, "truncated: the file ends early"),
        _ => LoadError::format(path, format!("corrupt or unreadable data: {e}")),
    }
}

/// Fills as much of `buf` as the reader gives; returns how many bytes were read.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
