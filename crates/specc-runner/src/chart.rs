//! The per-epoch history of a run: `history.csv` and a hand-written SVG
//! chart `training.svg` (loss on top, accuracy or error below).

use std::fmt::Write as _;

/// One epoch of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub epoch: usize,
    pub train_loss: f64,
    /// Accuracy (a fraction) for classifiers, mean absolute error otherwise.
    pub train_metric: Option<f64>,
    pub heldout_loss: Option<f64>,
    pub heldout_metric: Option<f64>,
    pub lr: f64,
    pub samples_per_s: f64,
}

pub const CSV_HEADER: &str = "epoch,train_loss,train_metric,heldout_loss,heldout_metric,lr,samples_per_s";

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// The CSV text of a history.
pub fn to_csv(rows: &[HistoryRow]) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.1}",
            r.epoch,
            r.train_loss,
            opt(r.train_metric),
            opt(r.heldout_loss),
            opt(r.heldout_metric),
            r.lr,
            r.samples_per_s
        );
    }
    s
}

/// Reads back the rows of a `history.csv`; rows that do not parse are skipped.
pub fn parse_csv(text: &str) -> Vec<HistoryRow> {
    let field = |s: &str| -> Option<f64> { if s.is_empty() { None } else { s.parse().ok() } };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.trim().split(',').collect();
            if f.len() != 7 {
                return None;
            }
            Some(HistoryRow {
                epoch: f[0].parse().ok()?,
                train_loss: f[1].parse().ok()?,
                train_metric: field(f[2]),
                heldout_loss: field(f[3]),
                heldout_metric: field(f[4]),
                lr: f[5].parse().ok()?,
                samples_per_s: f[6].parse().ok()?,
            })
        })
        .collect()
}

/// About five round tick values covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let (mut lo, mut hi) = (lo, hi);
    if !(hi - lo).is_finite() || hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        lo -= pad;
        hi += pad;
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    let n = ((end - start) / step).round() as usize;
    let values = (0..=n).map(|i| start + i as f64 * step).collect();
    (start, end, values)
}

fn label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

struct Series<'a> {
    name: String,
    color: &'a str,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 760.0;
const PANEL_HEIGHT: f64 = 250.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const GAP: f64 = 70.0;

fn panel(svg: &mut String, top: f64, title: &str, epochs: usize, series: &[Series<'_>]) {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = PANEL_HEIGHT - 40.0;
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = if values.is_empty() {
        (0.0, 1.0)
    } else {
        (
            values.iter().copied().fold(f64::INFINITY, f64::min),
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (y0, y1, yticks) = ticks(lo, hi);
    let x_of = |e: f64| {
        if epochs <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (e - 1.0) / (epochs as f64 - 1.0) * plot_w
        }
    };
    let y_of = |v: f64| top + plot_h - (v - y0) / (y1 - y0) * plot_h;
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{:.1}" font-size="14" font-weight="bold">{}</text>"#,
        top - 10.0,
        escape(title)
    );
    // Grid and y ticks.
    for &t in &yticks {
        let y = y_of(t);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e0e0e0"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            label(t)
        );
    }
    // x ticks: at most about ten epochs labelled.
    let every = epochs.div_ceil(10).max(1);
    let mut e = 1;
    while e <= epochs.max(1) {
        let x = x_of(e as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{e}</text>"##,
            top + plot_h,
            top + plot_h + 5.0,
            top + plot_h + 18.0
        );
        e += every;
    }
    // Axes.
    let _ = writeln!(
        svg,
        r##"<path d="M{LEFT},{top:.1} V{:.1} H{:.1}" fill="none" stroke="#333"/>"##,
        top + plot_h,
        LEFT + plot_w
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">epoch</text>"#,
        LEFT + plot_w / 2.0,
        top + plot_h + 34.0
    );
    // Lines and legend.
    for (i, s) in series.iter().enumerate() {
        let pts: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(e, v)| format!("{:.1},{:.1}", x_of(e), y_of(v)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        if !pts.is_empty() {
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
                pts.join(" "),
                s.color
            );
            for p in &pts {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(svg, r#"<circle cx="{x}" cy="{y}" r="2.5" fill="{}"/>"#, s.color);
            }
        }
        let ly = top + 10.0 + 20.0 * i as f64;
        let lx = LEFT + plot_w + 15.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            lx + 24.0,
            s.color,
            lx + 30.0,
            ly + 4.0,
            escape(&s.name)
        );
    }
}

/// The chart of a run: loss per epoch on top, the metric below.
pub fn svg(
    model: &str,
    rows: &[HistoryRow],
    classifier: bool,
    heldout_name: &str,
    total_epochs: usize,
) -> String {
    let epochs = rows.iter().map(|r| r.epoch).max().unwrap_or(0).max(total_epochs);
    let height = TOP + 2.0 * PANEL_HEIGHT + GAP;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="22" font-size="16" text-anchor="middle">{} training</text>"#,
        WIDTH / 2.0,
        escape(model)
    );
    let pts = |f: &dyn Fn(&HistoryRow) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect()
    };
    let mut loss = vec![Series {
        name: "train loss".into(),
        color: "#1f77b4",
        dashed: false,
        points: pts(&|r| Some(r.train_loss)),
    }];
    let held_loss = pts(&|r| r.heldout_loss);
    if !held_loss.is_empty() {
        loss.push(Series {
            name: format!("{heldout_name} loss"),
            color: "#ff7f0e",
            dashed: true,
            points: held_loss,
        });
    }
    panel(&mut s, TOP + 20.0, "loss", epochs, &loss);
    let (metric, scale) = if classifier {
        ("accuracy (%)", 100.0)
    } else {
        ("mean absolute error", 1.0)
    };
    let mut m = Vec::new();
    let train_metric = pts(&|r| r.train_metric.map(|v| v * scale));
    if !train_metric.is_empty() {
        m.push(Series {
            name: format!("train {}", if classifier { "accuracy" } else { "error" }),
            color: "#2ca02c",
            dashed: false,
            points: train_metric,
        });
    }
    let held_metric = pts(&|r| r.heldout_metric.map(|v| v * scale));
    if !held_metric.is_empty() {
        m.push(Series {
            name: format!("{heldout_name} {}", if classifier { "accuracy" } else { "error" }),
            color: "#d62728",
            dashed: true,
            points: held_metric,
        });
    }
    panel(&mut s, TOP + 20.0 + PANEL_HEIGHT + GAP - 20.0, metric, epochs, &m);
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip() {
        let rows = vec![HistoryRow {
            epoch: 1,
            train_loss: 0.5,
            train_metric: Some(0.9),
            heldout_loss: None,
            heldout_metric: None,
            lr: 0.01,
            samples_per_s: 1234.5,
        }];
        assert_eq!(parse_csv(&to_csv(&rows)), rows);
    }

    #[test]
    fn ticks_cover_the_range() {
        let (lo, hi, t) = ticks(0.13, 2.31);
        assert!(lo <= 0.13 && hi >= 2.31 && t.len() >= 3 && t.len() <= 12);
        let (lo, hi, _) = ticks(1.0, 1.0);
        assert!(lo < 1.0 && hi > 1.0);
    }

    #[test]
    fn svg_is_well_formed_enough() {
        let rows: Vec<HistoryRow> = (1..=3)
            .map(|e| HistoryRow {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_metric: Some(0.5 + 0.1 * e as f64),
                heldout_loss: Some(1.2 / e as f64),
                heldout_metric: Some(0.4 + 0.1 * e as f64),
                lr: 0.01,
                samples_per_s: 100.0,
            })
            .collect();
        let s = svg("Mlp", &rows, true, "test", 3);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        assert_eq!(s.matches("<polyline").count(), 4);
        assert!(s.contains("test accuracy") && s.contains("train loss"));
    }
}
