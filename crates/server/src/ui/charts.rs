//! Charts rendered on the server as SVG: no script, no external library.

use std::fmt::Write as _;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One bar of a chart: a label and one value per series.
pub struct Bar {
    pub label: String,
    pub values: Vec<u64>,
}

const COLORS: [&str; 4] = ["#2f6fba", "#d9822b", "#3a9a5b", "#a23b72"];

/// Horizontal bars, one row per label, series side by side, with a legend.
pub fn bars(title: &str, series: &[String], rows: &[Bar]) -> String {
    let row_h = 14 * series.len().max(1) as u32 + 10;
    let height = 40 + row_h * rows.len().max(1) as u32 + 20;
    let (left, width) = (310u32, 760u32);
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, s) in series.iter().enumerate() {
        let x = left + 160 * i as u32;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="8" width="10" height="10" fill="{c}"/><text x="{tx}" y="17" class="legend">{s}</text>"#,
            c = COLORS[i % COLORS.len()],
            tx = x + 14,
            s = esc(s)
        );
    }
    if rows.is_empty() {
        let _ = write!(svg, r#"<text x="{left}" y="50" class="empty">—</text>"#);
    }
    for (r, row) in rows.iter().enumerate() {
        let y0 = 32 + row_h * r as u32;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" class="label" text-anchor="end">{}</text>"#,
            left - 8,
            y0 + row_h / 2,
            esc(&row.label)
        );
        for (i, v) in row.values.iter().enumerate() {
            let w = ((width - left - 60) as u64 * v / max) as u32;
            let y = y0 + 14 * i as u32;
            let _ = write!(
                svg,
                r#"<rect x="{left}" y="{y}" width="{w}" height="12" fill="{c}"><title>{v}</title></rect><text x="{tx}" y="{ty}" class="value">{v}</text>"#,
                c = COLORS[i % COLORS.len()],
                tx = left + w + 4,
                ty = y + 10
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Upper bounds (seconds) of the duration buckets of histograms.
pub const BUCKETS: [(i64, &str, &str); 6] = [
    (3600, "< 1 h", "< 1 ч"),
    (8 * 3600, "1–8 h", "1–8 ч"),
    (86_400, "8–24 h", "8–24 ч"),
    (3 * 86_400, "1–3 d", "1–3 дн."),
    (7 * 86_400, "3–7 d", "3–7 дн."),
    (i64::MAX, "> 7 d", "> 7 дн."),
];

/// Counts durations into [`BUCKETS`].
pub fn histogram(durations: &[i64]) -> [u64; 6] {
    let mut out = [0u64; 6];
    for d in durations {
        if let Some(i) = BUCKETS.iter().position(|(max, _, _)| d < max) {
            out[i] += 1;
        }
    }
    out
}

/// A histogram of two series (e.g. received / sent) as bars.
pub fn duration_chart(title: &str, lang: &str, series: [&str; 2], a: &[i64], b: &[i64]) -> String {
    let (ha, hb) = (histogram(a), histogram(b));
    let rows: Vec<Bar> = BUCKETS
        .iter()
        .enumerate()
        .map(|(i, (_, en, ru))| Bar {
            label: if lang == "ru" { ru } else { en }.to_string(),
            values: vec![ha[i], hb[i]],
        })
        .collect();
    bars(title, &[series[0].to_owned(), series[1].to_owned()], &rows)
}

/// Response times over time as a row of bars, oldest first: a bar's height
/// grows with the seconds to acknowledgement (on a log scale), an
/// unanswered ping is a full red bar, one answered too late is orange.
/// `title` labels it for screen readers.
pub fn ping_series(title: &str, points: &[(Option<i64>, bool)]) -> String {
    const W: usize = 6;
    const H: f64 = 24.0;
    let scale = |secs: i64| ((secs.max(1) as f64).ln() / (86_400f64).ln()).clamp(0.08, 1.0);
    let mut svg = format!(
        "<svg class=\"ping-series\" role=\"img\" aria-label=\"{}\" width=\"{}\" height=\"{H}\" viewBox=\"0 0 {} {H}\">",
        esc(title),
        points.len().max(1) * W,
        points.len().max(1) * W
    );
    for (i, (secs, missed)) in points.iter().enumerate() {
        let (height, color) = match (secs, missed) {
            (None, true) => (H, "#b3261e"),
            (None, false) => (H * 0.25, "#9aa0a6"),
            (Some(s), true) => (H * scale(*s), "#d9822b"),
            (Some(s), false) => (H * scale(*s), COLORS[0]),
        };
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{:.1}\" width=\"{}\" height=\"{height:.1}\" fill=\"{color}\"/>",
            i * W,
            H - height,
            W - 1
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let svg = bars(
            "Cases <open>",
            &["received".into()],
            &[Bar {
                label: "MLA & co".into(),
                values: vec![3],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("MLA &amp; co") && svg.contains("Cases &lt;open&gt;"));
        assert_eq!(
            histogram(&[10, 4000, 90_000, 1_000_000]),
            [1, 1, 0, 1, 0, 1]
        );
    }
}
