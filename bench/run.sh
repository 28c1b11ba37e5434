#!/usr/bin/env bash
# The benchmarks, side by side in one run (see BENCHMARKS.md). Not part of `cargo test`.
#
#   bash bench/run.sh                          # every scenario; writes the table into BENCHMARKS.md
#   bash bench/run.sh --scenario site-outage   # one scenario (or a list): prints its rows only
#   bash bench/run.sh --help                   # the scenarios and options
#
# Everything runs at low priority (nice): the machine is shared. The bench builds the two
# functions in release exactly as they ship (cargo build --release -p gateway-monitor -p
# recover-gateway) and its echo floor with the same profile. The boto3 baseline needs a
# Python with boto3: $BENCH_PYTHON, else /tmp/venv/bin/python if it has boto3, else a
# virtual environment in target/bench-venv with boto3 from PyPI (as CI does).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${BENCH_PYTHON:-}
if [ -z "$python" ]; then
  if /tmp/venv/bin/python -c 'import boto3' 2>/dev/null; then
    python=/tmp/venv/bin/python
  else
    venv=target/bench-venv
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -c 'import boto3' 2>/dev/null || "$venv/bin/pip" install --quiet boto3
    python=$venv/bin/python
  fi
fi

nice -n 10 cargo build --release -p bench
results=target/bench-results.md
CARGO=$(command -v cargo) nice -n 10 ./target/release/bench --python "$python" --out "$results" "$@"

# The whole table goes into BENCHMARKS.md, between its markers, with when and where it was
# measured; a run of some scenarios only is printed above and not written there.
case " $* " in
  *" --scenario "* | *" --only "* | *" --help "* | *" -h "*) exit 0 ;;
esac
python3 - "$results" "$*" <<'PY'
import datetime, os, platform, re, sys
table = open(sys.argv[1]).read().strip()
args = sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
load = open("/proc/loadavg").read().split()[0]
stamp = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} × {cpu} "
         f"(shared; load average {load} at the end), with `bash bench/run.sh{(' ' + args) if args else ''}`.")
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"<!-- results:start -->.*<!-- results:end -->",
             lambda _: f"<!-- results:start -->\n{stamp}\n\n{table}\n<!-- results:end -->", doc, flags=re.S)
open("BENCHMARKS.md", "w").write(doc)
print("BENCHMARKS.md updated")
PY
