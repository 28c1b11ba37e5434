//! `sgw-sim`: run the Storage Gateway, SNS, DynamoDB and SQS simulator, or generate fleets.
//!
//! ```text
//! sgw-sim [serve] --fleet FILE [--listen 127.0.0.1:0] [--faults JSON|@FILE] [--aws-behaviour NAMES] [--allow-remote]
//! sgw-sim gen [--tapes N] [--standby-tapes N] [--volumes N] [--gateways N] [--untagged N]
//!             [--no-auto-disable] [--failed-online] [--region R] [--account A]
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use simulator::generate::{FleetShape, generate};
use simulator::{FaultConfig, Fleet, Simulator};

const USAGE: &str = "usage:
  sgw-sim [serve] --fleet FILE [--listen 127.0.0.1:0] [--faults JSON|@FILE] [--aws-behaviour NAMES]
                  [--allow-remote]
      Serves Storage Gateway (awsJson1_1), SNS (awsQuery), DynamoDB (awsJson1_0), SQS (awsJson1_0)
      and the /_sim/ control API on one
      address; prints that address (http://HOST:PORT) as its first line.
      --aws-behaviour turns on, over the fleet file's behaviour, the switches for what AWS's
      documentation leaves open: `all`, or a comma-separated list of
      recovery-points-after-disable, disabled-gateway-answers, not-connected-in-message-only,
      internal-error-400, offset-markers, recovery-points-vanish, recovery-points-per-tape[=N],
      recovered-after-ms[=MS], tag-writes-need-connection, volume-calls-need-connection,
      disable-needs-disconnected, volume-available-after-ms[=MS].
  sgw-sim gen [--tapes 1500] [--standby-tapes 0] [--volumes 0] [--gateways 0] [--untagged 0]
              [--no-auto-disable] [--failed-online] [--region us-east-1] [--account 123456789012]
      Prints a generated fleet file on standard output.";

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
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = match args.first().map(String::as_str) {
        Some("serve") | Some("gen") => args.remove(0),
        _ => "serve".to_owned(),
    };
    let result = match command.as_str() {
        "gen" => gen_command(Args(args)),
        _ => serve_command(Args(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sgw-sim: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn gen_command(mut args: Args) -> Result<(), String> {
    let defaults = FleetShape::default();
    let shape = FleetShape {
        tapes: args.number("--tapes", defaults.tapes)?,
        standby_tapes: args.number("--standby-tapes", 0)?,
        volumes: args.number("--volumes", 0)?,
        gateways: args.number("--gateways", 0)?,
        untagged: args.number("--untagged", 0)?,
        auto_disable: !args.flag("--no-auto-disable"),
        failed_offline: !args.flag("--failed-online"),
        region: args.value("--region")?.unwrap_or(defaults.region),
        account: args.value("--account")?.unwrap_or(defaults.account),
    };
    args.finish()?;
    let fleet = generate(&shape);
    fleet.validate().map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&fleet).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

fn serve_command(mut args: Args) -> Result<(), String> {
    let fleet_path = args.value("--fleet")?.ok_or("--fleet FILE is required")?;
    let listen = args.value("--listen")?.unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let faults = args.value("--faults")?;
    let behaviour = args.value("--aws-behaviour")?;
    let allow_remote = args.flag("--allow-remote");
    args.finish()?;
    let addr: SocketAddr = listen.parse().map_err(|_| format!("--listen `{listen}` is not HOST:PORT"))?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(format!(
            "refusing to listen on {addr}: the simulator accepts any credentials, so it listens on loopback only unless --allow-remote is given"
        ));
    }
    let mut fleet = Fleet::from_file(&fleet_path).map_err(|e| e.to_string())?;
    if let Some(names) = behaviour {
        // Into the fleet, so that a reset keeps it.
        fleet.behaviour = fleet.behaviour.with_names(&names).map_err(|e| format!("--aws-behaviour: {e}"))?;
    }
    let sim = Simulator::new(fleet).map_err(|e| e.to_string())?;
    if let Some(f) = faults {
        let text = match f.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path).map_err(|e| format!("--faults {path}: {e}"))?,
            None => f,
        };
        let config: FaultConfig = serde_json::from_str(&text).map_err(|e| format!("--faults: {e}"))?;
        sim.set_faults(config)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let running = sim.start(&addr.to_string()).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        println!("{}", running.url());
        eprintln!(
            "sgw-sim: serving Storage Gateway, SNS, DynamoDB and SQS on {url} (control API: {url}/_sim/state; behaviour: {}); Ctrl-C stops",
            running.behaviour(),
            url = running.url()
        );
        shutdown_signal().await;
        drop(running);
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_usage_names_every_behaviour_switch() {
        for name in simulator::behaviour::Behaviour::NAMES {
            assert!(super::USAGE.contains(name), "{name}");
        }
    }
}
