//! The results table.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure reported without a target.
    Info,
    /// The scenario could not be run to its end.
    Failed,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**MISSED**",
            Verdict::Info => "",
            Verdict::Failed => "**FAILED**",
        }
    }
}

/// A target on a ratio.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    value: f64,
    higher_is_better: bool,
}

pub fn lower_is_better(value: f64) -> Target {
    Target { value, higher_is_better: false }
}

pub fn higher_is_better(value: f64) -> Target {
    Target { value, higher_is_better: true }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub measured: String,
    pub bound: String,
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

pub fn ratio_row(scenario: impl Into<String>, measured: String, bound: String, ratio: f64, target: Target) -> Row {
    let ok = if target.higher_is_better { ratio >= target.value } else { ratio <= target.value };
    let sign = if target.higher_is_better { "≥" } else { "≤" };
    Row {
        scenario: scenario.into(),
        measured,
        bound,
        ratio: format!("{ratio:.3}×"),
        target: format!("{sign} {}×", target.value),
        verdict: if ok { Verdict::Met } else { Verdict::Missed },
    }
}

pub fn info(scenario: impl Into<String>, measured: String) -> Row {
    Row {
        scenario: scenario.into(),
        measured,
        bound: String::new(),
        ratio: String::new(),
        target: String::new(),
        verdict: Verdict::Info,
    }
}

pub fn failed(scenario: &str, why: &str) -> Row {
    Row {
        scenario: scenario.to_owned(),
        measured: format!("could not be measured: {why}"),
        bound: String::new(),
        ratio: String::new(),
        target: String::new(),
        verdict: Verdict::Failed,
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn table(rows: &[Row]) -> String {
    let mut t = String::from("| Scenario | Measured | Bound | Ratio | Target | |\n|---|---|---|---|---|---|\n");
    for r in rows {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            cell(&r.scenario),
            cell(&r.measured),
            cell(&r.bound),
            r.ratio,
            r.target,
            r.verdict.word()
        ));
    }
    t
}
