//! What a benchmark prints: its Markdown tables (as BENCHMARKS.md shows
//! them), or with `--json` its figures by name.

use serde_json::{Map, Value};

/// The result of one benchmark run.
pub struct Report {
    text: String,
    figures: Map<String, Value>,
}

/// Adds a formatted line to a report's Markdown.
macro_rules! say {
    ($report:expr, $($arg:tt)*) => {
        $report.line(&format!($($arg)*))
    };
}
pub(crate) use say;

impl Report {
    pub fn new(bench: &str) -> Report {
        let mut figures = Map::new();
        figures.insert("bench".into(), bench.into());
        Report {
            text: String::new(),
            figures,
        }
    }

    pub fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    /// Records a figure; names carry their unit (`…_per_s`, `…_ms`, `…_mib`).
    pub fn figure(&mut self, name: &str, value: impl Into<Value>) {
        self.figures.insert(name.into(), value.into());
    }

    /// Appends a row of figures to the list `name` (one row per table line).
    pub fn row(&mut self, name: &str, row: Value) {
        match self
            .figures
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(rows) => rows.push(row),
            other => *other = Value::Array(vec![row]),
        }
    }

    pub fn print(self, json: bool) {
        if json {
            println!("{}", Value::Object(self.figures));
        } else {
            print!("{}", self.text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_holds_the_figures_and_text_the_lines() {
        let mut r = Report::new("federation");
        say!(r, "| throughput | {:.0}/s |", 4615.4);
        r.figure("throughput_per_s", 4615.4);
        r.row("sizes", serde_json::json!({"hashes": 10}));
        r.row("sizes", serde_json::json!({"hashes": 100}));
        assert_eq!(r.text, "| throughput | 4615/s |\n");
        assert_eq!(r.figures["throughput_per_s"], 4615.4);
        assert_eq!(r.figures["sizes"][1]["hashes"], 100);
        assert_eq!(r.figures["bench"], "federation");
    }
}
