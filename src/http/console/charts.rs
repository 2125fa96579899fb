//! The adoption charts as SVG drawn on the server with plotters: no chart
//! library reaches the browser. Labels are versions, channels and platform
//! names, which registration validated; plotters escapes text as well.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::domain::analytics::{RolloutFunnel, SeriesPoint};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 320;
/// Distinct in colour and in lightness, so the lines stay apart for
/// colour-blind readers too (after the Okabe–Ito palette).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
    RGBColor(120, 120, 120),
];
/// Lines drawn; the rest of the versions are in the table below the chart.
pub const MAX_LINES: usize = 8;

type Drawn = Result<(), Box<dyn std::error::Error>>;
type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw_legend(chart: &mut Chart<'_>) -> Drawn {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 13).into_font().color(&BLACK))
        .background_style(WHITE)
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    Ok(())
}

/// Each version's share of the day's installs, one line per version (the
/// `MAX_LINES` with the most installs).
pub fn share_over_time(points: &[SeriesPoint], versions: &[String]) -> String {
    let mut svg = String::new();
    if let Err(e) = draw_shares(&mut svg, points, versions) {
        tracing::warn!(error = %e, "drawing the version chart failed");
        return String::new();
    }
    svg
}

fn draw_shares(svg: &mut String, points: &[SeriesPoint], versions: &[String]) -> Drawn {
    let days: Vec<DateTime<Utc>> = {
        let mut days: Vec<_> = points.iter().map(|p| p.at).collect();
        days.sort();
        days.dedup();
        days
    };
    let day_index = |at: &DateTime<Utc>| days.binary_search(at).unwrap_or(0) as f64;
    let mut lines: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for point in points {
        if versions.iter().take(MAX_LINES).any(|v| *v == point.key) {
            lines
                .entry(point.key.as_str())
                .or_default()
                .push((day_index(&point.at), point.share * 100.0));
        }
    }
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let last_day = (days.len().max(2) - 1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..last_day, 0f64..100f64)?;
    let label_day = |x: &f64| {
        days.get(x.round() as usize)
            .map(|d| d.format("%b %d").to_string())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .x_labels(days.len().clamp(2, 7))
        .x_label_formatter(&label_day)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0} %"))
        .label_style(("sans-serif", 13).into_font().color(&BLACK))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (index, version) in versions.iter().take(MAX_LINES).enumerate() {
        let Some(line) = lines.get(version.as_str()) else {
            continue;
        };
        let color = PALETTE[index % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(2)))?
            .label(version.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(line.iter().map(|&at| Circle::new(at, 3, color.filled())))?;
    }
    draw_legend(&mut chart)?;
    root.present()?;
    Ok(())
}

/// Per release being rolled out: installs eligible, offered it, running it.
pub fn funnel(funnels: &[RolloutFunnel]) -> String {
    let mut svg = String::new();
    if let Err(e) = draw_funnel(&mut svg, funnels) {
        tracing::warn!(error = %e, "drawing the funnel chart failed");
        return String::new();
    }
    svg
}

const STAGES: [&str; 3] = ["eligible", "offered", "running"];

fn draw_funnel(svg: &mut String, funnels: &[RolloutFunnel]) -> Drawn {
    let highest = funnels
        .iter()
        .map(|f| f.eligible.max(f.offered).max(f.running))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let groups = funnels.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..groups - 0.5, 0f64..highest * 1.1)?;
    // Release `i`'s bars stand around x = i, which is where its label goes.
    let label_group = |x: &f64| {
        funnels
            .get(x.round().max(0.0) as usize)
            .filter(|_| (x - x.round()).abs() < 1e-6)
            .map(|f| format!("{} {}/{}", f.version, f.platform, f.architecture))
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(funnels.len().max(1))
        .x_label_formatter(&label_group)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 13).into_font().color(&BLACK))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (stage, name) in STAGES.iter().enumerate() {
        let color = PALETTE[stage];
        let bars = funnels.iter().enumerate().map(move |(index, f)| {
            let value = [f.eligible, f.offered, f.running][stage] as f64;
            let left = index as f64 - 0.36 + stage as f64 * 0.24;
            Rectangle::new([(left, 0.0), (left + 0.22, value)], color.filled())
        });
        chart
            .draw_series(bars)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    draw_legend(&mut chart)?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Whether a `<text>` element of the SVG says exactly `label`.
    fn labelled(svg: &str, label: &str) -> bool {
        svg.contains(&format!("\n{label}\n</text>"))
    }

    fn point(day: u32, key: &str, share: f64) -> SeriesPoint {
        SeriesPoint {
            at: Utc.with_ymd_and_hms(2026, 11, day, 0, 0, 0).unwrap(),
            key: key.into(),
            installs: 10,
            share,
        }
    }

    #[test]
    fn the_version_chart_draws_one_labelled_line_per_version() {
        let points = [
            point(1, "1.0.0", 1.0),
            point(2, "1.0.0", 0.6),
            point(2, "2.0.0", 0.4),
        ];
        let svg = share_over_time(&points, &["1.0.0".into(), "2.0.0".into()]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            labelled(&svg, "1.0.0") && labelled(&svg, "2.0.0"),
            "legend: {svg}"
        );
        for color in ["#0072B2", "#D55E00"] {
            let drawn = svg
                .matches(&format!("stroke=\"{color}\" stroke-width=\"2\""))
                .count();
            assert_eq!(drawn, 2, "the line and its legend sample in {color}: {svg}");
        }
        assert!(
            !svg.contains("style="),
            "no inline styles under the CSP: {svg}"
        );
    }

    #[test]
    fn the_funnel_draws_three_bars_per_release() {
        let funnel_row = RolloutFunnel {
            version: "2.0.0".into(),
            channel: "stable".into(),
            platform: "windows".into(),
            architecture: "amd64".into(),
            rollout_percentage: 10,
            paused: false,
            eligible: 100,
            offered: 10,
            running: 7,
        };
        let svg = funnel(&[funnel_row]);
        assert!(
            labelled(&svg, "eligible") && labelled(&svg, "running"),
            "{svg}"
        );
        assert!(labelled(&svg, "2.0.0 windows/amd64"), "{svg}");
        let bars = svg.matches("fill=\"#0072B2\"").count();
        assert_eq!(bars, 2, "the eligible bar and its legend swatch: {svg}");
    }
}
