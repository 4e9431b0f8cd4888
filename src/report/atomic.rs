//! Writing result files so that a crash or a kill never leaves a half-written one: write a
//! temporary file in the same directory, flush it to disk, then rename over the target.
//!
//! `AtomicFile` does this for a file written bit by bit (the per-VM tables, while replications
//! complete): it is renamed into place only by `commit`; dropped without it (an error, an
//! unwinding panic), it removes its temporary file. A killed process can leave the temporary
//! `.NAME.tmp-PID` behind, never a partial file under the final name.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// A buffered file written under a temporary name and renamed to its own on `commit`.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    /// None once committed.
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the directory if needed and the temporary file beside `path`.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs to disk and renames into place; on failure the temporary file is removed.
    pub fn commit(mut self) -> std::io::Result<()> {
        let w = self.file.take().expect("not yet committed");
        let result = (|| {
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("not yet committed")
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(w) = self.file.take() {
            // Not committed: discard the buffer unwritten, then the temporary file.
            drop(w.into_parts());
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hasim-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// The entry names of `dir`, sorted.
    pub(crate) fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn committed_file_appears_only_at_commit() {
        let dir = scratch("commit");
        let path = dir.join("t.csv");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(&[b'x'; 100_000]).unwrap();
        assert!(!path.exists(), "no file under its final name before commit");
        assert_eq!(names(&dir).len(), 1, "only the temporary file");
        f.commit().unwrap();
        assert_eq!(names(&dir), vec!["t.csv".to_string()]);
        assert_eq!(std::fs::read(&path).unwrap().len(), 100_000);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropped_file_leaves_nothing() {
        let dir = scratch("drop");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("t.csv"), b"previous run").unwrap();
        let mut f = AtomicFile::create(&dir.join("t.csv")).unwrap();
        f.write_all(b"half a table").unwrap();
        drop(f);
        assert_eq!(names(&dir), vec!["t.csv".to_string()]);
        assert_eq!(std::fs::read(dir.join("t.csv")).unwrap(), b"previous run");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
