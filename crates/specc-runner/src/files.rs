//! Writing output so that nothing is lost: files are replaced atomically,
//! special files are written through rather than replaced, and a closed or
//! full standard output is an error where the output is the result, and
//! never stops a training run.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

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

/// An error writing standard output.
pub fn stdout_error(source: io::Error) -> crate::RunnerError {
    crate::RunnerError::Io {
        path: PathBuf::from("standard output"),
        source,
    }
}

/// Writes a line to standard output, reporting a failure (a closed pipe, a
/// full disk) as an error: for output that is the command's result.
pub fn emit_line(args: fmt::Arguments<'_>) -> Result<(), crate::RunnerError> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

static STDOUT_LOST: AtomicBool = AtomicBool::new(false);

/// Writes a line of progress to standard output. A failure does not stop
/// the caller: it is noted once on standard error, and later lines are
/// dropped, so that a closed pipe (`specc train ... | head`) never ends a
/// training run or loses its checkpoint.
pub fn say_line(args: fmt::Arguments<'_>) {
    if STDOUT_LOST.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        STDOUT_LOST.store(true, Ordering::Relaxed);
        let _ = writeln!(
            io::stderr(),
            "warning: cannot write standard output ({e}); carrying on without it"
        );
    }
}

/// `say!("epoch {}", n)`: a progress line that cannot fail (see [`say_line`]).
macro_rules! say {
    ($($t:tt)*) => { $crate::files::say_line(format_args!($($t)*)) };
}
/// `emit!("class {}", c)?`: a result line whose failure is an error (see [`emit_line`]).
macro_rules! emit {
    ($($t:tt)*) => { $crate::files::emit_line(format_args!($($t)*)) };
}
pub(crate) use {emit, say};

#[cfg(test)]
mod tests {
    use super::*;

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
