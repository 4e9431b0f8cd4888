//! `report.html`: one self-contained page (inline SVG and CSS, no external assets) with the
//! scenario, the seed and the exact command that reproduces the run, the summary table with
//! intervals, the `[expect]` verdicts and every chart.

use super::plots::{svg_string, Chart};
use super::text::num;
use crate::metrics::expect::evaluate;
use crate::runner::RunResult;
use crate::scenario::model::Model;
use std::fmt::Write;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Quotes a shell word when it needs it.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command that reproduces this run exactly (`-n` and `--seed` stand for their overrides).
pub fn reproduce_command(model: &Model) -> String {
    let mut cmd = format!(
        "hasim run {} --seed {} -n {}",
        shell_word(&model.provenance.file.display().to_string()),
        model.simulation.seed,
        model.simulation.replications
    );
    for o in &model.provenance.overrides {
        if !o.starts_with("simulation.seed=") && !o.starts_with("simulation.replications=") {
            let _ = write!(cmd, " --set {}", shell_word(o));
        }
    }
    cmd
}

const STYLE: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1320px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}code,pre{background:#f4f4f4;padding:.2em .4em}\
.ok{color:#00734d}.failed{color:#b00020;font-weight:bold}figure{margin:1.5em 0}svg{max-width:100%;height:auto}";

/// A chart to inline, already drawn as SVG text.
pub struct Figure {
    pub caption: String,
    pub svg: String,
}

pub fn figure<C: Chart>(caption: &str, c: &C) -> Result<Figure, String> {
    Ok(Figure {
        caption: caption.to_string(),
        svg: svg_string(c)?,
    })
}

pub fn report(model: &Model, result: &RunResult, figures: &[Figure]) -> String {
    let mut h = String::new();
    let t = &model.topology;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hasim: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>{name}</h1><p>{desc}</p>\n\
         <p>{hosts} hosts in {racks} racks, {fds} fault domains, {zones} zones; {vms} VMs; policy <b>{policy}</b>; \
         {reps} replications of {horizon}; seed <b>{seed}</b>.</p>\n\
         <p>Reproduce: <code>{cmd}</code><br>Scenario sha256 <code>{sha}</code>, hasim {version}.</p>\n",
        name = escape(&model.name),
        desc = escape(&model.description),
        hosts = t.hosts.len(),
        racks = t.racks.len(),
        fds = t.fault_domains.len(),
        zones = t.zones.len(),
        vms = model.vms.len(),
        policy = escape(model.policy.name()),
        reps = model.simulation.replications,
        horizon = model.simulation.horizon,
        seed = model.simulation.seed,
        cmd = escape(&reproduce_command(model)),
        sha = model.provenance.sha256,
        version = env!("CARGO_PKG_VERSION"),
    );
    h.push_str("<h2>Summary</h2>\n<table><tr><th>metric</th><th>mean</th><th>95 % interval</th><th>unit</th></tr>\n");
    for (name, m) in &result.metrics {
        let ci = m
            .ci95
            .map(|(lo, hi)| format!("[{}, {}]", num(lo), num(hi)))
            .unwrap_or_else(|| "–".into());
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(name),
            num(m.mean),
            ci,
            escape(m.unit)
        );
    }
    h.push_str("</table>\n");
    let checks = evaluate(&model.expectations, &result.metrics);
    if !checks.is_empty() {
        h.push_str("<h2>Expectations</h2>\n<table><tr><th>check</th><th>measured</th><th>verdict</th></tr>\n");
        for c in &checks {
            let (class, verdict) = if c.passed {
                ("ok", "ok")
            } else {
                ("failed", "FAILED")
            };
            let measured = c.measured.map(num).unwrap_or_else(|| {
                escape(&super::text::not_measured(c, model.simulation.replications))
            });
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{measured}</td><td class=\"{class}\">{verdict}</td></tr>",
                escape(&c.expectation.to_string())
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Charts</h2>\n");
    for f in figures {
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            f.svg,
            escape(&f.caption)
        );
    }
    h.push_str("</body></html>\n");
    h
}
