//! Reading typed values out of a `Node` tree while collecting every problem.
//!
//! Owns `Diagnostics` (the list of `file:line: key: message` problems) and `TableReader`, which
//! hands out typed fields, remembers which keys were used, and reports the rest as unknown. A
//! missing or malformed value records a problem and yields `None`, so validation goes on and the
//! user sees all problems at once instead of one per run.

use super::limits::{
    one_line, quote, read_capped, MAX_EMPIRICAL_BYTES, MAX_NAME_BYTES, MAX_PATH_BYTES,
    MAX_TEXT_BYTES,
};
use super::tree::{Node, Origin, Table, Value};
use crate::core::dist::{secs, DurationDist};
use crate::core::time::{parse_duration, SimDuration};
use std::collections::BTreeSet;
use std::fmt;

/// The longest string a key may hold: free text for `description`, a path for `file`, a name
/// for everything else (see `scenario::limits`).
fn max_string_bytes(key: &str) -> usize {
    match key {
        "description" => MAX_TEXT_BYTES,
        "file" | "command" => MAX_PATH_BYTES,
        _ => MAX_NAME_BYTES,
    }
}

/// One problem found in a scenario.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub origin: Origin,
    pub key: String,
    pub message: String,
}

/// All problems found in one scenario file, rendered against its text for line numbers.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub file: String,
    line_starts: Vec<usize>,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &str, text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Diagnostics {
            file: file.to_string(),
            line_starts,
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, origin: &Origin, key: &str, message: impl Into<String>) {
        self.items.push(Diagnostic {
            origin: origin.clone(),
            key: one_line(key),
            message: one_line(&message.into()),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    fn location(&self, origin: &Origin) -> String {
        match origin {
            Origin::File(span) => format!("{}:{}", self.file, self.line_of(span.start)),
            Origin::Override(label) => format!("{}: ({})", self.file, escape_label(label)),
        }
    }

    /// Problems in file order (overrides last), one `file:line: key: message` per line.
    pub fn render(&self) -> Vec<String> {
        let mut sorted: Vec<&Diagnostic> = self.items.iter().collect();
        sorted.sort_by_key(|d| match &d.origin {
            Origin::File(s) => (0, s.start),
            Origin::Override(_) => (1, 0),
        });
        sorted
            .into_iter()
            .map(|d| {
                if d.key.is_empty() {
                    format!("{}: {}", self.location(&d.origin), d.message)
                } else {
                    format!("{}: {}: {}", self.location(&d.origin), d.key, d.message)
                }
            })
            .collect()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.render() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// A command-line option as a location: control characters escaped and long values cut, so a
/// newline in `--set` cannot split a message and a megabyte value is not printed whole.
fn escape_label(label: &str) -> String {
    super::limits::escape(label, 2 * super::limits::QUOTE_BYTES)
}

/// Joins a table path and a key: `("failures.host", "repair")` → `"failures.host.repair"`.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Typed access to one table; call `finish` to report unknown keys.
pub struct TableReader<'a> {
    table: &'a Table,
    pub path: String,
    pub origin: Origin,
    used: BTreeSet<&'static str>,
}

impl<'a> TableReader<'a> {
    /// Reads `node` as a table, or records a problem and returns `None`.
    pub fn new(node: &'a Node, path: &str, d: &mut Diagnostics) -> Option<Self> {
        match &node.value {
            Value::Table(table) => Some(TableReader {
                table,
                path: path.to_string(),
                origin: node.origin.clone(),
                used: BTreeSet::new(),
            }),
            other => {
                d.push(
                    &node.origin,
                    path,
                    format!("expected a table, found {}", other.a_type_name()),
                );
                None
            }
        }
    }

    pub fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The string value of `key`, if it is a string, without marking it used or reporting.
    pub fn str_value(&self, key: &str) -> Option<&'a str> {
        match self.table.entries.get(key) {
            Some((
                _,
                Node {
                    value: Value::Str(s),
                    ..
                },
            )) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Every entry as `(key, key origin, value)`, all marked used: for tables whose keys are
    /// data (metric names), not schema.
    pub fn entries(mut self) -> Vec<(&'a str, &'a Origin, &'a Node)> {
        self.used.clear();
        self.table
            .entries
            .iter()
            .map(|(k, (o, n))| (k.as_str(), o, n))
            .collect()
    }

    /// The raw node of a key, marking it used.
    pub fn node(&mut self, key: &'static str) -> Option<&'a Node> {
        super::keys::note(&self.path, key);
        self.used.insert(key);
        self.table.entries.get(key).map(|(_, n)| n)
    }

    /// Where the value of `key` is, or the table's own origin when the key is absent.
    pub fn origin_of(&self, key: &str) -> Origin {
        match self.table.entries.get(key) {
            Some((_, n)) => n.origin.clone(),
            None => self.origin.clone(),
        }
    }

    /// Marks every key used without checking it: after a problem that makes the rest of the
    /// table meaningless (an unknown `dist`), reporting its other keys would only add noise.
    pub fn skip_rest(mut self) {
        self.used.clear();
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.entries.contains_key(key)
    }

    fn required(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<&'a Node> {
        let node = self.node(key);
        if node.is_none() {
            d.push(&self.origin, &self.key_path(key), "missing required key");
        }
        node
    }

    fn type_error(&self, node: &Node, key: &str, want: &str, d: &mut Diagnostics) {
        d.push(
            &node.origin,
            &self.key_path(key),
            format!("expected {want}, found {}", node.value.a_type_name()),
        );
    }

    /// An optional string, at most `max_string_bytes(key)` long.
    pub fn opt_str(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<&'a str> {
        let node = self.node(key)?;
        match &node.value {
            Value::Str(s) => self.capped(node, key, s, d),
            _ => {
                self.type_error(node, key, "a string", d);
                None
            }
        }
    }

    fn capped(&self, node: &Node, key: &str, s: &'a str, d: &mut Diagnostics) -> Option<&'a str> {
        let cap = max_string_bytes(key);
        if s.len() <= cap {
            return Some(s);
        }
        d.push(
            &node.origin,
            &self.key_path(key),
            format!("{} is longer than the limit of {cap} bytes", quote(s)),
        );
        None
    }

    pub fn str(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<&'a str> {
        self.required(key, d)?;
        self.opt_str(key, d)
    }

    /// An optional string that must be one of `choices`.
    pub fn opt_choice(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
        d: &mut Diagnostics,
    ) -> Option<&'static str> {
        let node = self.node(key)?;
        let s = self.opt_str(key, d)?;
        match choices.iter().find(|c| **c == s) {
            Some(c) => Some(c),
            None => {
                d.push(
                    &node.origin,
                    &self.key_path(key),
                    match closest(s, choices) {
                        Some(c) => format!(
                            "{} is not one of {} (did you mean \"{c}\"?)",
                            quote(s),
                            quote_list(choices)
                        ),
                        None => format!("{} is not one of {}", quote(s), quote_list(choices)),
                    },
                );
                None
            }
        }
    }

    pub fn choice(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
        d: &mut Diagnostics,
    ) -> Option<&'static str> {
        self.required(key, d)?;
        self.opt_choice(key, choices, d)
    }

    pub fn opt_bool(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<bool> {
        let node = self.node(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(node, key, "true or false", d);
                None
            }
        }
    }

    /// An optional integer within `[min, max]`.
    pub fn opt_int(
        &mut self,
        key: &'static str,
        min: i64,
        max: i64,
        d: &mut Diagnostics,
    ) -> Option<i64> {
        let node = self.node(key)?;
        match node.value {
            Value::Int(n) if n >= min && n <= max => Some(n),
            Value::Int(n) => {
                d.push(
                    &node.origin,
                    &self.key_path(key),
                    format!("{n} is out of range (must be {min}..={max})"),
                );
                None
            }
            _ => {
                self.type_error(node, key, "an integer", d);
                None
            }
        }
    }

    pub fn int(
        &mut self,
        key: &'static str,
        min: i64,
        max: i64,
        d: &mut Diagnostics,
    ) -> Option<i64> {
        self.required(key, d)?;
        self.opt_int(key, min, max, d)
    }

    /// A required number (integer or float) that must be finite and positive.
    pub fn positive_number(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<f64> {
        let node = self.required(key, d)?;
        let x = match node.value {
            Value::Int(n) => n as f64,
            Value::Float(x) => x,
            _ => {
                self.type_error(node, key, "a number", d);
                return None;
            }
        };
        if x.is_finite() && x > 0.0 {
            Some(x)
        } else {
            d.push(
                &node.origin,
                &self.key_path(key),
                format!("{x} must be a positive number"),
            );
            None
        }
    }

    /// A required number in `[min, max]`.
    pub fn number_in(
        &mut self,
        key: &'static str,
        min: f64,
        max: f64,
        d: &mut Diagnostics,
    ) -> Option<f64> {
        let node = self.required(key, d)?;
        let x = match node.value {
            Value::Int(n) => n as f64,
            Value::Float(x) => x,
            _ => {
                self.type_error(node, key, "a number", d);
                return None;
            }
        };
        if x.is_finite() && x >= min && x <= max {
            Some(x)
        } else {
            d.push(
                &node.origin,
                &self.key_path(key),
                format!("{x} is out of range (must be {min}..={max})"),
            );
            None
        }
    }

    /// An optional duration string (`"90s"`); zero is allowed only when `allow_zero`.
    pub fn opt_duration(
        &mut self,
        key: &'static str,
        allow_zero: bool,
        d: &mut Diagnostics,
    ) -> Option<SimDuration> {
        let node = self.node(key)?;
        let text = match &node.value {
            Value::Str(s) => s,
            Value::Int(_) | Value::Float(_) => {
                d.push(
                    &node.origin,
                    &self.key_path(key),
                    "a duration needs a unit: write a string such as \"90s\", \"5m\" or \"8760h\"",
                );
                return None;
            }
            _ => {
                self.type_error(node, key, "a duration string such as \"90s\"", d);
                return None;
            }
        };
        match parse_duration(text) {
            Ok(v) if v == SimDuration::ZERO && !allow_zero => {
                d.push(
                    &node.origin,
                    &self.key_path(key),
                    format!("duration \"{text}\" must be greater than zero"),
                );
                None
            }
            Ok(v) => Some(v),
            Err(msg) => {
                d.push(&node.origin, &self.key_path(key), msg);
                None
            }
        }
    }

    pub fn duration(
        &mut self,
        key: &'static str,
        allow_zero: bool,
        d: &mut Diagnostics,
    ) -> Option<SimDuration> {
        self.required(key, d)?;
        self.opt_duration(key, allow_zero, d)
    }

    /// An optional array of strings.
    pub fn opt_str_list(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<Vec<&'a str>> {
        let node = self.node(key)?;
        let Value::Array(items) = &node.value else {
            self.type_error(node, key, "an array of strings", d);
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::Str(s) => out.push(self.capped(item, key, s, d)?),
                _ => {
                    self.type_error(item, key, "a string", d);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// An optional sub-table.
    pub fn opt_table(&mut self, key: &'static str, d: &mut Diagnostics) -> Option<TableReader<'a>> {
        let node = self.node(key)?;
        TableReader::new(node, &self.key_path(key), d)
    }

    /// An optional array of tables (`[[name]]`); elements' paths read `name[i]`.
    pub fn opt_table_array(
        &mut self,
        key: &'static str,
        d: &mut Diagnostics,
    ) -> Vec<TableReader<'a>> {
        let Some(node) = self.node(key) else {
            return Vec::new();
        };
        let Value::Array(items) = &node.value else {
            self.type_error(node, key, "an array of tables ([[...]])", d);
            return Vec::new();
        };
        let base = self.key_path(key);
        items
            .iter()
            .enumerate()
            .filter_map(|(i, n)| TableReader::new(n, &format!("{base}[{i}]"), d))
            .collect()
    }

    /// A required distribution table: `{ dist = "exponential", mean = "8760h" }` etc.
    pub fn dist(
        &mut self,
        key: &'static str,
        ctx: &DistContext,
        d: &mut Diagnostics,
    ) -> Option<DurationDist> {
        self.required(key, d)?;
        let mut t = self.opt_table(key, d)?;
        let dist = read_dist(&mut t, ctx, d);
        let kind_known = t.has("dist") && DISTS.iter().any(|k| t.str_value("dist") == Some(*k));
        if kind_known {
            t.finish(d);
        } else {
            t.skip_rest();
        }
        dist
    }

    /// Reports every key that no getter asked for.
    pub fn finish(self, d: &mut Diagnostics) {
        for (key, (origin, _)) in &self.table.entries {
            if !self.used.contains(key.as_str()) {
                let known: Vec<&str> = self.used.iter().copied().collect();
                let hint = match closest(key, &known) {
                    Some(s) => format!(" (did you mean \"{s}\"?)"),
                    None => format!(" (known keys: {})", known.join(", ")),
                };
                d.push(origin, &self.key_path(key), format!("unknown key{hint}"));
            }
        }
    }
}

/// Resolves `empirical{file}` paths against the scenario's directory.
pub struct DistContext {
    pub base_dir: std::path::PathBuf,
}

/// The duration distributions, as the key registry lists them.
const DISTS: &[&str] = super::keys::DIST_NAMES;

fn read_dist(
    t: &mut TableReader<'_>,
    ctx: &DistContext,
    d: &mut Diagnostics,
) -> Option<DurationDist> {
    let kind = t.choice("dist", DISTS, d)?;
    let dur = |t: &mut TableReader<'_>, key: &'static str, d: &mut Diagnostics| {
        t.duration(key, false, d).map(secs)
    };
    match kind {
        "exponential" => Some(DurationDist::Exponential {
            mean_s: dur(t, "mean", d)?,
        }),
        "weibull" => {
            let shape = t.positive_number("shape", d);
            let scale = dur(t, "scale", d);
            Some(DurationDist::Weibull {
                shape: shape?,
                scale_s: scale?,
            })
        }
        "lognormal" => {
            let sigma = t.positive_number("sigma", d);
            // Either the median (e^mu) or the mean (e^(mu + sigma²/2)) fixes mu.
            let (median, mean) = (t.has("median"), t.has("mean"));
            let mu = match (median, mean) {
                (true, false) => dur(t, "median", d).map(f64::ln),
                (false, true) => {
                    let m = dur(t, "mean", d);
                    match (m, sigma) {
                        (Some(m), Some(s)) => Some(m.ln() - s * s / 2.0),
                        _ => None,
                    }
                }
                (true, true) => {
                    t.node("mean");
                    d.push(&t.origin, &t.path, "give either median or mean, not both");
                    None
                }
                (false, false) => {
                    d.push(
                        &t.origin,
                        &t.key_path("median"),
                        "missing required key (or give mean)",
                    );
                    None
                }
            };
            Some(DurationDist::LogNormal {
                mu: mu?,
                sigma: sigma?,
            })
        }
        "gamma" => {
            let shape = t.positive_number("shape", d);
            let scale = dur(t, "scale", d);
            Some(DurationDist::Gamma {
                shape: shape?,
                scale_s: scale?,
            })
        }
        "uniform" => {
            let min = t.duration("min", true, d);
            let max = t.duration("max", false, d);
            let (min, max) = (min?, max?);
            if min > max {
                d.push(
                    &t.origin,
                    &t.key_path("min"),
                    format!("min ({min}) is greater than max ({max})"),
                );
                return None;
            }
            Some(DurationDist::Uniform {
                min_s: secs(min),
                max_s: secs(max),
            })
        }
        "fixed" => Some(DurationDist::Fixed {
            value: t.duration("value", false, d)?,
        }),
        "empirical" => {
            let node = t.node("file");
            let file = t.str("file", d)?;
            let origin = node.map(|n| n.origin.clone()).unwrap_or(t.origin.clone());
            let path = ctx.base_dir.join(file);
            match read_empirical(&path) {
                Ok(values) => Some(DurationDist::Empirical {
                    values: std::sync::Arc::new(values),
                }),
                Err(msg) => {
                    d.push(
                        &origin,
                        &t.key_path("file"),
                        format!("{}: {msg}", path.display()),
                    );
                    None
                }
            }
        }
        _ => unreachable!("choice() only returns listed names"),
    }
}

/// Reads one duration per line (`"45s"` style or bare seconds); `#` starts a comment.
fn read_empirical(path: &std::path::Path) -> Result<Vec<SimDuration>, String> {
    let bytes = read_capped(path, MAX_EMPIRICAL_BYTES)?;
    if let Some((line, offset)) = super::limits::utf8_error_position(&bytes) {
        return Err(format!(
            "line {line}: not UTF-8 text (invalid byte at byte offset {offset})"
        ));
    }
    let text = String::from_utf8(bytes).expect("checked above");
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let v = match line.parse::<f64>() {
            Ok(s) if s.is_finite() && s > 0.0 => SimDuration::from_secs_f64_round(s),
            Ok(_) => return Err(format!("line {}: {} must be positive", i + 1, quote(line))),
            Err(_) => parse_duration(line).map_err(|m| format!("line {}: {m}", i + 1))?,
        };
        if v == SimDuration::ZERO {
            return Err(format!("line {}: {} must be positive", i + 1, quote(line)));
        }
        values.push(v);
    }
    if values.is_empty() {
        return Err("no durations in file".into());
    }
    Ok(values)
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name closest to `name` by edit distance, if it is plausibly a typo.
pub fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(dist, k)| *dist <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
