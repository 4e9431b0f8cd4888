//! Charts of aggregated results: SVG always (the primary format, inlined by report.html) and
//! PNG (1280×720, slide size). Text uses the bundled DejaVu Sans through plotters' `ab_glyph`
//! backend, so machines without fontconfig render the same pictures. Each chart is a small
//! struct built from results only; the `Chart` trait draws it on any backend.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// Pixel size of every chart: 16:9, readable on a slide.
pub const SIZE: (u32, u32) = (1280, 720);
const FONT: &str = "sans-serif";
const TITLE_PX: u32 = 32;
const AXIS_PX: u32 = 24;
const TICK_PX: u32 = 19;

static FONT_INIT: Once = Once::new();

/// Registers the bundled font once per process.
pub fn init_font() {
    FONT_INIT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("bundled DejaVuSans.ttf is not a valid font"));
    });
}

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart that can draw itself on any plotters backend.
pub trait Chart {
    /// File name without extension (`availability_cdf`).
    fn stem(&self) -> &str;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Series colours, distinguishable in print and for common colour-vision deficiencies
/// (Okabe & Ito, 2008).
pub const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

pub fn svg_string<C: Chart>(c: &C) -> Result<String, String> {
    init_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        c.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Writes `<dir>/<stem>.svg` and `<dir>/<stem>.png`, each atomically; returns both paths.
pub fn write_chart<C: Chart>(dir: &Path, c: &C) -> Result<Vec<PathBuf>, String> {
    let svg_path = dir.join(format!("{}.svg", c.stem()));
    super::atomic::write_atomic(&svg_path, svg_string(c)?.as_bytes()).map_err(|e| e.to_string())?;
    let png_path = dir.join(format!("{}.png", c.stem()));
    // Drawn in memory and encoded here, so that a failed write is the plain I/O error of
    // `write_atomic` (plotters reports a failed file as a debug dump of nested errors).
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        c.draw(&root).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let img = image::RgbImage::from_raw(w, h, rgb).expect("the buffer is w x h RGB pixels");
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    super::atomic::write_atomic(&png_path, &png).map_err(|e| e.to_string())?;
    Ok(vec![svg_path, png_path])
}

/// Evenly spaced quantiles of sorted data: at most `n` (x, F(x)) points of the empirical CDF.
pub fn ecdf_points(sorted: &[f64], n: usize) -> Vec<(f64, f64)> {
    let len = sorted.len();
    if len == 0 {
        return Vec::new();
    }
    let step = (len / n.max(1)).max(1);
    let mut pts: Vec<(f64, f64)> = (0..len)
        .step_by(step)
        .map(|i| (sorted[i], (i + 1) as f64 / len as f64))
        .collect();
    if pts.last().map(|p| p.1) != Some(1.0) {
        pts.push((sorted[len - 1], 1.0));
    }
    pts
}

fn log_bounds(values: &[f64]) -> (f64, f64) {
    let lo = values
        .iter()
        .copied()
        .filter(|v| *v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if !lo.is_finite() || hi <= 0.0 {
        return (1e-6, 1.0);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
    (lo, hi)
}

/// Below this a tick value is rounding noise of an axis through 0 (plotters places ticks by
/// repeated addition: a zero tick may come out as -1e-20), labelled `0`.
const TICK_ZERO: f64 = 1e-15;

/// Tick label: plain digits from 0.01 to a billion (`12000`, `0.25`), scientific outside.
pub fn sci(v: f64) -> String {
    let a = v.abs();
    if a < TICK_ZERO {
        "0".into()
    } else if (1e-2..1e9).contains(&a) {
        let rounded = (v * 1e4).round() / 1e4;
        if rounded.fract() == 0.0 {
            format!("{rounded:.0}")
        } else {
            format!("{rounded}")
        }
    } else {
        format!("{v:.0e}")
    }
}

/// Empirical CDF of one or more samples on a log x axis (availability, recovery times).
pub struct LogCdf {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    /// One sorted sample per series, with its legend label.
    pub series: Vec<(String, Vec<f64>)>,
    /// Vertical reference lines `(x, label)`.
    pub markers: Vec<(f64, String)>,
    /// A note under the title (e.g. how many values were zero and cannot sit on a log axis).
    pub note: Option<String>,
    /// The x values are unavailabilities 1 − A: ticks read as availability (`99.99 %`), the
    /// way planners count nines, rather than `1e-4`.
    pub x_as_availability: bool,
}

/// An unavailability `u` as the availability it leaves, with the decimals its nines need:
/// 1e-4 → `99.99 %`, 0.1 → `90 %`, 1 → `0 %`.
pub fn availability_pct(u: f64) -> String {
    let decimals = if u > 0.0 {
        ((-u.log10()).ceil() as i64 - 2).clamp(0, 12) as usize
    } else {
        0
    };
    format!("{:.*} %", decimals, (1.0 - u) * 100.0)
}

impl Chart for LogCdf {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let all: Vec<f64> = self
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        let (lo, hi) = log_bounds(&all);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, TITLE_PX))
            .margin(24)
            .margin_right(48)
            .x_label_area_size(70)
            .y_label_area_size(90)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .axis_desc_style((FONT, AXIS_PX))
            .label_style((FONT, TICK_PX))
            .x_label_formatter(&|v| {
                if self.x_as_availability {
                    availability_pct(*v)
                } else {
                    sci(*v)
                }
            })
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()?;
        // Labels step up the chart so neighbouring markers on a long log axis never overlap.
        for (i, (x, label)) in self.markers.iter().enumerate() {
            if *x > lo && *x < hi {
                chart.draw_series(LineSeries::new(
                    vec![(*x, 0.0), (*x, 1.0)],
                    BLACK.mix(0.35).stroke_width(2),
                ))?;
                let y = 0.04 + 0.06 * i as f64;
                chart.draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (*x, y),
                    (FONT, TICK_PX).into_font(),
                )))?;
            }
        }
        for (i, (label, values)) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let pts: Vec<(f64, f64)> = ecdf_points(values, 2000)
                .into_iter()
                .filter(|p| p.0 > 0.0)
                .collect();
            let label = match (&self.note, i) {
                (Some(n), 0) => format!("{label} ({n})"),
                _ => label.clone(),
            };
            chart
                .draw_series(LineSeries::new(pts, colour.stroke_width(3)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            // A CDF climbs from the lower left to the upper right (and often starts high, after
            // the values a log axis cannot show): the lower right stays clear.
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, TICK_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// Stacked bars: one bar per group, one segment per category (downtime by cause).
pub struct StackedBars {
    pub stem: String,
    pub title: String,
    pub y_desc: String,
    pub groups: Vec<String>,
    pub categories: Vec<String>,
    /// `values[g][c]`: height of category `c` in group `g`.
    pub values: Vec<Vec<f64>>,
}

impl Chart for StackedBars {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = self
            .values
            .iter()
            .map(|g| g.iter().sum::<f64>())
            .fold(0.0, f64::max);
        // Headroom above the tallest bar for the legend (about 28 px a category in a ~560 px
        // tall plot), so that it never covers a bar (it covered gce_fleet's spot bar).
        let legend = (28.0 * self.categories.len() as f64 + 40.0) / 560.0;
        let top = if top > 0.0 {
            top / (1.0 - legend.min(0.6))
        } else {
            1.0
        };
        let n = self.groups.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, TITLE_PX))
            .margin(24)
            .x_label_area_size(60)
            .y_label_area_size(100)
            .build_cartesian_2d(0.0..n as f64, 0.0..top)?;
        let groups = self.groups.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&move |x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 0.01 && i < groups.len() {
                    groups[i].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(&self.y_desc)
            .axis_desc_style((FONT, AXIS_PX))
            .label_style((FONT, TICK_PX))
            .y_label_formatter(&|v| sci(*v))
            .draw()?;
        for (c, cat) in self.categories.iter().enumerate() {
            let colour = COLOURS[c % COLOURS.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = self
                .values
                .iter()
                .enumerate()
                .map(|(g, vals)| {
                    let base: f64 = vals[..c].iter().sum();
                    Rectangle::new(
                        [(g as f64 + 0.2, base), (g as f64 + 0.8, base + vals[c])],
                        colour.filled(),
                    )
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(cat.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 8), (x + 18, y + 8)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, TICK_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// The peak of a step series in each of `bins` equal time bins over `[0, x_max)`: the value in
/// force when the bin starts or any value it takes inside it. Drawn one bin per pixel column, a
/// spike however short fills its column (a 10-minute rack outage in a year is a 0.02-pixel
/// sliver of a 1280-pixel chart, which a rasteriser drops).
pub fn peak_per_bin(pts: &[(f64, f64)], x_max: f64, bins: usize) -> Vec<(f64, f64)> {
    if x_max <= 0.0 || bins == 0 {
        return pts.to_vec();
    }
    let width = x_max / bins as f64;
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(bins);
    let mut held: f64 = 0.0; // value in force at the start of the current bin
    let mut i = 0;
    for b in 0..bins {
        let (start, end) = (b as f64 * width, (b + 1) as f64 * width);
        let mut peak = held;
        while i < pts.len() && pts[i].0 < end {
            peak = peak.max(pts[i].1);
            held = pts[i].1;
            i += 1;
        }
        out.push((start, peak));
    }
    out
}

/// Step plots of counts over time in stacked panels sharing the x axis (hosts and VMs down).
pub struct StepPanels {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    pub x_max: f64,
    /// `(y label, points (x, y))` per panel, top to bottom.
    pub panels: Vec<(String, Vec<(f64, f64)>)>,
}

impl Chart for StepPanels {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let titled = root.titled(&self.title, (FONT, TITLE_PX))?;
        let areas = titled.split_evenly((self.panels.len().max(1), 1));
        for (i, ((label, pts), area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            let ymax = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
            let last = i + 1 == self.panels.len();
            let mut chart = ChartBuilder::on(area)
                .margin(16)
                .x_label_area_size(if last { 60 } else { 10 })
                .y_label_area_size(90)
                .build_cartesian_2d(0.0..self.x_max, 0.0..ymax)?;
            let mut mesh = chart.configure_mesh();
            // Counts: no more labels than whole numbers on the axis, and none on a fraction
            // (a 0-3 axis once read 0, 1, 2, 2, 2, 3).
            mesh.y_desc(label)
                .axis_desc_style((FONT, AXIS_PX))
                .label_style((FONT, TICK_PX))
                .y_labels((ymax.floor() as usize + 1).clamp(2, 10))
                .y_label_formatter(&|v| {
                    if (v - v.round()).abs() < 1e-9 {
                        format!("{:.0}", v.round())
                    } else {
                        String::new()
                    }
                });
            if last {
                mesh.x_desc(&self.x_desc).x_label_formatter(&|v| sci(*v));
            } else {
                mesh.x_label_formatter(&|_| String::new());
            }
            mesh.draw()?;
            // One bar per pixel column, as tall as the column's peak (see `peak_per_bin`).
            let columns = chart.plotting_area().dim_in_pixel().0.max(1) as usize;
            let width = self.x_max / columns as f64;
            let colour = COLOURS[i % COLOURS.len()];
            chart.draw_series(
                peak_per_bin(pts, self.x_max, columns)
                    .into_iter()
                    .filter(|p| p.1 > 0.0)
                    .map(|(x, y)| Rectangle::new([(x, 0.0), (x + width, y)], colour.filled())),
            )?;
        }
        Ok(())
    }
}

/// One point of a banded line: `(x, mean, low, high)`.
pub type BandPoint = (f64, f64, f64, f64);

/// Lines with a shaded confidence band per series, against a numeric x (sweeps).
pub struct BandLines {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    /// X tick labels, when x is an index into categories.
    pub x_labels: Option<Vec<String>>,
    /// `(label, points (x, mean, low, high))` per series.
    pub series: Vec<(String, Vec<BandPoint>)>,
}

impl Chart for BandLines {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let pts: Vec<&BandPoint> = self.series.iter().flat_map(|s| s.1.iter()).collect();
        let (x0, x1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.0), a.1.max(p.0))
        });
        let (y0, y1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.2), a.1.max(p.3))
        });
        let (x0, x1) = if x0 < x1 {
            (x0, x1)
        } else {
            (x0 - 1.0, x0 + 1.0)
        };
        let pad = if y1 > y0 {
            (y1 - y0) * 0.1
        } else {
            y0.abs().max(1e-9) * 0.01
        };
        let xpad = (x1 - x0) * 0.04;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, TITLE_PX))
            .margin(24)
            .x_label_area_size(70)
            .y_label_area_size(120)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), (y0 - pad)..(y1 + pad))?;
        let labels = self.x_labels.clone();
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .axis_desc_style((FONT, AXIS_PX))
            .label_style((FONT, TICK_PX))
            .y_label_formatter(&|v| {
                format!("{v:.6}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            });
        let fmt = move |x: &f64| match &labels {
            Some(l) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < l.len() {
                    l[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => sci(*x),
        };
        mesh.x_label_formatter(&fmt);
        mesh.draw()?;
        for (i, (label, s)) in self.series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut band: Vec<(f64, f64)> = s.iter().map(|p| (p.0, p.3)).collect();
            band.extend(s.iter().rev().map(|p| (p.0, p.2)));
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.2).filled(),
            )))?;
            chart
                .draw_series(LineSeries::new(
                    s.iter().map(|p| (p.0, p.1)),
                    colour.stroke_width(3),
                ))?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
            chart.draw_series(
                s.iter()
                    .map(|p| Circle::new((p.0, p.1), 5, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FONT, TICK_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

/// Horizontal error bars: one row per item, a point with its interval (paired differences).
pub struct IntervalRows {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    /// `(label, mean, low, high)`.
    pub rows: Vec<(String, f64, f64, f64)>,
}

impl Chart for IntervalRows {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let lo = self.rows.iter().map(|r| r.2).fold(0.0, f64::min);
        let hi = self.rows.iter().map(|r| r.3).fold(0.0, f64::max);
        let pad = if hi > lo { (hi - lo) * 0.1 } else { 1.0 };
        let n = self.rows.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, TITLE_PX))
            .margin(24)
            .x_label_area_size(70)
            .y_label_area_size(420)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0.0..n as f64)?;
        let names: Vec<String> = self.rows.iter().map(|r| r.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&move |y| {
                let i = y.floor() as usize;
                if (y - i as f64 - 0.5).abs() < 0.01 && i < names.len() {
                    names[names.len() - 1 - i].clone()
                } else {
                    String::new()
                }
            })
            .x_desc(&self.x_desc)
            .axis_desc_style((FONT, AXIS_PX))
            .label_style((FONT, TICK_PX))
            .x_label_formatter(&|v| sci(*v))
            .draw()?;
        chart.draw_series(LineSeries::new(
            vec![(0.0, 0.0), (0.0, n as f64)],
            BLACK.stroke_width(2),
        ))?;
        for (i, r) in self.rows.iter().enumerate() {
            let y = (n - 1 - i) as f64 + 0.5;
            chart.draw_series(LineSeries::new(
                vec![(r.2, y), (r.3, y)],
                COLOURS[0].stroke_width(4),
            ))?;
            chart.draw_series(std::iter::once(Circle::new(
                (r.1, y),
                7,
                COLOURS[1].filled(),
            )))?;
        }
        Ok(())
    }
}

/// A histogram of one sample over equal-width bins.
pub struct Histogram {
    pub stem: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub values: Vec<f64>,
    pub bins: usize,
    /// Vertical reference lines `(x, label)`.
    pub markers: Vec<(f64, String)>,
}

impl Chart for Histogram {
    fn stem(&self) -> &str {
        &self.stem
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        // The axis spans the data; a reference marker beyond it is named, not drawn (a 300 ms
        // marker once stretched an axis whose data all sat under 50 ms).
        let hi = self.values.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.2;
        let width = hi / self.bins.max(1) as f64;
        let mut counts = vec![0u64; self.bins.max(1)];
        for v in &self.values {
            let i = ((v / width) as usize).min(counts.len() - 1);
            counts[i] += 1;
        }
        let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, TITLE_PX))
            .margin(24)
            .margin_right(48)
            .x_label_area_size(70)
            .y_label_area_size(100)
            .build_cartesian_2d(0.0..hi, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .axis_desc_style((FONT, AXIS_PX))
            .label_style((FONT, TICK_PX))
            .x_label_formatter(&|v| sci(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, c)| {
            let x = i as f64 * width;
            Rectangle::new(
                [(x, 0.0), (x + width * 0.95, *c as f64)],
                COLOURS[0].filled(),
            )
        }))?;
        let mut beyond = 0;
        for (x, label) in &self.markers {
            if *x > hi {
                beyond += 1;
                chart.draw_series(std::iter::once(Text::new(
                    format!("{} at {} → (beyond the axis)", label.trim(), sci(*x)),
                    (hi * 0.55, top * (0.95 - 0.07 * beyond as f64)),
                    (FONT, TICK_PX).into_font(),
                )))?;
                continue;
            }
            chart.draw_series(LineSeries::new(
                vec![(*x, 0.0), (*x, top)],
                COLOURS[1].stroke_width(3),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                label.clone(),
                (*x, top * 0.95),
                (FONT, TICK_PX).into_font(),
            )))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_readable() {
        assert_eq!(sci(12000.0), "12000");
        assert_eq!(sci(17520.0), "17520");
        assert_eq!(sci(0.25), "0.25");
        assert_eq!(sci(1e-4), "1e-4");
        assert_eq!(sci(0.0), "0");
        // A zero tick that plotters computed as rounding noise (issue #13).
        assert_eq!(sci(-1e-20), "0");
        assert_eq!(sci(-1e-7), "-1e-7");
        assert_eq!(availability_pct(1e-4), "99.99 %");
        assert_eq!(availability_pct(1e-6), "99.9999 %");
        assert_eq!(availability_pct(0.1), "90 %");
        assert_eq!(availability_pct(1.0), "0 %");
    }

    #[test]
    fn peaks_survive_binning() {
        // A one-instant spike to 40 among 10,000 changes between 0 and 1.
        let mut pts: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (f64::from(i) * 0.1, f64::from(i % 2)))
            .collect();
        pts[5_000].1 = 40.0;
        let binned = peak_per_bin(&pts, 1000.0, 100);
        assert_eq!(binned.len(), 100);
        assert_eq!(binned.iter().map(|p| p.1).fold(0.0, f64::max), 40.0);
        assert_eq!(binned[50], (500.0, 40.0));
        // Few points, but a spike far narrower than a bin (a rack outage of minutes in a year):
        // its bin carries it, and the bins after it hold the value the series returned to.
        let short = [(0.0, 1.0), (500.0, 17.0), (500.001, 1.0)];
        let binned = peak_per_bin(&short, 1000.0, 1280);
        assert_eq!(binned.len(), 1280);
        assert_eq!(binned.iter().filter(|p| p.1 == 17.0).count(), 1);
        assert_eq!(binned[1279].1, 1.0);
    }

    #[test]
    fn ecdf_ends_at_one_and_is_capped() {
        let xs: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let pts = ecdf_points(&xs, 100);
        assert!(pts.len() <= 102);
        assert_eq!(pts.last().unwrap(), &(10_000.0, 1.0));
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }
}
