//! The benchmarks of issue 13: the release function binaries, run as Lambda runs them,
//! against the built-in simulator, with every ratio taken between figures of the same run.
//! `bash bench/run.sh` runs them all and puts the table into BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p bench -- --help
//! ```

mod fleets;
mod harness;
mod report;
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

use report::{Row, failed};

/// Every scenario, in the order they run: name, what it measures.
const SCENARIOS: &[(&str, &str)] = &[
    ("chain", "1,500 tapes, L = 50 ms, no limit, default settings, against the dependency chain"),
    ("baseline", "1,500 tapes: recover-gateway vs the threaded boto3 peer (bench/baseline.py, 16 threads)"),
    ("rate", "1,500 tapes, R = 20 calls/s account-wide (and L = 50 ms), against N/R"),
    ("site-outage", "10 × 150 and 50 × 30 tapes, 10 or 50 invocations at once, L = 50 ms, R = 20/s, against N/R"),
    ("site-outage-10x150", "the site outage, 10 gateways × 150 tapes only"),
    ("site-outage-50x30", "the site outage, 50 gateways × 30 tapes only"),
    ("adaptive", "the site outages again with AWS_RETRY_MODE=adaptive, against the default, with fairness"),
    ("cold", "exec to first GET /next of both functions against a bare lambda_runtime echo floor"),
    ("hand-off", "connection lost to hand-off with grace G, a 5-minute schedule and the re-probe queue"),
    ("readiness", "the readiness check of 1,000 watched gateways in one invocation"),
    ("sweep", "a sweep of 1,000 watched gateways: time and ledger calls"),
];

const USAGE: &str = "usage: bench [--scenario NAME[,NAME...]]... [--runs N] [--long-runs N] [--cold-rounds N]
             [--grace SECONDS] [--python PATH] [--out FILE] [--quick] [--help]

  --scenario     scenarios to run (all when not given); may be repeated or comma-separated
  --runs         runs of each short scenario (chain, baseline, readiness, sweep; default 3)
  --long-runs    runs of each rate-limited or long one (rate, site outages, hand-off; default 1)
  --cold-rounds  starts of each binary for the cold-start medians (default 30)
  --grace        the hand-off scenario's grace period G in seconds (default 20)
  --python       a Python with boto3 for the baseline (default $BENCH_PYTHON, else
                 /tmp/venv/bin/python if present, else python3)
  --out          also write the results table (markdown) to FILE
  --quick        one run of everything, 5 cold-start rounds";

struct Opts {
    scenarios: Vec<String>,
    runs: usize,
    long_runs: usize,
    cold_rounds: usize,
    grace: u64,
    python: PathBuf,
    out: Option<PathBuf>,
}

fn default_python() -> PathBuf {
    if let Some(p) = std::env::var_os("BENCH_PYTHON") {
        return p.into();
    }
    let venv = PathBuf::from("/tmp/venv/bin/python");
    if venv.exists() { venv } else { "python3".into() }
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    v.as_deref().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a number\n\n{USAGE}"))
}

fn help() -> String {
    let mut s = format!("{USAGE}\n\nscenarios:\n");
    for (name, what) in SCENARIOS {
        s.push_str(&format!("  {name:<20} {what}\n"));
    }
    s
}

fn parse_args() -> Result<Option<Opts>, String> {
    let mut o = Opts {
        scenarios: vec![],
        runs: 3,
        long_runs: 1,
        cold_rounds: 30,
        grace: 20,
        python: default_python(),
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--help" | "-h" => return Ok(None),
            "--scenario" | "--only" => {
                let list = args.next().ok_or_else(|| format!("--scenario needs a name\n\n{}", help()))?;
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if !SCENARIOS.iter().any(|(s, _)| *s == name) {
                        return Err(format!("unknown scenario `{name}`\n\n{}", help()));
                    }
                    o.scenarios.push(name.to_owned());
                }
            }
            "--runs" => o.runs = number::<usize>("--runs", args.next())?.max(1),
            "--long-runs" => o.long_runs = number::<usize>("--long-runs", args.next())?.max(1),
            "--cold-rounds" => o.cold_rounds = number::<usize>("--cold-rounds", args.next())?.max(1),
            "--grace" => o.grace = number("--grace", args.next())?,
            "--python" => o.python = args.next().ok_or("--python needs a path")?.into(),
            "--out" => o.out = Some(args.next().ok_or("--out needs a file")?.into()),
            "--quick" => {
                o.runs = 1;
                o.long_runs = 1;
                o.cold_rounds = 5;
            }
            other => return Err(format!("unknown argument `{other}`\n\n{}", help())),
        }
    }
    Ok(Some(o))
}

fn push(rows: &mut Vec<Row>, scenario: &str, result: Result<Vec<Row>, String>) {
    match result {
        Ok(r) => rows.extend(r),
        Err(e) => {
            eprintln!("bench: {scenario} could not be measured: {e}");
            rows.push(failed(scenario, &e));
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{}", help());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let wanted = |name: &str| {
        opts.scenarios.is_empty()
            || opts.scenarios.iter().any(|s| s == name || (s == "site-outage" && name.starts_with("site-outage-")))
    };
    let built = match harness::build() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let b = &built;
    let mut rows = Vec::new();
    if wanted("chain") {
        push(&mut rows, "chain", scenarios::chain(b, opts.runs).await);
    }
    if wanted("baseline") {
        push(&mut rows, "baseline", scenarios::baseline(b, &opts.python, opts.runs).await);
    }
    if wanted("rate") {
        push(&mut rows, "rate", scenarios::rate(b, opts.long_runs).await);
    }
    for (name, gateways, tapes) in [("site-outage-10x150", 10, 150), ("site-outage-50x30", 50, 30)] {
        let default_wanted = wanted(name);
        if !default_wanted && !wanted("adaptive") {
            continue;
        }
        for _ in 0..opts.long_runs {
            // The adaptive run follows the default one, so their ratio is of one run.
            let default = scenarios::outage(b, gateways, tapes, false).await;
            match &default {
                Ok(o) if default_wanted => rows.extend(scenarios::outage_rows(o)),
                Ok(_) => {}
                Err(e) => push(&mut rows, name, Err(e.clone())),
            }
            if !wanted("adaptive") {
                continue;
            }
            match scenarios::outage(b, gateways, tapes, true).await {
                Ok(a) => {
                    rows.extend(scenarios::outage_rows(&a));
                    if let Ok(d) = &default {
                        rows.extend(scenarios::adaptive_rows(d, &a));
                    }
                }
                Err(e) => push(&mut rows, "adaptive", Err(e)),
            }
        }
    }
    if wanted("cold") {
        push(&mut rows, "cold", scenarios::cold(b, opts.cold_rounds).await);
    }
    if wanted("hand-off") {
        push(&mut rows, "hand-off", scenarios::hand_off(b, opts.grace, opts.long_runs).await);
    }
    if wanted("readiness") {
        push(&mut rows, "readiness", scenarios::readiness(b, opts.runs).await);
    }
    if wanted("sweep") {
        push(&mut rows, "sweep", scenarios::sweep(b, opts.runs).await);
    }
    let table = report::table(&rows);
    println!("{table}");
    if let Some(out) = &opts.out {
        if let Err(e) = std::fs::write(out, &table) {
            eprintln!("bench: cannot write {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
