//! The output directory as one unit.
//!
//! Everything a run writes goes into a fresh sibling directory `.NAME.tmp-PID-N` of `--out`,
//! which is renamed into place only once every file is complete: a crash, a full disk or a
//! signal never leaves a new `summary.json` beside an old `figures.html`, nor a stray temporary
//! file. An existing `--out` is kept until the rename (moved aside to `.NAME.old-PID-N` and
//! removed afterwards). A lock on `.NAME.lock` beside it keeps two runs from writing the same
//! `--out` at once: the second one fails at once with a clear message. All of this is checked
//! **before** the computation starts (`--out` a file, its parent not creatable, not writable,
//! an input file inside it, a concurrent run), so a long run never fails at its end.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nmf_core::io::write_atomic;
use nmf_core::NmfError;

fn io_err(path: &Path, e: std::io::Error) -> NmfError {
    NmfError::Io {
        path: path.into(),
        source: e,
    }
}

fn param(message: String) -> NmfError {
    NmfError::Param {
        name: "out",
        message,
    }
}

/// A prepared, locked output directory; dropped without [`OutDir::commit`], it removes its
/// temporary directory and leaves `--out` as it was.
#[derive(Debug)]
pub struct OutDir {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
    // Held for the lifetime of the value: the lock is released when the file is closed (also
    // when the process dies, so a crash leaves no stale lock).
    _lock: File,
}

impl OutDir {
    /// Check `out` and claim it: `inputs` are the files the run reads (none of them may lie
    /// inside `out`, which the final rename replaces).
    pub fn prepare(out: &Path, inputs: &[&Path]) -> Result<OutDir, NmfError> {
        let name = out
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| {
                param(format!(
                    "{} does not name a directory (give a path ending in a directory name)",
                    out.display()
                ))
            })?
            .to_string_lossy()
            .into_owned();
        if out.exists() && !out.is_dir() {
            return Err(param(format!(
                "{} exists and is not a directory",
                out.display()
            )));
        }
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| io_err(&parent, e))?;
        if let Ok(target) = out.canonicalize() {
            for input in inputs {
                if let Ok(p) = input.canonicalize() {
                    if p.starts_with(&target) {
                        return Err(param(format!(
                            "{} would replace the input file {}: choose another --out (or copy the input elsewhere first)",
                            out.display(),
                            input.display()
                        )));
                    }
                }
            }
        }
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(param(format!(
                    "another nmf-lab run is writing {} (it holds {}); wait for it or choose another --out",
                    out.display(),
                    lock_path.display()
                )))
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&lock_path, e)),
        }
        let tmp = parent.join(format!(".{name}.tmp-{}", unique()));
        fs::create_dir(&tmp).map_err(|e| io_err(&tmp, e))?;
        Ok(OutDir {
            target: out.to_path_buf(),
            tmp,
            committed: false,
            _lock: lock,
        })
    }

    /// The directory the run's files will be in.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Create one file of the unit for writing as it goes (the unit is atomic as a whole).
    pub fn create(&self, file: &str) -> Result<File, NmfError> {
        let p = self.tmp.join(file);
        File::create(&p).map_err(|e| io_err(&self.target.join(file), e))
    }

    /// Write one file of the unit (into the temporary directory).
    pub fn write(
        &self,
        file: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), NmfError>,
    ) -> Result<(), NmfError> {
        write_atomic(&self.tmp.join(file), write).map_err(|e| self.rename_in(e, file))
    }

    /// Write one file of the unit with a writer that takes the path itself.
    pub fn write_with(
        &self,
        file: &str,
        write: impl FnOnce(&Path) -> Result<(), NmfError>,
    ) -> Result<(), NmfError> {
        write(&self.tmp.join(file)).map_err(|e| self.rename_in(e, file))
    }

    /// Errors name the file as it will be called, not the temporary path.
    fn rename_in(&self, e: NmfError, file: &str) -> NmfError {
        match e {
            NmfError::Io { source, .. } => io_err(&self.target.join(file), source),
            other => other,
        }
    }

    /// Put the finished unit in place of `--out`.
    pub fn commit(mut self) -> Result<(), NmfError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&self.tmp, fs::Permissions::from_mode(0o755))
                .map_err(|e| io_err(&self.target, e))?;
        }
        if self.target.exists() {
            let old = self.tmp.with_file_name(format!(
                ".{}.old-{}",
                self.target
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy(),
                unique()
            ));
            fs::rename(&self.target, &old).map_err(|e| io_err(&self.target, e))?;
            if let Err(e) = fs::rename(&self.tmp, &self.target) {
                // Put the previous output back; the new one stays in its temporary directory
                // only until Drop removes it.
                let _ = fs::rename(&old, &self.target);
                return Err(io_err(&self.target, e));
            }
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&self.tmp, &self.target).map_err(|e| io_err(&self.target, e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `PID-N`, unique within this machine for the life of the process.
fn unique() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_text(o: &OutDir, name: &str, text: &str) {
        o.write(name, |w| {
            w.write_all(text.as_bytes())
                .map_err(|e| io_err(Path::new(name), e))
        })
        .unwrap();
    }

    #[test]
    fn a_committed_unit_replaces_the_previous_one_whole() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("figures.html"), "old").unwrap();
        let o = OutDir::prepare(&out, &[]).unwrap();
        write_text(&o, "summary.json", "new");
        // Until the commit the previous output is untouched.
        assert_eq!(fs::read_to_string(out.join("figures.html")).unwrap(), "old");
        o.commit().unwrap();
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "new");
        assert!(
            !out.join("figures.html").exists(),
            "no old file beside new ones"
        );
        let left: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn an_abandoned_unit_leaves_nothing_and_keeps_the_previous_output() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let o = OutDir::prepare(&out, &[]).unwrap();
        write_text(&o, "trace.csv", "x");
        drop(o);
        assert!(!out.exists());
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [".out.lock"], "only the (released) lock file");
    }

    #[test]
    fn a_second_run_into_the_same_out_fails_while_the_first_holds_it() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let first = OutDir::prepare(&out, &[]).unwrap();
        let e = OutDir::prepare(&out, &[]).unwrap_err().to_string();
        assert!(e.contains("another nmf-lab run is writing"), "{e}");
        drop(first);
        OutDir::prepare(&out, &[]).unwrap();
    }

    #[test]
    fn bad_out_paths_are_refused_before_anything_is_computed() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("f");
        fs::write(&file, "x").unwrap();
        let e = OutDir::prepare(&file, &[]).unwrap_err().to_string();
        assert!(e.contains("exists and is not a directory"), "{e}");
        let under_file = file.join("out");
        assert!(OutDir::prepare(&under_file, &[]).is_err());
        let out = d.path().join("out");
        fs::create_dir(&out).unwrap();
        let input = out.join("U.csv");
        fs::write(&input, "1").unwrap();
        let e = OutDir::prepare(&out, &[&input]).unwrap_err().to_string();
        assert!(e.contains("would replace the input file"), "{e}");
    }
}
