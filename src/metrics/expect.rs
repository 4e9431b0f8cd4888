//! `[expect]` gates: checks a scenario states about its own results, evaluated after a run.
//!
//! `vm_availability.mean = ">= 0.9995"` reads: the metric's `mean` must be at least 0.9995.
//! Statistics: `mean`, `ci95_low`, `ci95_high`. Operators: `>=`, `<=`, `>`, `<`, `==`, `!=`.
//! A failed check makes `hasim run` exit 4, which is how a CI pipeline notices a regression.

use super::summary::MetricSummary;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Ci95Low,
    Ci95High,
}

impl Stat {
    pub const NAMES: &'static [&'static str] = &["mean", "ci95_low", "ci95_high"];

    pub fn parse(s: &str) -> Option<Stat> {
        match s {
            "mean" => Some(Stat::Mean),
            "ci95_low" => Some(Stat::Ci95Low),
            "ci95_high" => Some(Stat::Ci95High),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Ci95Low => "ci95_low",
            Stat::Ci95High => "ci95_high",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn holds(self, measured: f64, bound: f64) -> bool {
        match self {
            Op::Ge => measured >= bound,
            Op::Le => measured <= bound,
            Op::Gt => measured > bound,
            Op::Lt => measured < bound,
            Op::Eq => measured == bound,
            Op::Ne => measured != bound,
        }
    }
}

/// One check: `metric.stat op value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub metric: String,
    pub stat: Stat,
    pub op: Op,
    pub value: f64,
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} {} {}",
            self.metric,
            self.stat.name(),
            self.op.symbol(),
            self.value
        )
    }
}

/// Parses the right-hand side `">= 0.9995"`.
pub fn parse_condition(text: &str) -> Result<(Op, f64), String> {
    let t = text.trim();
    let (op, rest) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ]
    .iter()
    .find_map(|(s, op)| t.strip_prefix(s).map(|r| (*op, r)))
    .ok_or_else(|| format!("\"{text}\" does not start with one of >= <= > < == !="))?;
    let value: f64 = rest
        .trim()
        .parse()
        .map_err(|_| format!("\"{}\" in \"{text}\" is not a number", rest.trim()))?;
    if !value.is_finite() {
        return Err(format!("\"{text}\": the bound must be finite"));
    }
    Ok((op, value))
}

/// Why a check has no measured value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmeasured {
    /// No replication defines the metric (`null` in `summary.json`): a blackout needs a
    /// completed live migration, a recovery time an outage, a maintenance metric a campaign,
    /// nines an availability below 1.
    Undefined,
    /// The metric is defined in fewer than 2 replications, too few for a 95 % interval.
    TooFewForInterval(usize),
    /// The interval is open: a bound of perfect availability has no finite nines.
    OpenInterval,
}

impl fmt::Display for Unmeasured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmeasured::Undefined => {
                write!(f, "undefined (no replication of this run defines the metric)")
            }
            Unmeasured::TooFewForInterval(k) => write!(
                f,
                "nothing (a 95 % interval needs the metric in at least 2 replications; it is defined in {k})"
            ),
            Unmeasured::OpenInterval => write!(
                f,
                "nothing (the interval is open: perfect availability has no finite nines)"
            ),
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub expectation: Expectation,
    /// `None` when the run produced no such value (see `unmeasured`): the check fails, because
    /// it could not be shown to hold.
    pub measured: Option<f64>,
    /// Why `measured` is `None`.
    pub unmeasured: Option<Unmeasured>,
    pub passed: bool,
}

pub fn evaluate(
    expectations: &[Expectation],
    metrics: &BTreeMap<String, MetricSummary>,
) -> Vec<CheckResult> {
    expectations
        .iter()
        .map(|e| {
            let measured = match metrics.get(&e.metric) {
                None => Err(Unmeasured::Undefined),
                Some(m) => match (e.stat, m.ci95) {
                    (Stat::Mean, _) => Ok(m.mean),
                    (Stat::Ci95Low, Some(c)) => Ok(c.0),
                    (Stat::Ci95High, Some(c)) => Ok(c.1),
                    (_, None) if m.replications_defined < 2 => {
                        Err(Unmeasured::TooFewForInterval(m.replications_defined))
                    }
                    (_, None) => Err(Unmeasured::OpenInterval),
                },
            };
            CheckResult {
                expectation: e.clone(),
                measured: measured.ok(),
                unmeasured: measured.err(),
                passed: measured.is_ok_and(|x| e.op.holds(x, e.value)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_hold() {
        assert_eq!(parse_condition(">= 0.9995").unwrap(), (Op::Ge, 0.9995));
        assert_eq!(parse_condition("== 0").unwrap(), (Op::Eq, 0.0));
        assert_eq!(parse_condition("<1e-3").unwrap(), (Op::Lt, 1e-3));
        assert!(parse_condition("about 3").is_err());
        assert!(parse_condition(">= lots").is_err());
        let mut m = BTreeMap::new();
        m.insert(
            "a".to_string(),
            MetricSummary {
                mean: 0.5,
                ci95: None,
                unit: "",
                replications_defined: 1,
            },
        );
        let e = |stat, op, value| Expectation {
            metric: "a".into(),
            stat,
            op,
            value,
        };
        let r = evaluate(
            &[
                e(Stat::Mean, Op::Ge, 0.5),
                e(Stat::Mean, Op::Gt, 0.5),
                e(Stat::Ci95Low, Op::Ge, 0.0),
            ],
            &m,
        );
        assert_eq!(
            r.iter().map(|c| c.passed).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert_eq!(r[2].measured, None);
        assert_eq!(r[2].unmeasured, Some(Unmeasured::TooFewForInterval(1)));
        // A bound on a metric no replication defines fails, and says why.
        let u = evaluate(
            &[Expectation {
                metric: "blackout_ms_p99".into(),
                ..e(Stat::Mean, Op::Le, 500.0)
            }],
            &m,
        );
        assert!(!u[0].passed);
        assert_eq!(u[0].unmeasured, Some(Unmeasured::Undefined));
        assert!(u[0]
            .unmeasured
            .unwrap()
            .to_string()
            .starts_with("undefined"));
    }
}
