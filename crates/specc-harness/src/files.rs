//! Writing files so that nothing is lost: a file is replaced atomically,
//! and special files are written through rather than replaced.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` so that `path` is always either the old or the
/// new file, never half of one:
///
/// - a regular file (or a new one) is written to a temporary file beside it,
///   synced and renamed over it; the temporary file is removed on every
///   failure (a full disk keeps no partial file), and an existing file keeps
///   its permissions;
/// - a symlink is followed: the file it points at is replaced, the link kept;
/// - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a pipe) is written
///   through, as a shell redirection would, never replaced by a regular file;
/// - a directory is an error.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let existing = match fs::metadata(&target) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(m) = &existing {
        if m.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"));
        }
        if !m.is_file() {
            let mut file = OpenOptions::new().write(true).open(&target)?;
            file.write_all(bytes)?;
            return file.flush();
        }
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        if let Some(m) = &existing {
            file.set_permissions(m.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, &target)?;
        // Make the rename itself durable; not every platform can sync a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("specc-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_a_regular_file_and_keeps_its_permissions() {
        let dir = scratch("regular");
        let path = dir.join("out.rs");
        write_atomically(&path, b"one").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        assert_eq!(leftovers(&dir), ["out.rs"]);
    }

    #[cfg(unix)]
    #[test]
    fn follows_symlinks_and_writes_devices_through() {
        let dir = scratch("special");
        let real = dir.join("real.rs");
        fs::write(&real, b"old").unwrap();
        let link = dir.join("link.rs");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");

        // /dev/null stays a device.
        write_atomically(Path::new("/dev/null"), b"gone").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        // /dev/full reports the full disk, and stays a device.
        if Path::new("/dev/full").exists() {
            let e = write_atomically(Path::new("/dev/full"), b"x").unwrap_err();
            assert_eq!(e.raw_os_error(), Some(28), "{e}");
            assert!(fs::metadata("/dev/full").unwrap().file_type().is_char_device());
        }
        assert!(write_atomically(&dir, b"x").is_err());
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = scratch("failed");
        // A missing directory: the temporary file cannot even be created.
        assert!(write_atomically(&dir.join("missing").join("f"), b"x").is_err());
        // A rename onto a non-empty directory fails after the write.
        let target = dir.join("busy");
        fs::create_dir_all(target.join("inside")).unwrap();
        assert!(write_atomically(&target, b"x").is_err());
        assert_eq!(leftovers(&dir), ["busy"]);
    }
}
