//! `report.html` of `compare` and `sweep`: the same self-contained page as a run's (inline SVG
//! and CSS, folded zero and undefined metrics, print styles), with the comparison's table of
//! paired differences or the sweep's table of points.

use super::html::{
    escape, figures_html, folded_table, metric_cell, page_start, set_options_except, shell_word,
};
use super::text::num;
use crate::compare::Comparison;
use crate::metrics::names::{key_label, label};
use crate::runner::RunResult;
use crate::scenario::model::Model;
use crate::sweep::{Axis, Point};
use std::fmt::Write;

fn ci(x: Option<(f64, f64)>) -> String {
    x.map(|(l, h)| format!("[{}, {}]", num(l), num(h)))
        .unwrap_or_else(|| "–".into())
}

fn header(h: &mut String, model: &Model, what: &str, cmd: &str) {
    let _ = write!(
        h,
        "<h1>{name}: {what}</h1><p>{desc}</p>\n<p>{hosts} hosts, {vms} VMs; {reps} replications of {horizon} per arm or point; seed <b>{seed}</b>.</p>\n\
         <p>Reproduce: <code>{cmd}</code><br>Scenario sha256 <code>{sha}</code>, hasim {version}.</p>\n",
        name = escape(&model.name),
        what = escape(what),
        desc = escape(&model.description),
        hosts = model.topology.hosts.len(),
        vms = model.vms.len(),
        reps = model.simulation.replications,
        horizon = model.simulation.horizon,
        seed = model.simulation.seed,
        cmd = escape(cmd),
        sha = model.provenance.sha256,
        version = env!("CARGO_PKG_VERSION"),
    );
}

/// The command that reproduces a comparison.
pub fn compare_command(model: &Model, c: &Comparison) -> String {
    format!(
        "hasim compare {} --policy {} --policy {} --seed {} -n {}{}",
        shell_word(&model.provenance.file.display().to_string()),
        shell_word(&c.policy_a),
        shell_word(&c.policy_b),
        model.simulation.seed,
        model.simulation.replications,
        set_options_except(model, &["policy.name"])
    )
}

pub fn compare_report(model: &Model, c: &Comparison, figures: &[super::html::Figure]) -> String {
    let mut h = page_start(&format!("{} compare", model.name));
    let what = format!("{} (A) against {} (B)", c.policy_a, c.policy_b);
    header(&mut h, model, &what, &compare_command(model, c));
    h.push_str(
        "<p>Both arms run on the same seed: replication r of each sees the same failures (common random numbers), so the paired interval of B − A is the one to read; the unpaired (Welch) interval on the same data shows what pairing buys.</p>\n<h2>Differences</h2>\n",
    );
    let head = format!(
        "<tr><th>metric</th><th>mean A ({})</th><th>mean B ({})</th><th>B − A</th><th>paired 95 %</th><th>unpaired 95 %</th><th>corr.</th><th>pairs</th></tr>",
        escape(&c.policy_a),
        escape(&c.policy_b)
    );
    let (mut shown, mut zero) = (Vec::new(), Vec::new());
    for (name, _, d) in &c.rows {
        let row = format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            metric_cell(name),
            num(d.mean_a),
            num(d.mean_b),
            num(d.mean_diff),
            ci(d.paired_ci95),
            ci(d.unpaired_ci95),
            d.correlation.map(|r| format!("{r:.3}")).unwrap_or_else(|| "–".into()),
            d.pairs
        );
        if d.mean_a == 0.0 && d.mean_b == 0.0 {
            zero.push(row);
        } else {
            shown.push(row);
        }
    }
    let undefined: Vec<String> = c.undefined.iter().map(|(n, _)| n.clone()).collect();
    h.push_str(&folded_table(&head, &shown, &zero, &undefined));
    h.push_str(&figures_html(figures));
    h.push_str("</body></html>\n");
    h
}

/// The command that reproduces a sweep.
pub fn sweep_command(model: &Model, axes: &[Axis], metrics: &[String]) -> String {
    let mut cmd = format!(
        "hasim sweep {}",
        shell_word(&model.provenance.file.display().to_string())
    );
    for a in axes {
        let _ = write!(
            cmd,
            " --grid {}",
            shell_word(&format!("{}={}", a.key, a.values.join(",")))
        );
    }
    for m in metrics {
        let _ = write!(cmd, " --metric {m}");
    }
    let keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
    let _ = write!(
        cmd,
        " --seed {} -n {}{}",
        model.simulation.seed,
        model.simulation.replications,
        set_options_except(model, &keys)
    );
    cmd
}

pub fn sweep_report(
    model: &Model,
    axes: &[Axis],
    points: &[(Point, RunResult)],
    metrics: &[String],
    figures: &[super::html::Figure],
) -> String {
    let mut h = page_start(&format!("{} sweep", model.name));
    let what = format!("sweep over {} points", points.len());
    header(&mut h, model, &what, &sweep_command(model, axes, metrics));
    h.push_str("<p>Every point runs on the same seed. <code>sweep.csv</code> beside this page holds every metric at every point.</p>\n<h2>Points</h2>\n<table><tr><th>point</th>");
    for a in axes {
        let _ = write!(
            h,
            "<th>{}<br><code>{}</code></th>",
            escape(&key_label(&a.key)),
            escape(&a.key)
        );
    }
    for m in metrics {
        let _ = write!(h, "<th>{}</th>", metric_cell(m));
    }
    h.push_str("</tr>\n");
    for (p, r) in points {
        let _ = write!(h, "<tr><td class=\"n\">{}</td>", p.index);
        for (_, v) in &p.assignments {
            let _ = write!(h, "<td>{}</td>", escape(v));
        }
        for m in metrics {
            let cell = r
                .metrics
                .get(m)
                .map(|s| format!("{} {}", num(s.mean), ci(s.ci95)))
                .unwrap_or_else(|| "undefined".into());
            let _ = write!(h, "<td class=\"n\">{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<p>Cells: mean and 95 % interval of {} over each point's replications.</p>",
        metrics
            .iter()
            .map(|m| escape(&label(m)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    h.push_str(&figures_html(figures));
    h.push_str("</body></html>\n");
    h
}
