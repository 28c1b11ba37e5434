//! `drill`: a whole failover on the built-in simulator, with the real function binaries
//! under a local Lambda (see README.md).
//!
//! ```text
//! cargo run -p drill -- [--tapes 300] [--volumes 4] [--grace 6] [--latency-ms 20] [--release] [--bin-dir DIR]
//! ```

mod drill;

use std::process::ExitCode;

const USAGE: &str = "usage:
  drill [--tapes 300] [--volumes 4] [--grace 6] [--latency-ms 20] [--release] [--bin-dir DIR]
        [--sweep-ms 2000] [--timeout 180] [--aws-behaviour all|NAME,NAME]
      A whole failover on the simulator with the real function binaries: builds them
      (unless --bin-dir names prebuilt ones), runs them under a local Lambda runtime,
      shows a readiness report, kills two gateways and shows detection, hand-off, recovery
      and the reports, then darkens half the fleet and shows the correlated outage held.
      --aws-behaviour picks the simulator's reading of what AWS leaves undocumented.";

struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.0.iter().position(|a| a == name) {
            Some(i) if i + 1 < self.0.len() => {
                let v = self.0.remove(i + 1);
                self.0.remove(i);
                Ok(Some(v))
            }
            Some(_) => Err(format!("{name} needs a value")),
            None => Ok(None),
        }
    }

    fn number(&mut self, name: &str, default: usize) -> Result<usize, String> {
        match self.value(name)? {
            Some(v) => v.parse().map_err(|_| format!("{name} must be a whole number, got `{v}`")),
            None => Ok(default),
        }
    }

    fn finish(self) -> Result<(), String> {
        match self.0.first() {
            Some(extra) => Err(format!("unexpected argument `{extra}`")),
            None => Ok(()),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match drill_command(Args(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drill: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn drill_command(mut args: Args) -> Result<(), String> {
    let defaults = drill::DrillOptions::default();
    let opts = drill::DrillOptions {
        tapes: args.number("--tapes", defaults.tapes)?,
        volumes: args.number("--volumes", defaults.volumes)?,
        grace_secs: args.number("--grace", defaults.grace_secs as usize)? as u64,
        latency_ms: args.number("--latency-ms", defaults.latency_ms as usize)? as u64,
        release: args.flag("--release"),
        bin_dir: args.value("--bin-dir")?.map(std::path::PathBuf::from),
        sweep_every: std::time::Duration::from_millis(
            args.number("--sweep-ms", defaults.sweep_every.as_millis() as usize)? as u64,
        ),
        timeout: std::time::Duration::from_secs(args.number("--timeout", defaults.timeout.as_secs() as usize)? as u64),
        behaviour: match args.value("--aws-behaviour")? {
            Some(names) => {
                simulator::behaviour::Behaviour::from_names(&names).map_err(|e| format!("--aws-behaviour: {e}"))?
            }
            None => defaults.behaviour,
        },
    };
    args.finish()?;
    if opts.tapes == 0 || opts.tapes > 1500 {
        return Err("--tapes must be 1 to 1500 (a tape gateway holds at most 1,500 tapes)".into());
    }
    if opts.volumes > 32 {
        return Err("--volumes must be at most 32 (a volume gateway holds at most 32 volumes)".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    match runtime.block_on(drill::run(opts))? {
        true => Ok(()),
        false => Err("the drill did not end with every recovery completed (see above)".into()),
    }
}
