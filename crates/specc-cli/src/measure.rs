//! `specc export --measure`: builds an exported crate for the targets
//! without an operating system and reports what each build holds: a
//! Cortex-M4F firmware image (the C ABI archive linked by rust-lld with
//! unused sections dropped) and the WebAssembly module.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one build holds, in bytes.
pub struct Build {
    pub target: &'static str,
    /// Machine code (`.text`; the wasm code section).
    pub code: u64,
    /// Read-only data: the baked weights and constants (`.rodata`; the
    /// wasm data section, which also holds the zeroed statics).
    pub data: u64,
    /// Statically allocated RAM: the one-sample workspace and the kernels'
    /// state (`.bss` and `.data`; part of `data` in wasm).
    pub ram: Option<u64>,
    /// The whole file: the stripped image's loadable bytes, or the module.
    pub file: u64,
}

/// Builds the crate at `dir` (module `m`) for each target installed and
/// measures it; a target that is not installed is skipped with a note.
pub fn builds(dir: &Path, m: &str) -> Result<(Vec<Build>, Vec<String>), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let has = |t: &str| installed.lines().any(|l| l.trim() == t);
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.join("target"), PathBuf::from);
    let (mut builds, mut notes) = (Vec::new(), Vec::new());
    let c = format!("{m}_c");

    let thumb = "thumbv7em-none-eabihf";
    if has(thumb) {
        let release = build_c(dir, &target_dir, &c, thumb, "staticlib")?;
        let archive = release.join(format!("lib{c}.a"));
        let image = release.join(format!("{m}.elf"));
        let lld = rust_lld()?;
        let entry = format!("{m}_predict");
        let mut link = Command::new(&lld);
        link.args(["-flavor", "gnu", "--gc-sections", "--strip-debug", "-e", &entry]);
        for f in specc_codegen::C_ABI_FUNCTIONS {
            link.args(["-u", &format!("{m}_{f}")]);
        }
        run(link.arg("-o").arg(&image).arg(&archive))?;
        let bytes = std::fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
        let sections =
            elf32_sections(&bytes).ok_or_else(|| format!("{}: not an ELF32 image", image.display()))?;
        let size = |names: &[&str]| -> u64 {
            sections
                .iter()
                .filter(|(n, _)| names.contains(&n.as_str()))
                .map(|(_, s)| s)
                .sum()
        };
        builds.push(Build {
            target: thumb,
            code: size(&[".text"]),
            data: size(&[".rodata"]),
            ram: Some(size(&[".bss", ".data"])),
            file: size(&[".text", ".rodata", ".data", ".ARM.exidx"]),
        });
    } else {
        notes.push(format!("{thumb} is not installed (rustup target add {thumb})"));
    }

    let wasm = "wasm32-unknown-unknown";
    if has(wasm) {
        let module = build_c(dir, &target_dir, &c, wasm, "cdylib")?.join(format!("{c}.wasm"));
        let bytes = std::fs::read(&module).map_err(|e| format!("{}: {e}", module.display()))?;
        let sections =
            wasm_sections(&bytes).ok_or_else(|| format!("{}: not a WebAssembly module", module.display()))?;
        let size = |id: u8| -> u64 { sections.iter().filter(|(i, _)| *i == id).map(|(_, s)| s).sum() };
        builds.push(Build {
            target: wasm,
            code: size(10),
            data: size(11),
            ram: None,
            file: bytes.len() as u64,
        });
    } else {
        notes.push(format!("{wasm} is not installed (rustup target add {wasm})"));
    }
    Ok((builds, notes))
}

/// Builds the C ABI crate `c` of the exported crate at `dir` for `target`
/// as `crate_type`; returns the directory the build is in.
fn build_c(
    dir: &Path,
    target_dir: &Path,
    c: &str,
    target: &str,
    crate_type: &str,
) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .args(["rustc", "--quiet", "--release", "-p", c, "--target", target])
        .args(["--crate-type", crate_type])
        .current_dir(dir))?;
    Ok(target_dir.join(target).join("release"))
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The linker the Rust toolchain ships.
fn rust_lld() -> Result<PathBuf, String> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let host = Command::new("rustc")
        .args(["-vV"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let host = String::from_utf8_lossy(&host.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or("rustc -vV names no host")?;
    let lld = sysroot.join("lib/rustlib").join(host).join("bin/rust-lld");
    if lld.is_file() {
        Ok(lld)
    } else {
        Err(format!("no rust-lld at {}", lld.display()))
    }
}

/// Each section's name and size in a little-endian ELF32 file.
fn elf32_sections(b: &[u8]) -> Option<Vec<(String, u64)>> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?) as usize);
    let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?) as usize);
    if b.get(..6)? != b"\x7fELF\x01\x01" {
        return None;
    }
    let (shoff, shentsize, shnum, shstrndx) = (u32_at(0x20)?, u16_at(0x2e)?, u16_at(0x30)?, u16_at(0x32)?);
    let header = |i: usize| shoff + i * shentsize;
    let strings = u32_at(header(shstrndx) + 16)?;
    (0..shnum)
        .map(|i| {
            let h = header(i);
            let name_at = strings + u32_at(h)?;
            let name = b.get(name_at..)?.split(|&c| c == 0).next()?;
            Some((String::from_utf8_lossy(name).into_owned(), u32_at(h + 20)? as u64))
        })
        .collect()
}

/// Each section's id and size in a WebAssembly module.
fn wasm_sections(b: &[u8]) -> Option<Vec<(u8, u64)>> {
    if b.get(..4)? != b"\0asm" {
        return None;
    }
    let mut at = 8;
    let mut out = Vec::new();
    while at < b.len() {
        let id = b[at];
        at += 1;
        let (mut size, mut shift) = (0u64, 0);
        loop {
            let byte = *b.get(at)?;
            at += 1;
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
            if shift > 63 {
                return None;
            }
        }
        out.push((id, size));
        at = at.checked_add(usize::try_from(size).ok()?)?;
    }
    Some(out)
}

/// The crate README's table of builds.
pub fn table(builds: &[Build], notes: &[String]) -> String {
    let mut out = String::from(
        "\n## Builds without an operating system\n\n\
         Measured by `specc export --measure`: the C ABI crate linked for a Cortex-M4F \
         (rust-lld, unused sections dropped) and compiled to WebAssembly.\n\n\
         | target | code | read-only data (weights) | static RAM | image |\n\
         |---|---|---|---|---|\n",
    );
    for b in builds {
        let ram = b.ram.map_or_else(|| "in the data".to_string(), |r| r.to_string());
        out += &format!(
            "| `{}` | {} | {} | {ram} | {} |\n",
            b.target, b.code, b.data, b.file
        );
    }
    for n in notes {
        out += &format!("\nNot measured: {n}.\n");
    }
    out
}
