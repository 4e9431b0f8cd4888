//! One controller process: spawned with its argv, working directory and environment, written
//! to line by line, and read from through a thread that forwards each capped line, so that a
//! read can wait for a wall-clock timeout. Dropping it kills and reaps the process.

use crate::adapters::lines::{read_line_capped, LineError};
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// Longest line read from a controller: 256 MiB. An engineering limit that holds a
/// snapshot-sized command list of the largest fleet (10 M commands at ~25 bytes); a longer
/// line is refused before it is held whole.
pub const MAX_CONTROLLER_LINE_BYTES: usize = 256 << 20;

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

pub struct Process {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    lines: Receiver<Result<String, String>>,
}

impl Process {
    /// Starts `argv` in `dir` with `env` added, its stderr appended to `stderr_log`.
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
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {program} (in {}): {e}", dir.display()))?;
        let stdin = child.stdin.take().map(BufWriter::new);
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
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
        Ok(Process {
            child,
            stdin,
            lines: rx,
        })
    }

    /// Writes one line. An error means the controller is gone (its stdin closed).
    pub fn send(&mut self, line: &str) -> Result<(), String> {
        let w = self.stdin.as_mut().ok_or("its stdin is closed")?;
        w.write_all(line.as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush())
            .map_err(|e| format!("writing to it: {e}"))
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
    /// to 200 ms for it to be reapable.
    pub fn exit_status(&mut self) -> Option<String> {
        for _ in 0..200 {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s.to_string()),
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(_) => return None,
            }
        }
        None
    }

    /// Closes its stdin and gives it `grace` to close its stdout (to exit) on its own,
    /// ignoring what it still writes; dropping it then reaps it, or kills it if it lingers.
    pub fn close(mut self, grace: Duration) {
        self.stdin = None;
        // At most 1,000 stray lines, so a controller that writes forever cannot hold us.
        for _ in 0..1000 {
            if self.lines.recv_timeout(grace).is_err() {
                break;
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
