//! The floor under an external controller's cost: JSON-line round trips between a Rust parent
//! and a Python child over pipes, as hasim's protocol does them (write a line, flush, read a
//! line). Standard library only; benches/controllers.sh compiles it with rustc.
//!
//! usage: pipe_roundtrip ROUND_TRIPS PYTHON [SDK_DIR]
//! (Cargo also discovers it as a bench target; run it through benches/controllers.sh.)
//!
//! Prints two lines, µs per round trip:
//!   bare <µs>  — the child echoes each line (readline, write, flush): the pipe + Python floor
//!   sdk <µs>   — the child is an SDK controller (scenarios/controllers/hasim_controller.py)
//!                answering each `step` (one node_offline observation) with `done`, no commands:
//!                the SDK's own cost per step on top of the same pipe

// It measures wall-clock time on purpose: it is a benchmark, not model code.
#![allow(clippy::disallowed_methods)]
#![cfg_attr(test, allow(dead_code))]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

const ECHO: &str =
    "import sys\nr=sys.stdin.buffer\nw=sys.stdout.buffer\nfor l in r:\n w.write(l)\n w.flush()\n";

const SDK: &str = "import sys\nsys.path.insert(0, sys.argv[1])\nimport hasim_controller as hc\n\
class Noop(hc.Controller):\n def on_observation(self, now_us, obs, inv):\n  return []\n\
hc.main(Noop())\n";

fn round_trips(python: &str, args: &[&str], n: u64, hello: bool) -> f64 {
    let mut child = Command::new(python)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut w = std::io::BufWriter::new(child.stdin.take().unwrap());
    let mut r = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    if hello {
        writeln!(w, "{{\"type\":\"hello\",\"protocol\":1,\"scenario\":\"bench\",\"seed\":1,\"replication\":0,\"now_us\":0,\"restart\":0,\"out_dir\":\"/tmp\",\"config\":{{}}}}").unwrap();
        w.flush().unwrap();
        r.read_line(&mut line).unwrap();
        assert!(line.contains("ready"), "{line}");
    }
    let t0 = Instant::now();
    for i in 0..n {
        line.clear();
        writeln!(
            w,
            "{{\"type\":\"step\",\"now_us\":{},\"observations\":[{{\"type\":\"node_offline\",\"host\":3}}]}}",
            i + 1
        )
        .unwrap();
        w.flush().unwrap();
        r.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "child died");
    }
    let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    if hello {
        writeln!(w, "{{\"type\":\"end\",\"now_us\":{}}}", n + 1).unwrap();
    }
    drop(w);
    child.wait().unwrap();
    us
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: u64 = a.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let python = a.get(2).map_or("python3", String::as_str);
    let sdk_dir = a.get(3).map_or("scenarios/controllers", String::as_str);
    let bare = round_trips(python, &["-c", ECHO], n, false);
    println!("bare {bare:.2}");
    let sdk = round_trips(python, &["-c", SDK, sdk_dir], n, true);
    println!("sdk {sdk:.2}");
}
