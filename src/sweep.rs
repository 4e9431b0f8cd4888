//! `hasim sweep`: a cartesian grid over scenario keys. Each point is the base scenario plus one
//! `key=value` override per axis, so `--grid` takes exactly the key syntax of `--set`. Points are
//! validated all together before any runs, and each point uses the same seed, so neighbouring
//! points share their random numbers (a smoother curve than independent seeds would give).

use crate::core::time::parse_duration;

/// One `--grid` axis: its key, each value as shown (in `sweep.csv`, chart labels) and each
/// value as the override applies it (a TOML value; the same text for the `a,b,c` form).
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
    pub texts: Vec<String>,
}

/// The most values one range axis may expand to (a grid has at most `MAX_GRID_POINTS`).
const MAX_RANGE_VALUES: i64 = 10_000;

/// Parses `key=v1,v2,...`, `key=[TOML values]` (values may hold commas: `["a,b", "c"]`) or an
/// integer range `key=A..=B:STEP` (B included) or `key=A..B:STEP` (B excluded).
pub fn parse_axis(text: &str) -> Result<Axis, String> {
    let usage = "KEY=V1,V2,..., KEY=[V1, V2, ...] or KEY=A..=B:STEP";
    let (key, raw) = text
        .split_once('=')
        .ok_or_else(|| format!("\"{text}\" is not {usage}"))?;
    let key = key.trim();
    let raw = raw.trim();
    let (values, texts) = if raw.starts_with('[') {
        toml_values(raw).map_err(|e| format!("\"{text}\": {e}"))?
    } else if let Some(r) = parse_range(raw) {
        let v = r.map_err(|e| format!("\"{text}\": {e}"))?;
        (v.clone(), v)
    } else {
        let v: Vec<String> = raw.split(',').map(|v| v.trim().to_string()).collect();
        (v.clone(), v)
    };
    if key.is_empty() || values.is_empty() || values.iter().any(String::is_empty) {
        return Err(format!("\"{text}\" is not {usage} (empty key or value)"));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
        texts,
    })
}

/// A TOML array's elements: strings shown bare and applied quoted, others as TOML writes them.
fn toml_values(raw: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let doc: toml::Table = toml::from_str(&format!("v = {raw}"))
        .map_err(|e| format!("not a TOML array: {}", e.message()))?;
    let items = doc["v"].as_array().ok_or("not a TOML array")?;
    Ok(items
        .iter()
        .map(|v| match v {
            toml::Value::String(s) => (s.clone(), v.to_string()),
            other => (other.to_string(), other.to_string()),
        })
        .unzip())
}

/// `A..=B:STEP` or `A..B:STEP` over integers; None if `raw` is not range-shaped.
fn parse_range(raw: &str) -> Option<Result<Vec<String>, String>> {
    let (a, rest) = raw.split_once("..")?;
    let (b, step) = rest.split_once(':').unwrap_or((rest, "1"));
    let (inclusive, b) = match b.strip_prefix('=') {
        Some(b) => (true, b),
        None => (false, b),
    };
    let int = |s: &str| s.trim().replace('_', "").parse::<i64>();
    // Anything else with ".." in it (a relative path, `../a.tab`) is a plain value.
    let (Ok(a), Ok(b)) = (int(a), int(b)) else {
        return None;
    };
    let Ok(step) = int(step) else {
        return Some(Err("a range's STEP is a whole number".into()));
    };
    if step <= 0 {
        return Some(Err(format!("the step {step} must be positive")));
    }
    let end = if inclusive { b.checked_add(1) } else { Some(b) };
    let count = end.map_or(0, |e| (e.saturating_sub(a).max(0) + step - 1) / step);
    if count == 0 {
        return Some(Err(format!("{raw} holds no value")));
    }
    if count > MAX_RANGE_VALUES {
        return Some(Err(format!(
            "{raw} holds {count} values, more than {MAX_RANGE_VALUES}"
        )));
    }
    Some(Ok((0..count).map(|i| (a + i * step).to_string()).collect()))
}

/// Parses `--points I/N`: the I-th (1-based) of N shards of a sweep's points.
pub fn parse_points(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("\"{text}\" is not I/N with 1 <= I <= N (the I-th of N shards)");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if i == 0 || i > n || n > MAX_GRID_POINTS_SHARDS {
        return Err(bad());
    }
    Ok((i, n))
}

/// At most as many point shards as a grid can have points.
const MAX_GRID_POINTS_SHARDS: usize = crate::scenario::limits::MAX_GRID_POINTS;

/// The point indices of shard `i` (1-based) of `n` over `points` points: contiguous, covering
/// every point once over all shards, sizes differing by at most one.
pub fn shard_points(points: usize, (i, n): (usize, usize)) -> std::ops::Range<usize> {
    (i - 1) * points / n..i * points / n
}

/// Checks a grid before it is expanded: no key on two axes (the later would silently win), and
/// at most `MAX_GRID_POINTS` points, counted with checked arithmetic. Returns the point count.
pub fn check_grid(axes: &[Axis]) -> Result<usize, String> {
    use crate::scenario::limits::{quote, MAX_GRID_POINTS};
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(format!(
                "--grid {}: the key is on two axes (give each key one axis with all its values)",
                quote(&a.key)
            ));
        }
    }
    let points = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|n| *n <= MAX_GRID_POINTS);
    points.ok_or_else(|| {
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        format!(
            "--grid: {} points exceed the limit of {MAX_GRID_POINTS} (each point is a whole run)",
            sizes.join(" x ")
        )
    })
}

/// One grid point: its index and the value of each axis (as shown, and as applied), in axis
/// order.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub index: usize,
    pub assignments: Vec<(String, String)>,
    pub texts: Vec<String>,
}

impl Point {
    pub fn overrides(&self) -> Vec<String> {
        self.assignments
            .iter()
            .zip(&self.texts)
            .map(|((k, _), t)| format!("{k}={t}"))
            .collect()
    }
}

/// All points of the grid; the first axis varies slowest.
pub fn expand(axes: &[Axis]) -> Vec<Point> {
    let mut points = vec![(Vec::new(), Vec::new())];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|(p, t): (Vec<(String, String)>, Vec<String>)| {
                axis.values.iter().zip(&axis.texts).map(move |(v, text)| {
                    let (mut q, mut u) = (p.clone(), t.clone());
                    q.push((axis.key.clone(), v.clone()));
                    u.push(text.clone());
                    (q, u)
                })
            })
            .collect();
    }
    points
        .into_iter()
        .enumerate()
        .map(|(index, (assignments, texts))| Point {
            index,
            assignments,
            texts,
        })
        .collect()
}

/// How an axis's values sit on a chart's x axis.
#[derive(Clone, Debug, PartialEq)]
pub enum XValues {
    /// All values are numbers (durations become hours); the label names the unit.
    Numeric {
        values: Vec<f64>,
        unit: Option<&'static str>,
    },
    /// Anything else: evenly spaced categories.
    Categories(Vec<String>),
}

pub fn x_values(axis: &Axis) -> XValues {
    if let Some(values) = axis
        .values
        .iter()
        .map(|v| v.parse::<f64>().ok())
        .collect::<Option<Vec<f64>>>()
    {
        return XValues::Numeric { values, unit: None };
    }
    if let Some(values) = axis
        .values
        .iter()
        .map(|v| parse_duration(v).ok().map(|d| d.as_hours_f64()))
        .collect::<Option<Vec<f64>>>()
    {
        return XValues::Numeric {
            values,
            unit: Some("h"),
        };
    }
    XValues::Categories(axis.values.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_with_a_repeated_key_or_too_many_points_are_refused() {
        let axis = |k: &str, n: usize| Axis {
            key: k.into(),
            values: (0..n).map(|i| i.to_string()).collect(),
            texts: (0..n).map(|i| i.to_string()).collect(),
        };
        assert_eq!(check_grid(&[axis("a", 10), axis("b", 1000)]), Ok(10_000));
        assert!(check_grid(&[axis("a", 2), axis("a", 3)])
            .unwrap_err()
            .contains("on two axes"));
        let e = check_grid(&[axis("a", 10), axis("b", 1001)]).unwrap_err();
        assert!(
            e.contains("10 x 1001 points exceed the limit of 10000"),
            "{e}"
        );
        let huge: Vec<Axis> = (0..70).map(|i| axis(&format!("k{i}"), 2)).collect();
        assert!(check_grid(&huge).is_err(), "2^70 does not wrap");
    }

    #[test]
    fn grid_expands_first_axis_slowest() {
        let a = parse_axis("topology.hosts_per_rack=16,20").unwrap();
        let b = parse_axis("failures.host.time_between.mean=2000h, 8760h ,1y").unwrap();
        let pts = expand(&[a, b]);
        assert_eq!(pts.len(), 6);
        assert_eq!(
            pts[0].overrides(),
            [
                "topology.hosts_per_rack=16",
                "failures.host.time_between.mean=2000h"
            ]
        );
        assert_eq!(
            pts[5].overrides(),
            [
                "topology.hosts_per_rack=20",
                "failures.host.time_between.mean=1y"
            ]
        );
        assert!(parse_axis("novalues").is_err());
        assert!(parse_axis("k=a,,b").is_err());
    }

    #[test]
    fn axes_take_toml_arrays_and_integer_ranges() {
        let a = parse_axis("workloads.web.count=[1000, 1100, 1200]").unwrap();
        assert_eq!(a.values, ["1000", "1100", "1200"]);
        let b = parse_axis(r#"k=["a,b", "30m"]"#).unwrap();
        assert_eq!(b.values, ["a,b", "30m"]);
        assert_eq!(b.texts, [r#""a,b""#, r#""30m""#]);
        let p = expand(&[b]);
        assert_eq!(p[0].overrides(), [r#"k="a,b""#]);
        assert_eq!(p[0].assignments[0].1, "a,b");
        let r = parse_axis("workloads.web.count=1000..=1400:100").unwrap();
        assert_eq!(r.values, ["1000", "1100", "1200", "1300", "1400"]);
        assert_eq!(parse_axis("k=1..4").unwrap().values, ["1", "2", "3"]);
        assert_eq!(parse_axis("k=0..=10:4").unwrap().values, ["0", "4", "8"]);
        assert!(parse_axis("k=5..=1:1").unwrap_err().contains("no value"));
        assert!(parse_axis("k=1..=9:0").unwrap_err().contains("positive"));
        assert!(parse_axis("k=0..=1000000")
            .unwrap_err()
            .contains("more than"));
        assert!(parse_axis("k=[1, 2").is_err());
        assert_eq!(
            parse_axis("k=../a.tab,b").unwrap().values,
            ["../a.tab", "b"]
        );
        assert!(parse_axis("k=[]").is_err());
        // A duration list keeps the older comma form.
        assert_eq!(parse_axis("k=45s,30m").unwrap().values, ["45s", "30m"]);
    }

    #[test]
    fn point_shards_cover_every_point_once() {
        assert_eq!(parse_points("2/4"), Ok((2, 4)));
        assert!(parse_points("0/4").is_err() && parse_points("5/4").is_err());
        for (p, n) in [(64, 4), (10, 3), (5, 5), (7, 1)] {
            let mut next = 0;
            for i in 1..=n {
                let r = shard_points(p, (i, n));
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, p);
        }
    }

    #[test]
    fn x_values_prefer_numbers_then_hours() {
        let ax = |s: &str| parse_axis(s).unwrap();
        assert_eq!(
            x_values(&ax("k=1,2.5")),
            XValues::Numeric {
                values: vec![1.0, 2.5],
                unit: None
            }
        );
        assert_eq!(
            x_values(&ax("k=30m,2h")),
            XValues::Numeric {
                values: vec![0.5, 2.0],
                unit: Some("h")
            }
        );
        assert_eq!(
            x_values(&ax("k=none,masakari")),
            XValues::Categories(vec!["none".into(), "masakari".into()])
        );
    }
}
