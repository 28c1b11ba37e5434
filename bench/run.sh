#!/usr/bin/env bash
# The benchmarks, side by side in one run (see BENCHMARKS.md). Not part of `cargo test`.
#   bash bench/run.sh [--runs N] [--only headroom,recover,rate,memory,baseline,sweep,cold,size] [--quick]
# Needs Python 3 (boto3 baseline, cargo-lambda for the arm64 zips); installs both in
# target/bench-venv from PyPI. Writes the results table into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet boto3==1.44.8 cargo-lambda==1.9.2
export PATH="$PWD/$venv/bin:$PATH"
rustup target add aarch64-unknown-linux-gnu >/dev/null
# Scenario 6 measures the packages exactly as they are shipped.
cargo lambda build --release --arm64 --output-format zip --bin gateway-monitor --bin recover-gateway
cargo build --release -p bench
results=target/bench-results.md
./target/release/bench --python "$venv/bin/python" --out "$results" "$@"
# Put the table into BENCHMARKS.md between its markers, with when and where it was measured.
python3 - "$results" "$*" <<'PY'
import datetime, os, platform, re, sys
table = open(sys.argv[1]).read().strip()
args = sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
stamp = (f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} × {cpu}, "
         f"with `bash bench/run.sh{(' ' + args) if args else ''}`.")
doc = open("BENCHMARKS.md").read()
doc = re.sub(r"<!-- results:start -->.*<!-- results:end -->",
             f"<!-- results:start -->\n{stamp}\n\n{table}\n<!-- results:end -->", doc, flags=re.S)
open("BENCHMARKS.md", "w").write(doc)
print("BENCHMARKS.md updated")
PY
