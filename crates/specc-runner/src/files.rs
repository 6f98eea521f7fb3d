//! Writing output so that nothing is lost: a closed or full standard output
//! is an error where the output is the result, and never stops a training
//! run. Files are replaced atomically by `specc_harness::files`.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

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
