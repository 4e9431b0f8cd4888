//! `run --junit FILE`: the `[expect]` verdicts as JUnit XML, the format CI systems (GitLab,
//! Jenkins, GitHub reporters) read test results from: one `<testsuite>` for the run, one
//! `<testcase>` per check, a `<failure>` with the bound and the measured value (or why there is
//! none) for each check that failed.

use super::html::escape;
use crate::metrics::expect::CheckResult;
use crate::scenario::model::Model;
use std::fmt::Write;

/// The JUnit document of a run's checks.
pub fn junit(model: &Model, checks: &[CheckResult]) -> String {
    let failures = checks.iter().filter(|c| !c.passed).count();
    let suite = format!("hasim expect: {}", model.name);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"hasim\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\">\n  <testsuite name=\"{s}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        n = checks.len(),
        s = escape(&suite),
    );
    let _ = writeln!(
        x,
        "    <properties>\n      <property name=\"scenario\" value=\"{}\"/>\n      <property name=\"seed\" value=\"{}\"/>\n      <property name=\"replications\" value=\"{}\"/>\n      <property name=\"policy\" value=\"{}\"/>\n    </properties>",
        escape(&model.provenance.file.display().to_string()),
        model.simulation.seed,
        model.simulation.replications,
        escape(model.policy.name()),
    );
    for c in checks {
        let name = escape(&c.expectation.to_string());
        let class = escape(&model.name);
        if c.passed {
            let _ = writeln!(x, "    <testcase name=\"{name}\" classname=\"{class}\"/>");
            continue;
        }
        let measured = match (c.measured, c.unmeasured) {
            (Some(m), _) => format!("measured {m}"),
            (None, Some(u)) => format!("measured {u}"),
            (None, None) => "not measured".to_string(),
        };
        let message = format!("{}: {measured}", c.expectation);
        let _ = writeln!(
            x,
            "    <testcase name=\"{name}\" classname=\"{class}\">\n      <failure message=\"{m}\" type=\"expectation\">bound: {b}\n{measured}</failure>\n    </testcase>",
            m = escape(&message),
            b = escape(&c.expectation.to_string()),
            measured = escape(&measured),
        );
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
