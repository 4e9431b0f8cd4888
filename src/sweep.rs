//! `hasim sweep`: a cartesian grid over scenario keys. Each point is the base scenario plus one
//! `key=value` override per axis, so `--grid` takes exactly the key syntax of `--set`. Points are
//! validated all together before any runs, and each point uses the same seed, so neighbouring
//! points share their random numbers (a smoother curve than independent seeds would give).

use crate::core::time::parse_duration;

/// One `--grid key=v1,v2,...` axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Parses `key=v1,v2,...`.
pub fn parse_axis(text: &str) -> Result<Axis, String> {
    let (key, values) = text
        .split_once('=')
        .ok_or_else(|| format!("\"{text}\" is not KEY=V1,V2,..."))?;
    let key = key.trim();
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || values.iter().any(String::is_empty) {
        return Err(format!(
            "\"{text}\" is not KEY=V1,V2,... (empty key or value)"
        ));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
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

/// One grid point: its index and the `key=value` override of each axis, in axis order.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub index: usize,
    pub assignments: Vec<(String, String)>,
}

impl Point {
    pub fn overrides(&self) -> Vec<String> {
        self.assignments
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

/// All points of the grid; the first axis varies slowest.
pub fn expand(axes: &[Axis]) -> Vec<Point> {
    let mut points = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p: Vec<(String, String)>| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((axis.key.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
        .into_iter()
        .enumerate()
        .map(|(index, assignments)| Point { index, assignments })
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
