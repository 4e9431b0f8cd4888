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

/// The run's overrides as `--set` options (`-n` and `--seed` stand for their own).
fn set_options(model: &Model) -> String {
    set_options_except(model, &[])
}

/// `set_options` without the overrides of `keys`, which the caller's command sets its own way
/// (`--policy`, `--grid`).
pub fn set_options_except(model: &Model, keys: &[&str]) -> String {
    let mut s = String::new();
    for o in &model.provenance.overrides {
        let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k);
        if key != "simulation.seed" && key != "simulation.replications" && !keys.contains(&key) {
            let _ = write!(s, " --set {}", shell_word(o));
        }
    }
    s
}

/// The command that reproduces this run exactly (`-n` and `--seed` stand for their overrides).
pub fn reproduce_command(model: &Model) -> String {
    let mut cmd = format!(
        "hasim run {} --seed {} -n {}",
        shell_word(&model.provenance.file.display().to_string()),
        model.simulation.seed,
        model.simulation.replications
    );
    cmd.push_str(&set_options(model));
    cmd
}

/// The command that replays replication `r` of this run (`hasim replay`), as an invariant
/// failure prints it.
pub fn replay_command(model: &Model, r: u32) -> String {
    let mut cmd = format!(
        "hasim replay {} --seed {} --replication {r}",
        shell_word(&model.provenance.file.display().to_string()),
        model.simulation.seed,
    );
    cmd.push_str(&set_options(model));
    cmd
}

/// Laptop first (tables scroll sideways rather than squeeze, charts scale to the column) and
/// printable: print drops the width limit, keeps each chart on one page, and opens the folded
/// sections (the script, for browsers whose print ignores the CSS rule).
const STYLE: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1320px;margin:2em auto;padding:0 1em;color:#222;line-height:1.35}\
table{border-collapse:collapse;margin:1em 0;display:block;overflow-x:auto}td,th{border-bottom:1px solid #ddd;padding:.3em .8em;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}code,pre{background:#f4f4f4;padding:.2em .4em}td code{font-size:.8em;color:#555;background:none;padding:0}\
pre{white-space:pre-wrap;word-break:break-all}details{margin:1em 0}summary{cursor:pointer;color:#444}\
.ok{color:#00734d}.failed{color:#b00020;font-weight:bold}figure{margin:1.5em 0}svg{max-width:100%;height:auto}\
@media print{body{max-width:none;margin:0;font-size:10pt}figure,table{break-inside:avoid}h2{break-after:avoid}\
details::details-content{content-visibility:visible;display:contents}summary{list-style:none}a{color:inherit}}";

const PRINT_SCRIPT: &str =
    "<script>addEventListener('beforeprint',()=>document.querySelectorAll('details').forEach(d=>d.open=true))</script>";

/// The page's head and title, for every report.
pub fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>hasim: {t}</title><style>{STYLE}</style>{PRINT_SCRIPT}</head><body>\n",
        t = escape(title)
    )
}

/// A metric's cell: its display name, and its key (the contract scripts use) under it.
pub fn metric_cell(name: &str) -> String {
    format!(
        "{}<br><code>{}</code>",
        escape(&crate::metrics::names::label(name)),
        escape(name)
    )
}

/// Rows split into those that say something and those folded away under a `<details>`: rows
/// whose values are all exactly 0, and metrics no replication defines.
pub fn folded_table(
    header: &str,
    shown: &[String],
    zero: &[String],
    undefined: &[String],
) -> String {
    let mut h = format!("<table>{header}\n");
    for r in shown {
        h.push_str(r);
    }
    h.push_str("</table>\n");
    if !zero.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>{} metrics exactly 0</summary><table>{header}",
            zero.len()
        );
        for r in zero {
            h.push_str(r);
        }
        h.push_str("</table></details>\n");
    }
    if !undefined.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>{} metrics undefined (no replication defines them; <code>null</code> in summary.json)</summary><p>{}</p></details>",
            undefined.len(),
            undefined
                .iter()
                .map(|n| metric_cell(n).replace("<br>", " "))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    h
}

/// The inlined charts with their captions.
pub fn figures_html(figures: &[Figure]) -> String {
    let mut h = String::from("<h2>Charts</h2>\n");
    for f in figures {
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{}</figcaption></figure>",
            f.svg,
            escape(&f.caption)
        );
    }
    h
}

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
    let mut h = page_start(&model.name);
    let t = &model.topology;
    let _ = write!(
        h,
        "<h1>{name}</h1><p>{desc}</p>\n\
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
    h.push_str("<h2>Summary</h2>\n");
    let (mut shown, mut zero, mut undefined) = (Vec::new(), Vec::new(), Vec::new());
    for def in crate::metrics::summary::registry() {
        let Some(m) = result.metrics.get(&def.name) else {
            undefined.push(def.name);
            continue;
        };
        let ci = m
            .ci95
            .map(|(lo, hi)| format!("[{}, {}]", num(lo), num(hi)))
            .unwrap_or_else(|| "–".into());
        let row = format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
            metric_cell(&def.name),
            num(m.mean),
            ci,
            escape(m.unit)
        );
        if m.mean == 0.0 && m.ci95.is_none_or(|(lo, hi)| lo == 0.0 && hi == 0.0) {
            zero.push(row);
        } else {
            shown.push(row);
        }
    }
    h.push_str(&folded_table(
        "<tr><th>metric</th><th>mean</th><th>95 % interval</th><th>unit</th></tr>",
        &shown,
        &zero,
        &undefined,
    ));
    let checks = evaluate(&model.expectations, &result.metrics);
    if !checks.is_empty() {
        h.push_str("<h2>Expectations</h2>\n<table><tr><th>check</th><th>measured</th><th>verdict</th></tr>\n");
        for c in &checks {
            let (class, verdict) = if c.passed {
                ("ok", "ok")
            } else {
                ("failed", "FAILED")
            };
            let measured = c
                .measured
                .map(num)
                .unwrap_or_else(|| escape(&super::text::not_measured(c)));
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{measured}</td><td class=\"{class}\">{verdict}</td></tr>",
                escape(&c.expectation.to_string())
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str(&figures_html(figures));
    h.push_str("</body></html>\n");
    h
}
