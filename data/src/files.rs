//! Files written whole or not at all. Every file settle writes for a user (reports, charts,
//! sweep exports, saved answers) goes through [`write_atomic`]: the bytes go to a temporary
//! file beside the target, which is renamed over it only once complete. A full disk or a kill
//! midway leaves the target as it was (absent, or its previous version), never half a file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `path` through `write`: whole, or not at all. The error of `write` (or of the file
/// system) is returned and the temporary file removed. The directory must exist: a path the
/// user typed wrong is an error, not a new directory.
pub fn write_atomic<E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".settle-").suffix(".part");
    // A temporary file is private (0600); the file it becomes is an ordinary one, readable as
    // any file settle writes.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp = builder.tempfile_in(dir)?;
    let (file, tmp_path) = tmp.into_parts();
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    // The data is on disk before the name points at it, so a crash cannot leave a whole-looking
    // file with missing bytes.
    file.sync_all()?;
    drop(file);
    tmp_path.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// [`write_atomic`] of `bytes`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |out| out.write_all(bytes))
}

/// [`write_bytes`] into a directory of settle's own (under its home), made if missing.
pub fn write_bytes_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_bytes(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/report.html");
        assert!(
            write_bytes(&path, b"first").is_err(),
            "no directory is made"
        );
        write_bytes_in_place(&path, b"first").unwrap();
        let failed: io::Result<()> = write_atomic(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk full");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["report.html"]);
        write_bytes(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
