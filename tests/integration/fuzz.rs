//! Issue #11: a fuzz harness on stable Rust (no nightly, no `cargo fuzz`). One seeded generator
//! mutates, in process:
//! - scenario files: the bundled scenarios and `tests/bad/` as the corpus, mutated byte by byte
//!   (flips, inserts of TOML-significant bytes, deletions, duplications, truncation) and line by
//!   line with TOML structure in mind (a value replaced by an interesting one, a line dropped,
//!   duplicated or moved, a key misspelt);
//! - `--set` and `--grid` overrides on valid scenarios (keys taken from the file, and broken
//!   paths), through the same loader the command line uses;
//! - failure traces (FTA) and `empirical` files, read through a scenario that names them;
//! - `hasim policy` input streams: recorded adapter input, mutated byte and field wise.
//!
//! Every case must end in `Ok` or an error value: a panic fails the harness, and so does any
//! `Ok` for an input that breaks a documented rule (the oracle cases: an integer outside 64
//! bits, an unknown key, a name that escapes `results/`, a negative duration, a key on two
//! `--grid` axes). A scenario that is accepted is also simulated, one replication cut to 30
//! days, when its cost estimate is within the event budget (`SIM_EVENTS`); an invariant
//! violation fails the harness, and a run past 100 times its estimate is reported as over its
//! event budget. Each case has a wall budget too: one over `SLOW` is reported as slow (bounded
//! work, e.g. a fleet near the host limit), and one over `HUNG` stops the whole harness as
//! hung, with its input saved for replay in `target/tmp/fuzz/current-case`.
//!
//! CI (`cargo test --release`) runs a bounded budget: `HASIM_FUZZ_CASES` cases (default 3,000)
//! or `HASIM_FUZZ_SECONDS` seconds (default 20), whichever ends first. A longer run is one
//! command (it prints the outcome table):
//!   HASIM_FUZZ_CASES=1000000 HASIM_FUZZ_SECONDS=100000 cargo test --release fuzz -- --nocapture
//! `HASIM_FUZZ_SEED` picks another seed; the seed and the case index reproduce a case exactly.
#![allow(clippy::disallowed_methods)] // wall time is the budget being enforced

use crate::support::{repo, scratch, toml_files};
use hasim::scenario::{load_bytes, LoadError, Override};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A case over this is reported as slow.
const SLOW: Duration = Duration::from_secs(2);
/// A case over this is hung: the harness stops.
const HUNG: Duration = Duration::from_secs(60);

/// xorshift64*: a fixed, portable generator (the harness must replay from its seed).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Values that have broken or could break readers: range edges, wrong types, units, paths.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "7",
    "100000",
    "1000001",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "0x7fffffffffffffff",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-0.0",
    "0.5",
    "true",
    "\"\"",
    "\"0s\"",
    "\"-5m\"",
    "\"1h1h\"",
    "\"30m2h\"",
    "\"1us\"",
    "\"100000y\"",
    "\"584942y\"",
    "\"99999999999999999999h\"",
    "\"5parsec\"",
    "\"1\\nh\"",
    "\"../x\"",
    "\"/abs\"",
    "\"/dev/zero\"",
    "\"none\"",
    "\"masakari\"",
    "\"local\"",
    "[]",
    "[\"a\", \"a\"]",
    "[1, 2]",
    "{}",
    "{ dist = \"exponential\", mean = \"1s\" }",
    "{ dist = \"empirical\", file = \"/dev/zero\" }",
    "{ dist = \"weibull\", shape = 1e-300, scale = \"1us\" }",
    "{ dist = \"uniform\", min = \"2h\", max = \"1h\" }",
    "1979-05-27T07:32:00Z",
];

/// Bytes that mean something to TOML.
const BYTES: &[u8] = b"\"'[]{}=,.#\n\\\t -+0_9xe\xff\xc3";

fn byte_mutation(g: &mut Gen, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..=g.below(4) {
        let at = g.below(b.len() + 1);
        match g.below(6) {
            0 if at < b.len() => b[at] ^= 1 << g.below(8),
            1 => b.insert(at, *g.pick(BYTES)),
            2 if at < b.len() => {
                let end = (at + 1 + g.below(40)).min(b.len());
                b.drain(at..end);
            }
            3 if at < b.len() => {
                let end = (at + 1 + g.below(80)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => b.truncate(at),
            _ => b.insert(at, g.next() as u8),
        }
    }
    b
}

/// The `key = value` lines of a TOML text: (line index, key).
fn key_lines(lines: &[String]) -> Vec<(usize, String)> {
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let (k, _) = l.split_once(" = ")?;
            let k = k.trim();
            (!k.is_empty() && !k.starts_with('#') && !k.starts_with('[')).then(|| (i, k.into()))
        })
        .collect()
}

fn line_mutation(g: &mut Gen, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..=g.below(3) {
        let keys = key_lines(&lines);
        if keys.is_empty() || lines.is_empty() {
            break;
        }
        let (i, key) = g.pick(&keys).clone();
        match g.below(6) {
            0 | 1 => lines[i] = format!("{key} = {}", g.pick(VALUES)),
            2 => {
                lines.remove(i);
            }
            3 => {
                let l = lines[i].clone();
                let to = g.below(lines.len());
                lines.insert(to, l);
            }
            4 => {
                let j = g.below(lines.len());
                lines.swap(i, j);
            }
            _ => {
                let mut k = key.into_bytes();
                let at = g.below(k.len());
                k[at] = b'a' + g.below(26) as u8;
                let k = String::from_utf8_lossy(&k).into_owned();
                let rest = lines[i].split_once(" = ").map(|x| x.1.to_string());
                lines[i] = format!("{k} = {}", rest.unwrap_or_default());
            }
        }
    }
    lines.join("\n") + "\n"
}

/// Dotted paths of a scenario's keys, for `--set` and `--grid`: `table.key` from headers.
fn dotted_keys(text: &str) -> Vec<String> {
    let mut table = String::new();
    let mut out = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix("[[").and_then(|h| h.strip_suffix("]]")) {
            table = format!("{h}.0");
        } else if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = h.to_string();
        } else if let Some((k, _)) = t.split_once(" = ") {
            if !k.starts_with('#') {
                out.push(if table.is_empty() {
                    k.to_string()
                } else {
                    format!("{table}.{k}")
                });
            }
        }
    }
    out
}

/// What one case ended in.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Invalid,
    Io,
    Panic(String),
}

/// Scenarios the mutations left valid are also simulated (one replication, the horizon cut
/// to `SIM_HORIZON_US`) when their estimated cost is at most `SIM_EVENTS`: the event budget.
/// A run past 100 times its estimate is reported as over budget (slow, not hung).
const SIM_HORIZON_US: u64 = 30 * 86_400 * 1_000_000;
const SIM_EVENTS: f64 = 2e5;

/// What simulating an accepted scenario gave, if it was simulated.
#[derive(Debug, PartialEq)]
enum SimOutcome {
    Skipped,
    Ran { events: u64, estimate: f64 },
    Invariant(String),
    Panic(String),
}

fn simulate(model: &mut hasim::scenario::model::Model) -> SimOutcome {
    if model.simulation.horizon.as_us() > SIM_HORIZON_US {
        model.simulation.horizon = hasim::core::time::SimDuration(SIM_HORIZON_US);
    }
    model.simulation.replications = 1;
    let estimate = hasim::scenario::cost::estimate(model).events;
    if estimate > SIM_EVENTS {
        return SimOutcome::Skipped;
    }
    match catch_unwind(AssertUnwindSafe(|| {
        hasim::runner::run_replication(model, 0)
    })) {
        Ok(Ok(out)) => SimOutcome::Ran {
            events: hasim::metrics::pooled::ReplicationStats::of(&out).events,
            estimate,
        },
        Ok(Err(v)) => SimOutcome::Invariant(v.message),
        Err(p) => SimOutcome::Panic(panic_text(&p)),
    }
}

fn load_outcome(path: &Path, bytes: Vec<u8>, overrides: &[Override]) -> Outcome {
    load_and_simulate(path, bytes, overrides, None)
}

/// `load_outcome`, simulating an accepted scenario into `sim` when given.
fn load_and_simulate(
    path: &Path,
    bytes: Vec<u8>,
    overrides: &[Override],
    sim: Option<&mut SimOutcome>,
) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| load_bytes(path, bytes, overrides))) {
        Ok(Ok(mut model)) => {
            if let Some(sim) = sim {
                *sim = simulate(&mut model);
            }
            Outcome::Ok
        }
        Ok(Err(LoadError::Invalid(_))) => Outcome::Invalid,
        Ok(Err(LoadError::Io { .. })) => Outcome::Io,
        Err(p) => Outcome::Panic(panic_text(&p)),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

/// The quickstart's host failure table, replaced in trace and empirical cases.
const HOST_FAILURES: &str = "[failures.host]\ntime_between = { dist = \"exponential\", mean = \"8760h\" }\nrepair = { dist = \"lognormal\", median = \"1h\", sigma = 1.4 }\n";

const FTA_HEADER: &str = "event_id\tcomponent_id\tnode_id\tplatform_id\tnode_name\tevent_type\tevent_start_time\tevent_stop_time\tevent_end_reason";

fn seed_trace() -> String {
    let mut t = String::from(FTA_HEADER);
    t.push('\n');
    for i in 0..24u64 {
        let node = i % 6;
        let (s, e) = (1_000_000 + i * 86_400, 1_000_000 + i * 86_400 + 3_600);
        t.push_str(&format!(
            "{i}\t0\t{node}\t0\tn{node}\t{}\t{s}\t{e}\treason\n",
            i % 2
        ));
    }
    t
}

/// Recorded `hasim policy masakari` input: a small fleet under frequent crashes.
fn seed_policy_lines() -> Vec<String> {
    let model = hasim::scenario::load(
        &repo("scenarios/masakari.toml"),
        &[
            "simulation.horizon=20d".into(),
            "workloads.web.count=12".into(),
            "topology.hosts_per_rack=2".into(),
            "failures.host.time_between.mean=100h".into(),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (_, steps) = hasim::runner::run_recorded(&model, 0).unwrap();
    let input = hasim::adapters::policy_stdio::input_lines(&steps);
    let lines: Vec<String> = input.lines().take(40).map(str::to_string).collect();
    assert!(lines.len() >= 4, "recorded {} lines", lines.len());
    lines
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e400",
    "null",
    "\"x\"",
    "[]",
    "{}",
];

fn json_mutation(g: &mut Gen, line: &str) -> String {
    // Replace a number with another, or a byte.
    let bytes = line.as_bytes();
    let digits: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
        .collect();
    if !digits.is_empty() && g.chance(70) {
        let at = *g.pick(&digits);
        let end = (at..bytes.len())
            .find(|&i| !bytes[i].is_ascii_digit())
            .unwrap_or(bytes.len());
        return format!("{}{}{}", &line[..at], g.pick(NUMBERS), &line[end..]);
    }
    String::from_utf8_lossy(&byte_mutation(g, line.as_bytes().to_vec())).into_owned()
}

/// A documented rule the case breaks on purpose: the result must not be `Ok`.
fn break_a_rule(g: &mut Gen, text: &str) -> (String, Vec<Override>, &'static str) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let ints: Vec<usize> = key_lines(&lines)
        .into_iter()
        .filter(|(i, _)| {
            let v = lines[*i].split_once(" = ").unwrap().1.trim();
            !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
        })
        .map(|(i, _)| i)
        .collect();
    let durations: Vec<usize> = key_lines(&lines)
        .into_iter()
        .filter(|(i, k)| {
            // Free text is not a duration, whatever it reads like.
            k != "description" && {
                let v = lines[*i].split_once(" = ").unwrap().1.trim();
                v.len() > 2
                    && v.starts_with('"')
                    && v.as_bytes()[1].is_ascii_digit()
                    && v.ends_with(['s', 'm', 'h', 'd', 'y', '"'])
                    && v[1..v.len() - 1].ends_with(['s', 'm', 'h', 'd', 'y'])
            }
        })
        .map(|(i, _)| i)
        .collect();
    let mut overrides = Vec::new();
    let rule = match g.below(6) {
        0 if !ints.is_empty() => {
            let i = *g.pick(&ints);
            let k = lines[i].split_once(" = ").unwrap().0.to_string();
            lines[i] = format!("{k} = 99999999999999999999");
            "integer outside 64 bits"
        }
        1 if !durations.is_empty() => {
            let i = *g.pick(&durations);
            let k = lines[i].split_once(" = ").unwrap().0.to_string();
            lines[i] = format!("{k} = \"-5m\"");
            "negative duration"
        }
        2 => {
            overrides.push(Override::set(&format!(
                "name={}",
                g.pick(&["../x", "/abs", "", "..", "a/b"])
            )));
            "name escaping results/"
        }
        3 => {
            overrides.push(Override::set("simulation.horizon=0s"));
            "zero horizon"
        }
        4 => {
            overrides.push(Override::set("simulation.seed=99999999999999999999"));
            "--set integer outside 64 bits"
        }
        _ => {
            lines.insert(0, "zz_not_a_key = 1".into());
            "unknown key"
        }
    };
    (lines.join("\n") + "\n", overrides, rule)
}

#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<(String, String), u64>,
    panics: Vec<String>,
    oracle: Vec<String>,
    slow: Vec<String>,
    invariants: Vec<String>,
}

impl Tally {
    fn sim(&mut self, o: &SimOutcome, case: &str) {
        let name = match o {
            SimOutcome::Skipped => return,
            SimOutcome::Ran { events, estimate } => {
                if *events as f64 > 100.0 * estimate.max(1e3) {
                    self.slow.push(format!(
                        "{case}: {events} events, over 100 x its estimate {estimate:.0}"
                    ));
                }
                "ran"
            }
            SimOutcome::Invariant(m) => {
                self.invariants.push(format!("{case}: {m}"));
                "INVARIANT VIOLATED"
            }
            SimOutcome::Panic(m) => {
                self.panics.push(format!("{case} (simulating): {m}"));
                "PANIC"
            }
        };
        *self
            .by_kind
            .entry(("simulated, 1 rep <= 30 d".into(), name.into()))
            .or_default() += 1;
    }

    fn add(&mut self, kind: &str, o: &Outcome, case: &str) {
        let name = match o {
            Outcome::Ok => "ok",
            Outcome::Invalid => "invalid (exit 3)",
            Outcome::Io => "unreadable (exit 3)",
            Outcome::Panic(_) => "PANIC",
        };
        *self
            .by_kind
            .entry((kind.to_string(), name.to_string()))
            .or_default() += 1;
        if let Outcome::Panic(m) = o {
            self.panics.push(format!("{case}: {m}"));
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn issue_11_fuzz_inputs_never_panic_and_rule_breaks_never_pass() {
    let cases = env_u64("HASIM_FUZZ_CASES", 3_000);
    let seconds = env_u64("HASIM_FUZZ_SECONDS", 20);
    let seed = env_u64("HASIM_FUZZ_SEED", 11);
    let dir = scratch("fuzz");
    let mut corpus: Vec<(PathBuf, String)> = Vec::new();
    for d in ["scenarios", "tests/bad"] {
        for f in toml_files(d) {
            if crate::support::runs_upstream_masakari(&f) {
                continue;
            }
            corpus.push((f.clone(), std::fs::read_to_string(&f).unwrap()));
        }
    }
    let valid: Vec<&(PathBuf, String)> = corpus
        .iter()
        .filter(|(p, _)| p.starts_with("scenarios"))
        .collect();
    let quickstart = std::fs::read_to_string("scenarios/quickstart.toml").unwrap();
    assert!(quickstart.contains(HOST_FAILURES));
    let trace = seed_trace();
    let policy_lines = seed_policy_lines();
    let policy_cfg = hasim::adapters::policy_stdio::load_config("masakari", None).unwrap();
    // The watchdog: a case running past HUNG ends the harness, naming the saved input.
    let started = Instant::now();
    let case_start_ms = Arc::new(AtomicU64::new(0));
    let case_index = Arc::new(AtomicU64::new(0));
    let current = dir.join("current-case");
    {
        let (start_ms, index, current) =
            (case_start_ms.clone(), case_index.clone(), current.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = started.elapsed().as_millis() as u64;
            let s = start_ms.load(Ordering::SeqCst);
            if s != u64::MAX && now.saturating_sub(s) > HUNG.as_millis() as u64 {
                eprintln!(
                    "fuzz: case {} (seed {seed}) HUNG over {HUNG:?}; input in {}",
                    index.load(Ordering::SeqCst),
                    current.display()
                );
                std::process::exit(1);
            }
        });
    }
    let mut g = Gen(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut tally = Tally::default();
    let mut run = 0;
    for case in 0..cases {
        if started.elapsed() > Duration::from_secs(seconds) {
            break;
        }
        run += 1;
        case_index.store(case, Ordering::SeqCst);
        case_start_ms.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
        let t0 = Instant::now();
        let label = format!("case {case} (seed {seed})");
        let kind = match g.below(10) {
            0..=2 => {
                let (path, text) = g.pick(&corpus).clone();
                let bytes = if g.chance(50) {
                    byte_mutation(&mut g, text.into_bytes())
                } else {
                    line_mutation(&mut g, &text).into_bytes()
                };
                std::fs::write(&current, &bytes).unwrap();
                let mut sim = SimOutcome::Skipped;
                let path = repo(path.to_str().unwrap());
                let o = load_and_simulate(&path, bytes, &[], Some(&mut sim));
                tally.add("scenario file", &o, &label);
                tally.sim(&sim, &label);
                "scenario file"
            }
            3 | 4 => {
                let (path, text) = *g.pick(&valid);
                let keys = dotted_keys(text);
                let mut overrides = Vec::new();
                for _ in 0..=g.below(3) {
                    let key = match g.below(5) {
                        0 => g
                            .pick(&["a..b", ".", "workloads.99.count", "x.y.z", "name.x", ""])
                            .to_string(),
                        _ => g.pick(&keys).clone(),
                    };
                    let value = g.pick(VALUES).trim_matches('"').to_string();
                    overrides.push(if g.chance(50) {
                        Override::set(&format!("{key}={value}"))
                    } else {
                        Override {
                            label: format!("--grid {key}={value}"),
                            text: format!("{key}={value}"),
                        }
                    });
                }
                let case_text: Vec<String> = overrides.iter().map(|o| o.label.clone()).collect();
                std::fs::write(&current, case_text.join("\n")).unwrap();
                let mut sim = SimOutcome::Skipped;
                let o = load_and_simulate(
                    &repo(path.to_str().unwrap()),
                    text.clone().into_bytes(),
                    &overrides,
                    Some(&mut sim),
                );
                tally.add("--set/--grid", &o, &label);
                tally.sim(&sim, &label);
                // The grid's own rules: a repeated key is refused whatever the values.
                let key = g.pick(&keys).clone();
                let axis = |v: &str| hasim::sweep::Axis {
                    key: key.clone(),
                    values: vec![v.into()],
                    texts: vec![v.into()],
                };
                if hasim::sweep::check_grid(&[axis("1"), axis("2")]).is_ok() {
                    tally
                        .oracle
                        .push(format!("{label}: --grid {key} twice accepted"));
                }
                "--set/--grid"
            }
            5 | 6 => {
                let t = if g.chance(50) {
                    String::from_utf8_lossy(&byte_mutation(&mut g, trace.clone().into_bytes()))
                        .into_owned()
                } else {
                    let mut lines: Vec<String> = trace.lines().map(str::to_string).collect();
                    let i = 1 + g.below(lines.len() - 1);
                    let mut f: Vec<String> = lines[i].split('\t').map(str::to_string).collect();
                    let j = g.below(f.len());
                    f[j] = g.pick(VALUES).trim_matches('"').to_string();
                    lines[i] = f.join("\t");
                    lines.join("\n") + "\n"
                };
                let empirical = g.chance(30);
                let (file, table) = if empirical {
                    (
                        "empirical.txt",
                        "[failures.host]\ntime_between = { dist = \"empirical\", file = \"empirical.txt\" }\nrepair = { dist = \"fixed\", value = \"1h\" }\n",
                    )
                } else {
                    (
                        "trace.tab",
                        "[failures.trace]\nfile = \"trace.tab\"\nformat = \"fta\"\n",
                    )
                };
                let body = if empirical { t.replace('\t', "\n") } else { t };
                std::fs::write(dir.join(file), &body).unwrap();
                std::fs::write(&current, &body).unwrap();
                // The quickstart's own host failures give way to the trace or the file.
                let scenario = quickstart.replace(HOST_FAILURES, table);
                assert_ne!(scenario, quickstart);
                let mut sim = SimOutcome::Skipped;
                let s_path = dir.join("s.toml");
                let o = load_and_simulate(&s_path, scenario.into_bytes(), &[], Some(&mut sim));
                tally.add("trace/empirical file", &o, &label);
                tally.sim(&sim, &label);
                "trace/empirical file"
            }
            7 | 8 => {
                let mut lines = policy_lines.clone();
                for _ in 0..=g.below(3) {
                    let i = g.below(lines.len());
                    match g.below(4) {
                        0 => {
                            lines.remove(i);
                        }
                        1 => {
                            let l = lines[i].clone();
                            lines.insert(g.below(lines.len()), l);
                        }
                        _ => lines[i] = json_mutation(&mut g, &lines[i]),
                    }
                    if lines.is_empty() {
                        break;
                    }
                }
                let input = lines.join("\n");
                std::fs::write(&current, &input).unwrap();
                let mut out = Vec::new();
                let o = match catch_unwind(AssertUnwindSafe(|| {
                    hasim::adapters::policy_stdio::run(&policy_cfg, input.as_bytes(), &mut out)
                })) {
                    Ok(Ok(())) => Outcome::Ok,
                    Ok(Err(_)) => Outcome::Invalid,
                    Err(p) => Outcome::Panic(panic_text(&p)),
                };
                tally.add("hasim policy", &o, &label);
                "hasim policy"
            }
            _ => {
                let (path, text) = *g.pick(&valid);
                let (text, overrides, rule) = break_a_rule(&mut g, text);
                std::fs::write(&current, &text).unwrap();
                let o = load_outcome(&repo(path.to_str().unwrap()), text.into_bytes(), &overrides);
                if o == Outcome::Ok {
                    tally
                        .oracle
                        .push(format!("{label}: {rule} in {} accepted", path.display()));
                }
                tally.add("rule broken on purpose", &o, &label);
                "rule broken on purpose"
            }
        };
        let took = t0.elapsed();
        if took > SLOW {
            tally.slow.push(format!("{label} ({kind}): {took:?}"));
        }
    }
    case_start_ms.store(u64::MAX, Ordering::SeqCst);
    eprintln!(
        "fuzz: {run} cases in {:.1} s (seed {seed}); outcomes:",
        started.elapsed().as_secs_f64()
    );
    for ((kind, outcome), n) in &tally.by_kind {
        eprintln!("  {kind:<24} {outcome:<20} {n}");
    }
    eprintln!(
        "  panics {}, accepted rule breaks {}, invariant violations {}, slow {}, hung 0",
        tally.panics.len(),
        tally.oracle.len(),
        tally.invariants.len(),
        tally.slow.len()
    );
    for s in &tally.slow {
        eprintln!("  slow: {s}");
    }
    for v in &tally.invariants {
        eprintln!("  invariant violated: {v}");
    }
    assert!(tally.panics.is_empty(), "panics: {:#?}", tally.panics);
    assert!(tally.invariants.is_empty(), "{:#?}", tally.invariants);
    assert!(
        tally.oracle.is_empty(),
        "rule breaks accepted: {:#?}",
        tally.oracle
    );
    assert!(run >= cases.min(100), "only {run} cases ran");
}
