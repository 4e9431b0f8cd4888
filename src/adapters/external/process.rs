//! One controller process: spawned in its own process group with its argv, working directory
//! and environment, written to and read from line by line through two threads, so that both a
//! write (to a controller that stopped reading) and a read can wait for a wall-clock timeout.
//! Dropping it kills the whole group (a wrapper script's children too) and reaps the process.
//!
//! This is the one place hasim measures wall-clock time: the `step_timeout` guard, which stops
//! a run and never changes a result.
#![allow(clippy::disallowed_methods)]

use crate::adapters::lines::{read_line_capped, LineError};
use std::io::{BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

/// Longest line read from a controller: 256 MiB. An engineering limit that holds a
/// snapshot-sized command list of the largest fleet (10 M commands at ~25 bytes); a longer
/// line is refused before it is held whole.
pub const MAX_CONTROLLER_LINE_BYTES: usize = 256 << 20;

/// Lines read ahead of hasim at most (each up to the line cap): a controller that floods
/// lines blocks on its own stdout instead of filling hasim's memory.
const READ_AHEAD_LINES: usize = 16;

/// What reading a line gave.
#[derive(Debug)]
pub enum Read {
    Line(String),
    /// The controller closed its stdout (it exited, or is about to).
    Closed,
    /// Nothing within the timeout.
    TimedOut,
    /// A line that could not be read: too long, not UTF-8, an I/O error.
    Bad(String),
}

/// Why a line could not be written.
#[derive(Debug)]
pub enum WriteError {
    /// The controller is gone (its stdin closed).
    Broken(String),
    /// It did not take the line within the timeout (it stopped reading).
    TimedOut,
}

pub struct Process {
    child: Child,
    /// Lines to write; each is acknowledged on `written`.
    to_write: Option<SyncSender<Vec<u8>>>,
    written: Receiver<Result<(), String>>,
    lines: Receiver<Result<String, String>>,
}

impl Process {
    /// Starts `argv` in `dir` with `env` added, its stderr appended to `stderr_log`.
    /// `PYTHONHASHSEED` is 0 unless `env` sets it: a Python controller that iterates over a
    /// set of strings then answers the same way in every run.
    pub fn spawn(
        argv: &[String],
        dir: &Path,
        env: &[(String, String)],
        stderr_log: &Path,
    ) -> Result<Process, String> {
        let (program, args) = argv.split_first().ok_or("the command is empty")?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .map_err(|e| format!("cannot open {}: {e}", stderr_log.display()))?;
        let mut cmd = Command::new(program);
        if !env.iter().any(|(k, _)| k == "PYTHONHASHSEED") {
            cmd.env("PYTHONHASHSEED", "0");
        }
        let mut child = cmd
            .args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start {program} (in {}): {e}", dir.display()))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::sync_channel(READ_AHEAD_LINES);
        std::thread::Builder::new()
            .name("hasim-controller-reader".into())
            .spawn(move || {
                let mut r = BufReader::new(stdout);
                let mut buf = Vec::new();
                loop {
                    let item = match read_line_capped(&mut r, &mut buf, MAX_CONTROLLER_LINE_BYTES) {
                        Ok(true) => Ok(String::from_utf8(std::mem::take(&mut buf))
                            .expect("checked by read_line_capped")),
                        Ok(false) => return,
                        Err(LineError::TooLong) => Err(format!(
                            "a line longer than {MAX_CONTROLLER_LINE_BYTES} bytes"
                        )),
                        Err(LineError::NotUtf8) => Err("a line that is not UTF-8".into()),
                        Err(LineError::Io(e)) => Err(format!("reading its output: {e}")),
                    };
                    let stop = item.is_err();
                    if tx.send(item).is_err() || stop {
                        return;
                    }
                }
            })
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        let (wtx, wrx) = mpsc::sync_channel::<Vec<u8>>(1);
        let (ack_tx, ack_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("hasim-controller-writer".into())
            .spawn(move || {
                for line in wrx {
                    let r = stdin
                        .write_all(&line)
                        .and_then(|()| stdin.flush())
                        .map_err(|e| format!("writing to it: {e}"));
                    let stop = r.is_err();
                    if ack_tx.send(r).is_err() || stop {
                        return;
                    }
                }
                // The sender is gone: dropping stdin closes the controller's input.
            })
            .map_err(|e| format!("cannot start a writer thread: {e}"))?;
        Ok(Process {
            child,
            to_write: Some(wtx),
            written: ack_rx,
            lines: rx,
        })
    }

    /// Writes one line, waiting at most `timeout` for the controller to take it.
    pub fn send(&mut self, line: &str, timeout: Duration) -> Result<(), WriteError> {
        let w = self
            .to_write
            .as_ref()
            .ok_or_else(|| WriteError::Broken("its stdin is closed".into()))?;
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        w.send(bytes)
            .map_err(|_| WriteError::Broken("its stdin is closed".into()))?;
        match self.written.recv_timeout(timeout) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Broken(e)),
            Err(RecvTimeoutError::Timeout) => Err(WriteError::TimedOut),
            Err(RecvTimeoutError::Disconnected) => {
                Err(WriteError::Broken("its stdin is closed".into()))
            }
        }
    }

    /// The next line, waiting at most `timeout`.
    pub fn recv(&mut self, timeout: Duration) -> Read {
        match self.lines.recv_timeout(timeout) {
            Ok(Ok(line)) => Read::Line(line),
            Ok(Err(e)) => Read::Bad(e),
            Err(RecvTimeoutError::Timeout) => Read::TimedOut,
            Err(RecvTimeoutError::Disconnected) => Read::Closed,
        }
    }

    /// How the process ended, once it has (it closed its stdout, so it is exiting): waits up
    /// to 2 s for it to be reapable.
    pub fn exit_status(&mut self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s.to_string()),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                _ => return None,
            }
        }
    }

    /// Closes its stdin and gives it `grace` in all to close its stdout and exit on its own,
    /// ignoring what it still writes; dropping it then kills what is left.
    pub fn close(mut self, grace: Duration) {
        self.to_write = None;
        let deadline = Instant::now() + grace;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.lines.recv_timeout(left).is_err() {
                break;
            }
        }
        // Stdout is closed: let it finish writing its own files before Drop would kill it.
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.to_write = None;
        if let Ok(None) = self.child.try_wait() {
            // The whole group: a wrapper script's children hold the pipes too.
            kill_group(self.child.id() as libc::pid_t);
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// `killpg(pgid, SIGKILL)` (the child leads its own group: `process_group(0)`), ignoring a
/// group that is already gone.
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: killpg takes two integers and touches no memory of ours; a group that no longer
    // exists only makes it return an error, which is ignored.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}
