//! Writing a file so that it appears whole or not at all: the bytes go to a temporary file next to the target,
//! which is then published by a rename (replacing any old file) or a hard link (never replacing one). The one
//! writer behind every exported PNG/CSV/`.npy`, written model and preprocessing sidecar.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `.<name>.<pid>-<n>.tmp` next to `path`: unique per process and per call, so concurrent writes do not collide.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Writes through `write` into a fresh temporary file, then `publish(temp, path)`; the temporary file never stays.
fn via_temp_file(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
    publish: fn(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let temp = temp_path(path);
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| write(&mut file))
        .and_then(|()| publish(&temp, path));
    // After a rename the temporary name is gone already; after a hard link or a failure it is removed here.
    let _ = std::fs::remove_file(&temp);
    result
}

/// Writes `bytes` to `path`, which must not exist: fails with `ErrorKind::AlreadyExists` if it does, even when
/// the file appears while writing (the hard link refuses to replace it). The data is not fsynced.
pub fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "already exists; not overwriting it",
        ));
    }
    via_temp_file(path, |f| f.write_all(bytes), |temp, to| std::fs::hard_link(temp, to))
}

/// Writes `bytes` to `path`, replacing any old file: readers see the old file or the whole new one.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_with(path, |f| f.write_all(bytes))
}

/// As [`replace`], with the contents streamed by `write` (which may also `sync_all` the file).
pub fn replace_with(path: &Path, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> std::io::Result<()> {
    via_temp_file(path, write, |temp, to| std::fs::rename(temp, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_never_replaces_and_replace_does_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        create_new(&path, b"one").unwrap();
        let err = create_new(&path, b"two").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        replace(&path, b"three").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        replace_with(&path, |f| f.write_all(b"four").and_then(|()| f.sync_all())).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"four");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.csv"]);
        // A failing writer leaves neither the target nor a temporary file.
        let other = dir.path().join("b.npy");
        let failed = replace_with(&other, |_| Err(std::io::Error::other("disk full")));
        assert!(failed.is_err() && !other.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
