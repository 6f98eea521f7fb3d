//! `specc train`, `eval`, `predict` and `gradcheck`: compile a spec's
//! generated code into a cached release build of a small program around
//! `specc-runner`, then run it with the user's arguments.
//!
//! The cache holds one crate per spec text and compiler version
//! (`<cache>/models/<module>-<hash>/`) and one shared target directory, so
//! the runtime and its dependencies compile once and a spec compiles once.

use specc_codegen::{Options, Precision, RuntimePaths};
use specc_lang::{CheckedFile, CheckedModel};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A line on standard error; a closed standard error is not worth a panic.
macro_rules! note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// Why a model program could not be built.
#[derive(Debug)]
pub enum RunnerError {
    NoModel {
        file: String,
        wanted: Option<String>,
        available: Vec<String>,
    },
    Codegen(specc_codegen::CodegenError),
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Cargo {
        status: String,
    },
    /// cargo could not be started.
    NoCargo {
        cargo: String,
        error: std::io::Error,
    },
}

impl std::fmt::Display for RunnerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunnerError::NoModel {
                file,
                wanted: Some(w),
                available,
            } => {
                write!(
                    f,
                    "{file} has no model `{w}`; it defines {}",
                    available.join(", ")
                )
            }
            RunnerError::NoModel {
                file,
                wanted: None,
                available,
            } => write!(
                f,
                "{file} defines {} models ({}); choose one with --model NAME",
                available.len(),
                available.join(", ")
            ),
            RunnerError::Codegen(e) => write!(f, "{e}"),
            RunnerError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
            RunnerError::Cargo { status } => write!(f, "compiling the model program failed ({status})"),
            RunnerError::NoCargo { cargo, error } => write!(
                f,
                "cannot run `{cargo}` ({error}): `specc {{train,eval,predict,gradcheck,bench}}` compiles the model with cargo; \
                 install a Rust toolchain, or set CARGO to the path of cargo"
            ),
        }
    }
}

/// The directory holding compiled models: `$SPECC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/specc`, else `~/.cache/specc`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPECC_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("specc");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("specc"),
        None => std::env::temp_dir().join("specc-cache"),
    }
}

/// Picks the model of a file: the one named, or the only one.
pub fn select<'f>(
    file: &'f CheckedFile,
    path: &str,
    wanted: Option<&str>,
) -> Result<&'f CheckedModel, RunnerError> {
    let available: Vec<String> = file.models.iter().map(|m| m.name.clone()).collect();
    match wanted {
        Some(name) => file.models.iter().find(|m| m.name == name),
        None if file.models.len() == 1 => file.models.first(),
        None => None,
    }
    .ok_or_else(|| RunnerError::NoModel {
        file: path.to_string(),
        wanted: wanted.map(str::to_string),
        available,
    })
}

/// How the generated program depends on the runner and the two crates the
/// generated code names (`rt` and `train`).
fn runner_dependency() -> String {
    ["specc-runner", "specc-core", "specc-train"]
        .iter()
        .map(|name| format!("{name} = {}\n", dependency(name, "")))
        .collect()
}

/// The value of a `Cargo.toml` dependency on specc's crate `name`, with
/// `extra` keys (`default-features = false, `): by path when specc runs
/// from a checkout of its workspace, else by version from crates.io.
pub fn dependency(name: &str, extra: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    if dir.join("Cargo.toml").is_file() {
        let path = dir
            .canonicalize()
            .unwrap_or_else(|_| dir.clone())
            .display()
            .to_string()
            .replace('\\', "/");
        format!("{{ {extra}path = \"{path}\" }}")
    } else {
        format!("{{ {extra}version = \"={}\" }}", specc_lang::VERSION)
    }
}

/// Writes `contents` unless the file already holds exactly that (keeps
/// cargo's fingerprints, so a cached model is not rebuilt).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), RunnerError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let io = |error| RunnerError::Io {
        path: path.to_path_buf(),
        error,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    specc_harness::files::write_atomically(path, contents.as_bytes()).map_err(io)
}

/// Generates the program for `model` in the cache and builds it in release
/// mode; returns the path of the binary.
pub fn build_program(
    model: &CheckedModel,
    spec_name: &str,
    source: &str,
    quiet: bool,
) -> Result<PathBuf, RunnerError> {
    let cache = cache_dir();
    let dependency = runner_dependency();
    let key = specc_lang::source_hash(&format!("{source}\n{}\n{dependency}", specc_lang::VERSION));
    let package = format!(
        "specc-model-{}-{:08x}",
        model.module_name.replace('_', "-"),
        key as u32
    );
    let dir = cache.join("models").join(&package);
    let single = CheckedFile {
        models: vec![model.clone()],
    };
    for (precision, file) in [(Precision::F32, "model_f32.rs"), (Precision::F64, "model_f64.rs")] {
        let options = Options {
            runtime: RuntimePaths::direct(),
            precision,
            ..Options::default()
        };
        let code = specc_codegen::generate_source(&single, spec_name, source, &options)
            .map_err(RunnerError::Codegen)?;
        write_if_changed(&dir.join("src").join(file), &code)?;
    }
    let manifest = format!(
        "# Generated by specc {version} for `{spec_name}`.\n[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependency}\n[workspace]\n",
        version = specc_lang::VERSION
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    let (module, name) = (&model.module_name, &model.name);
    let main = format!(
        "//! `{name}` from `{spec_name}`: train, evaluate, predict and check gradients.\n\n\
         // The program uses only part of each model's API.\n\
         #[allow(dead_code)]\nmod f32 {{\n    include!(\"model_f32.rs\");\n}}\n\n\
         #[allow(dead_code)]\nmod f64 {{\n    include!(\"model_f64.rs\");\n}}\n\n\
         fn main() -> std::process::ExitCode {{\n    specc_runner::main::<f32::{module}::{name}, f64::{module}::{name}>()\n}}\n"
    );
    write_if_changed(&dir.join("src").join("main.rs"), &main)?;

    let target = cache.join("target");
    let binary = target
        .join("release")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    let first_build = !binary.exists();
    if !quiet {
        if first_build {
            note!(
                "compiling `{name}` (the first model compiles specc's runtime too: about a minute; later runs reuse it)\n  cache: {}",
                dir.display()
            );
        } else {
            note!("using the compiled `{name}` in {}", dir.display());
        }
    }
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target);
    let status = child::status(&mut command).map_err(|error| RunnerError::NoCargo {
        cargo: cargo.to_string_lossy().into_owned(),
        error,
    })?;
    if !status.success() {
        return Err(RunnerError::Cargo {
            status: status.to_string(),
        });
    }
    if first_build && !quiet {
        note!("compiled in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(binary)
}

/// Runs the model program and passes on how it ended: its own exit code, or,
/// when a signal ended it, a message naming the signal and what it usually
/// means, and exit code 128 + the signal's number, as shells report it.
pub fn run_program(binary: &Path, subcommand: &str, args: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let mut command = Command::new(binary);
    command.arg(subcommand).args(args);
    let status = match child::status(&mut command) {
        Ok(status) => status,
        Err(e) => {
            note!("error: cannot run {}: {e}", binary.display());
            return ExitCode::FAILURE;
        }
    };
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let signal = child::signal(&status);
    note!(
        "error: the model program {} was ended by {}",
        binary.display(),
        child::describe_signal(signal)
    );
    ExitCode::from(signal.map_or(1, |s| 128u8.saturating_add(s as u8)))
}

/// Child processes that end with specc: on Linux each child is asked to
/// receive SIGTERM when specc dies (even by SIGKILL), so that killing specc
/// never leaves a model program training and writing checkpoints alone.
mod child {
    use std::process::{Command, ExitStatus};

    #[cfg(target_os = "linux")]
    pub fn status(command: &mut Command) -> std::io::Result<ExitStatus> {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the child between fork and exec, where
        // only async-signal-safe functions may be called; it calls two
        // system calls, prctl(2) and getppid(2), and touches no memory the
        // parent's other threads may hold (no allocation, no locks). `parent`
        // is a plain integer copied into the closure before the fork.
        let parent = std::process::id() as libc::pid_t;
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // specc may have died before prctl took effect.
                if libc::getppid() != parent {
                    return Err(std::io::Error::other(
                        "specc exited while starting the model program",
                    ));
                }
                Ok(())
            });
        }
        command.status()
    }

    #[cfg(not(target_os = "linux"))]
    pub fn status(command: &mut Command) -> std::io::Result<ExitStatus> {
        command.status()
    }

    #[cfg(unix)]
    pub fn signal(status: &ExitStatus) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    }

    #[cfg(not(unix))]
    pub fn signal(_status: &ExitStatus) -> Option<i32> {
        None
    }

    /// "signal 9 (SIGKILL): ...what it usually means".
    pub fn describe_signal(signal: Option<i32>) -> String {
        let Some(signal) = signal else {
            return "an unknown cause".to_string();
        };
        let (name, meaning) = match signal {
            1 => ("SIGHUP", "its terminal closed"),
            2 => ("SIGINT", "it was interrupted (Ctrl-C)"),
            4 => (
                "SIGILL",
                "it ran an instruction this CPU lacks; please report it with the CPU model",
            ),
            6 => (
                "SIGABRT",
                "it aborted, usually when an allocation failed (out of memory) or a thread overflowed its stack",
            ),
            7 => ("SIGBUS", "a memory-mapped file changed or the disk failed"),
            9 => (
                "SIGKILL",
                "it was killed, usually by the kernel's out-of-memory killer (see `dmesg`) or by a user",
            ),
            11 => (
                "SIGSEGV",
                "it crashed, usually from a stack overflow; please report it",
            ),
            13 => ("SIGPIPE", "its output pipe closed"),
            15 => ("SIGTERM", "it was asked to stop"),
            24 => ("SIGXCPU", "it reached its CPU-time limit (ulimit -t)"),
            25 => ("SIGXFSZ", "it reached its file-size limit (ulimit -f)"),
            _ => ("a signal", "see `kill -l`"),
        };
        format!("signal {signal} ({name}): {meaning}")
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn signals_are_named_with_their_usual_cause() {
            let kill = super::describe_signal(Some(9));
            assert!(
                kill.starts_with("signal 9 (SIGKILL)") && kill.contains("out-of-memory"),
                "{kill}"
            );
            assert!(super::describe_signal(Some(6)).contains("stack"));
            assert!(super::describe_signal(Some(64)).starts_with("signal 64"));
        }
    }
}
