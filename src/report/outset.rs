//! A result set replaced as a whole: every file of a run (or a comparison, or a sweep) is
//! written into a private staging directory beside the target, `.NAME.staging-PID`, and the
//! staging directory is swapped in for the target only once the last file is written and synced.
//!
//! `OutputSet::begin` runs before any simulation: it creates the parent directories, refuses a
//! target that is an existing file, checks that an existing target can be emptied, cleans what a
//! killed earlier run left beside the target, and creates the staging directory (which proves
//! the parent writable). An unusable `--out` is so found in the time of a few system calls.
//! Dropped without `commit` (an invariant failure, a write error), the set removes its staging
//! directory and any parent directory it created, so a failed run leaves nothing behind.
//!
//! # Why a reader, or a kill, always sees exactly one complete set
//!
//! Set files are only ever written inside the staging directory, which no reader looks at, and
//! enter or leave the target only with their whole directory, by one `rename`:
//!
//! * **Swap on Linux** (`renameat2(RENAME_EXCHANGE)`, supported by ext4, xfs, btrfs and tmpfs):
//!   one system call exchanges the two names. Before it the target is the old set, after it the
//!   new one; there is no instant with no target or a mixed one. The old set, now under the
//!   staging name, is then removed.
//! * **Fallback** (a filesystem or kernel without the exchange): the target is renamed aside to
//!   `.NAME.old-PID`, then the staging directory renamed to the target. Between those two
//!   renames the target is absent (a reader sees no set, never a mixed one); a kill there is
//!   undone by the next run, which renames the old set back before anything else.
//! * The first run into a target has nothing to exchange: one rename puts the set in place.
//!
//! A directory also holds what is not part of the set: the sets of other commands nested in it
//! (`results/quickstart/sweep/`) and files hasim does not write. Those are carried over from the
//! old directory into the new one after the swap, each by one rename (see `is_set_entry` for
//! what belongs to a set). A kill during the carry-over leaves them in the old set's directory
//! beside the target, and the next run's recovery carries them over before removing it.
//!
//! # A directory that is not a result directory
//!
//! Swapping a whole directory is right for a result directory, and wrong for anything else:
//! `--out .` in a project, `--out ~`, a directory holding a user's own files. An existing
//! directory is swapped only if it is empty or holds set files and directories (nested sets)
//! and nothing else; otherwise the set is written *in place*: staged inside it and renamed into
//! it file by file, each file atomic but the set not (a kill between two renames leaves a mix,
//! as before sets were staged), and `hasim` says so when it starts.
//!
//! # Recovery
//!
//! A leftover is a directory beside the target named `.NAME.staging-PID` or `.NAME.old-PID`
//! whose process is no longer running (checked in `/proc`; without `/proc`, every leftover is
//! taken as dead). The next run into the same target, before it simulates:
//! 1. if the target is missing, renames an `.old-` leftover back to it (the fallback's window);
//! 2. carries over, from every leftover, the entries that are not set files and that the target
//!    does not have (an incomplete staging directory has none; an old set may have some);
//! 3. removes the leftover.
//!
//! Temporary files (`.FILE.tmp-PID`) only ever live inside a staging directory, or, from runs of
//! hasim before sets were staged, inside the target: either way they leave with their directory.
//!
//! A live leftover (another hasim process writing the same target) is left alone; a stale one
//! whose PID was reused by an unrelated process is cleaned by a later run.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::scenario::limits::quote;

const STAGING: &str = "staging";
const OLD: &str = "old";

/// A result set being written; see the module documentation.
pub struct OutputSet {
    target: PathBuf,
    staging: PathBuf,
    /// Parent directories this set created, outermost first: removed again (if still empty)
    /// when the set is dropped without being committed.
    created: Vec<PathBuf>,
    /// Whether `staging` is this set's own directory (removed when dropped uncommitted).
    staging_created: bool,
    committed: bool,
    /// Why the set is written into the target file by file instead of swapped in whole.
    in_place: Option<String>,
}

/// An I/O error with the path it happened on, as one line.
fn at(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {}", path.display(), e))
}

fn leftover(parent: &Path, name: &str, kind: &str, pid: u32) -> PathBuf {
    parent.join(format!(".{name}.{kind}-{pid}"))
}

/// The chart stems hasim draws (`figures.rs`, `experiments.rs`; sweep charts are `sweep_*`).
const CHART_STEMS: &[&str] = &[
    "availability_cdf",
    "downtime_by_cause",
    "timeline",
    "recovery_time_cdf",
    "blackout_histogram",
    "compare_downtime",
    "compare_availability",
];

/// The directory of a result set that holds external controllers' files.
pub const CONTROLLERS_DIR: &str = "controllers";

/// Whether a directory entry of an output directory belongs to a result set (and is replaced
/// with it) rather than being carried over into the new set's directory. Set files are the
/// files hasim writes, by name: `summary.json`, `vms.csv`, `hosts.csv`, `report.html`,
/// `compare.csv`, `sweep.csv`, the charts (`STEM.svg` and `STEM.png` of `CHART_STEMS` and
/// `sweep_*`) and hasim's temporary files (`.NAME.tmp-PID`). The one set directory is
/// `controllers/` (an external controller's files, per replication); every other directory is
/// carried over.
pub fn is_set_entry(name: &str, is_dir: bool) -> bool {
    if is_dir {
        return name == CONTROLLERS_DIR;
    }
    if name.starts_with('.') && name.contains(".tmp-") {
        return true;
    }
    if matches!(
        name,
        "summary.json"
            | "replications.csv"
            | "vms.csv"
            | "hosts.csv"
            | "vms.csv.gz"
            | "hosts.csv.gz"
            | "vms.parquet"
            | "hosts.parquet"
            | "report.html"
            | "compare.csv"
            | "sweep.csv"
            | "sweep.json"
    ) {
        return true;
    }
    let stem = name
        .strip_suffix(".svg")
        .or_else(|| name.strip_suffix(".png"));
    stem.is_some_and(|s| CHART_STEMS.contains(&s) || s.starts_with("sweep_"))
}

/// Why an existing directory must not be swapped as a whole, if it must not: it holds a file
/// hasim did not write (a user's notes, or `--out .` pointing at a project), or only
/// directories and no result file (`--out /home`). Such a directory is written in place.
fn not_a_result_directory(dir: &Path) -> io::Result<Option<String>> {
    let (mut set_files, mut dirs) = (0, 0);
    for entry in fs::read_dir(dir).map_err(|e| at(dir, "reading", e))? {
        let entry = entry.map_err(|e| at(dir, "reading", e))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(IN_PLACE_STAGING) {
            continue;
        }
        if is_set_entry(&name, is_dir) {
            set_files += 1;
        } else if is_dir {
            dirs += 1;
        } else {
            return Ok(Some(format!(
                "it holds {}, which hasim did not write",
                quote(&name)
            )));
        }
    }
    Ok((set_files == 0 && dirs > 0)
        .then(|| "it holds directories but no result files of hasim".to_string()))
}

/// The staging directory of a set written in place, inside the target: `.hasim-staging-PID`.
const IN_PLACE_STAGING: &str = ".hasim-staging-";

/// Whether process `pid` is running. Without `/proc` nothing can be told: taken as not running.
fn alive(pid: u32) -> bool {
    pid != std::process::id() && Path::new("/proc").join(pid.to_string()).exists()
}

/// Renames into `to` every entry of `from` that is not a set file and that `to` lacks.
fn carry_over(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from).map_err(|e| at(from, "reading", e))? {
        let entry = entry.map_err(|e| at(from, "reading", e))?;
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let name = entry.file_name();
        if is_set_entry(&name.to_string_lossy(), is_dir) {
            continue;
        }
        let dest = to.join(&name);
        if fs::symlink_metadata(&dest).is_ok() {
            continue;
        }
        fs::rename(entry.path(), &dest).map_err(|e| at(&entry.path(), "moving", e))?;
    }
    Ok(())
}

/// Exchanges two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both arguments are valid NUL-terminated strings that outlive the call; the
    // system call only reads them.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Flushes a directory's entries to disk (best effort: not every filesystem allows it).
fn sync_dir(dir: &Path) {
    if let Ok(f) = fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Splits a leftover's file name `.NAME.KIND-PID` into (KIND, PID) if it is one of `name`'s.
fn parse_leftover(file: &str, name: &str) -> Option<(&'static str, u32)> {
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(name)?
        .strip_prefix('.')?;
    for kind in [STAGING, OLD] {
        if let Some(pid) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix('-')) {
            if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
                return pid.parse().ok().map(|p| (kind, p));
            }
        }
    }
    None
}

/// Cleans what dead runs left beside `target` (see Recovery in the module documentation).
fn recover(parent: &Path, name: &str, target: &Path) -> io::Result<()> {
    let mut found: Vec<(&'static str, PathBuf)> = Vec::new();
    for entry in fs::read_dir(parent).map_err(|e| at(parent, "reading", e))? {
        let entry = entry.map_err(|e| at(parent, "reading", e))?;
        let file = entry.file_name();
        let Some((kind, pid)) = parse_leftover(&file.to_string_lossy(), name) else {
            continue;
        };
        if !alive(pid) && entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            found.push((kind, entry.path()));
        }
    }
    // Old sets first: one of them may have to become the target again.
    found.sort_by_key(|(kind, p)| (*kind != OLD, p.clone()));
    for (kind, dir) in found {
        if kind == OLD && fs::symlink_metadata(target).is_err() {
            fs::rename(&dir, target).map_err(|e| at(&dir, "restoring", e))?;
            continue;
        }
        if target.is_dir() {
            carry_over(&dir, target)?;
        }
        fs::remove_dir_all(&dir).map_err(|e| at(&dir, "removing leftover", e))?;
    }
    Ok(())
}

impl OutputSet {
    /// Checks that `target` can receive a result set, recovers leftovers of killed runs and
    /// creates the staging directory. Call it before simulating.
    pub fn begin(target: &Path) -> io::Result<OutputSet> {
        let unusable = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, why.to_string());
        // A symbolic link to a directory: the set replaces the directory it points to.
        let target = match fs::symlink_metadata(target) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(target).map_err(|e| at(target, "resolving", e))?
            }
            _ => target.to_path_buf(),
        };
        if target.is_dir() {
            let why = match target.file_name() {
                None => Some("it has no name of its own to swap (`.`, `..`)".to_string()),
                Some(_) => not_a_result_directory(&target)?,
            };
            if let Some(why) = why {
                return OutputSet::begin_in_place(&target, why);
            }
        }
        let name: OsString = match target.file_name() {
            Some(n) => n.to_os_string(),
            None => {
                return Err(unusable(
                    "must end in a directory name (not `.`, `..` or `/`)",
                ))
            }
        };
        let name_str = name
            .to_str()
            .ok_or_else(|| unusable("its name is not UTF-8"))?
            .to_string();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut created = Vec::new();
        let mut missing = Some(parent.as_path());
        while let Some(p) = missing {
            if fs::symlink_metadata(p).is_ok() || p.as_os_str().is_empty() {
                break;
            }
            created.push(p.to_path_buf());
            missing = p.parent();
        }
        created.reverse();
        let mut set = OutputSet {
            staging: leftover(&parent, &name_str, STAGING, std::process::id()),
            target: target.clone(),
            created,
            staging_created: false,
            committed: false,
            in_place: None,
        };
        if let Err(e) = fs::create_dir_all(&parent) {
            // Name the ancestor in the way, if a file is.
            let file = parent
                .ancestors()
                .find(|a| fs::metadata(a).is_ok_and(|m| !m.is_dir()));
            return Err(match file {
                Some(f) => unusable(&format!("{} is not a directory", f.display())),
                None => at(&parent, "creating", e),
            });
        }
        match fs::metadata(&target) {
            Ok(m) if !m.is_dir() => return Err(unusable("exists and is not a directory")),
            _ => {}
        }
        recover(&parent, &name_str, &target)?;
        if target.is_dir() {
            // The old set is removed after the swap: its directory must be writable.
            let probe = leftover(&target, "hasim-probe", "tmp", std::process::id());
            fs::File::create(&probe).map_err(|e| at(&target, "cannot write into", e))?;
            let _ = fs::remove_file(&probe);
        }
        fs::create_dir(&set.staging).map_err(|e| at(&set.staging, "creating", e))?;
        set.staging_created = true;
        Ok(set)
    }

    /// A set written into an existing directory that is not a result directory: staged in
    /// `DIR/.hasim-staging-PID` and renamed into `DIR` file by file at `commit`, each file
    /// atomically but not the set as a whole (nothing else in `DIR` is touched, and files of
    /// an older set that this one does not write stay). Leftover staging directories of dead
    /// runs inside `DIR` are removed.
    fn begin_in_place(target: &Path, why: String) -> io::Result<OutputSet> {
        for entry in fs::read_dir(target).map_err(|e| at(target, "reading", e))? {
            let entry = entry.map_err(|e| at(target, "reading", e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix(IN_PLACE_STAGING)
                .and_then(|p| p.parse().ok());
            if pid.is_some_and(|p| !alive(p)) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let staging = target.join(format!("{IN_PLACE_STAGING}{}", std::process::id()));
        fs::create_dir(&staging).map_err(|e| at(&staging, "creating", e))?;
        Ok(OutputSet {
            target: target.to_path_buf(),
            staging,
            created: Vec::new(),
            staging_created: true,
            committed: false,
            in_place: Some(why),
        })
    }

    /// Why this set is written file by file into its directory (not swapped in whole), if so.
    pub fn in_place(&self) -> Option<&str> {
        self.in_place.as_deref()
    }

    /// Where the set's files are written until `commit`.
    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// The directory the set replaces.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swaps the staging directory in for the target (see the module documentation).
    pub fn commit(self) -> io::Result<()> {
        self.commit_with(exchange)
    }

    /// `commit` with the given atomic exchange (tests force the fallback with a failing one).
    fn commit_with(mut self, exchange: fn(&Path, &Path) -> io::Result<()>) -> io::Result<()> {
        sync_dir(&self.staging);
        if self.in_place.is_some() {
            for entry in fs::read_dir(&self.staging).map_err(|e| at(&self.staging, "reading", e))? {
                let entry = entry.map_err(|e| at(&self.staging, "reading", e))?;
                let dest = self.target.join(entry.file_name());
                if entry.file_type().is_ok_and(|t| t.is_dir()) && dest.is_dir() {
                    // A set directory (`controllers/`) replaces the old one whole.
                    fs::remove_dir_all(&dest).map_err(|e| at(&dest, "removing", e))?;
                }
                fs::rename(entry.path(), &dest).map_err(|e| at(&dest, "renaming into", e))?;
            }
            let _ = fs::remove_dir(&self.staging);
            self.committed = true;
            sync_dir(&self.target);
            return Ok(());
        }
        let parent = self
            .staging
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let name = self
            .target
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let old = leftover(&parent, &name, OLD, std::process::id());
        let replaced = if fs::symlink_metadata(&self.target).is_err() {
            fs::rename(&self.staging, &self.target)
                .map_err(|e| at(&self.target, "renaming into", e))?;
            None
        } else {
            match exchange(&self.staging, &self.target) {
                // The old set is now under the staging name.
                Ok(()) => Some(self.staging.clone()),
                Err(_) => {
                    fs::rename(&self.target, &old).map_err(|e| at(&self.target, "moving", e))?;
                    if let Err(e) = fs::rename(&self.staging, &self.target) {
                        let _ = fs::rename(&old, &self.target);
                        return Err(at(&self.target, "renaming into", e));
                    }
                    Some(old)
                }
            }
        };
        self.committed = true;
        sync_dir(&parent);
        if let Some(old) = replaced {
            carry_over(&old, &self.target)?;
            fs::remove_dir_all(&old).map_err(|e| at(&old, "removing the previous set", e))?;
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if self.staging_created {
            let _ = fs::remove_dir_all(&self.staging);
        }
        for dir in self.created.iter().rev() {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::atomic::tests::names;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hasim-outset-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write_set(target: &Path, files: &[(&str, &str)]) {
        let set = OutputSet::begin(target).unwrap();
        for (f, body) in files {
            fs::write(set.dir().join(f), body).unwrap();
        }
        set.commit().unwrap();
    }

    #[test]
    fn a_set_replaces_the_old_one_whole_and_keeps_nested_sets() {
        let root = scratch("replace");
        let target = root.join("q");
        write_set(&target, &[("summary.json", "old"), ("timeline.svg", "old")]);
        fs::create_dir(target.join("sweep")).unwrap();
        fs::write(target.join("sweep/sweep.csv"), "nested").unwrap();
        fs::write(target.join(".vms.csv.tmp-1"), "litter of an old hasim").unwrap();
        write_set(&target, &[("summary.json", "new")]);
        // The stale chart of the old set is gone, the nested set stays.
        assert_eq!(names(&target), ["summary.json", "sweep"]);
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
        assert_eq!(
            fs::read_to_string(target.join("sweep/sweep.csv")).unwrap(),
            "nested"
        );
        assert_eq!(names(&root), ["q"], "no staging or old directory left");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_directory_with_foreign_files_is_written_in_place() {
        let root = scratch("in_place");
        let target = root.join("project");
        fs::create_dir_all(target.join("src")).unwrap();
        fs::write(target.join("notes.md"), "mine").unwrap();
        fs::write(target.join("photo.png"), "mine too").unwrap();
        fs::write(target.join("timeline.svg"), "old chart").unwrap();
        let set = OutputSet::begin(&target).unwrap();
        assert!(set
            .in_place()
            .unwrap()
            .contains("which hasim did not write"));
        fs::write(set.dir().join("summary.json"), "new").unwrap();
        set.commit().unwrap();
        // Nothing of the user's moved or went; the set's files are in place.
        assert_eq!(
            names(&target),
            [
                "notes.md",
                "photo.png",
                "src",
                "summary.json",
                "timeline.svg"
            ]
        );
        assert_eq!(names(&root), ["project"]);
        // Only directories and no result: in place too (`--out /home`).
        fs::remove_file(target.join("notes.md")).unwrap();
        let only_dirs = root.join("homes");
        fs::create_dir_all(only_dirs.join("alice")).unwrap();
        let set = OutputSet::begin(&only_dirs).unwrap();
        assert!(set.in_place().is_some());
        drop(set);
        assert_eq!(names(&only_dirs), ["alice"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_fallback_without_an_exchange_replaces_the_set_too() {
        let root = scratch("fallback");
        let target = root.join("q");
        write_set(&target, &[("summary.json", "old"), ("timeline.svg", "old")]);
        fs::create_dir(target.join("sweep")).unwrap();
        let set = OutputSet::begin(&target).unwrap();
        fs::write(set.dir().join("summary.json"), "new").unwrap();
        set.commit_with(|_, _| Err(io::Error::from(io::ErrorKind::Unsupported)))
            .unwrap();
        assert_eq!(names(&target), ["summary.json", "sweep"]);
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
        assert_eq!(names(&root), ["q"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_dropped_set_leaves_nothing_not_even_its_parents() {
        let root = scratch("drop");
        let target = root.join("a/b/q");
        let set = OutputSet::begin(&target).unwrap();
        fs::write(set.dir().join("summary.json"), "half").unwrap();
        drop(set);
        assert!(names(&root).is_empty(), "{:?}", names(&root));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn leftovers_of_killed_runs_are_recovered() {
        let root = scratch("recover");
        let target = root.join("q");
        // Killed in the fallback's window: the old set is aside, no target, a staging dir.
        let old = root.join(".q.old-999999999");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("summary.json"), "old").unwrap();
        let staging = root.join(".q.staging-999999998");
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("summary.json"), "partial").unwrap();
        let set = OutputSet::begin(&target).unwrap();
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "old"
        );
        assert!(!old.exists() && !staging.exists());
        drop(set);
        // Killed during the carry-over: the old set's nested directory is still in it.
        let swapped = root.join(".q.staging-999999997");
        fs::create_dir_all(swapped.join("sweep")).unwrap();
        fs::write(swapped.join("summary.json"), "older").unwrap();
        let set = OutputSet::begin(&target).unwrap();
        drop(set);
        assert_eq!(names(&target), ["summary.json", "sweep"]);
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "old"
        );
        assert_eq!(names(&root), ["q"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_unusable_target_is_refused_before_anything_is_written() {
        let root = scratch("unusable");
        fs::write(root.join("file"), "x").unwrap();
        let e = OutputSet::begin(&root.join("file")).err().unwrap();
        assert!(
            e.to_string().contains("exists and is not a directory"),
            "{e}"
        );
        let e = OutputSet::begin(&root.join("file/q")).err().unwrap();
        // `.` has no name to swap: written in place, as `--out .` always was.
        assert!(OutputSet::begin(Path::new("."))
            .unwrap()
            .in_place()
            .is_some());
        assert!(e.to_string().ends_with("file is not a directory"), "{e}");
        assert_eq!(names(&root), ["file"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn leftover_names_parse() {
        assert_eq!(parse_leftover(".q.staging-12", "q"), Some((STAGING, 12)));
        assert_eq!(parse_leftover(".q.old-7", "q"), Some((OLD, 7)));
        assert_eq!(parse_leftover(".qq.old-7", "q"), None);
        assert_eq!(parse_leftover(".q.old-", "q"), None);
        assert_eq!(parse_leftover(".q.old-7x", "q"), None);
    }
}
