#!/usr/bin/env python3
"""The peer recover-gateway is measured against: the script an operator would write with
boto3, made as fast as a plain script gets. It disables the failed tape gateway, pages
through its tape recovery points and, as each page arrives, hands its tapes to a pool of
threads that retrieve them to the standby (one shared client, whose connection pool is as
large as the pool of threads).

    python baseline.py --endpoint http://127.0.0.1:PORT --failed ARN --standby ARN [--threads 16]

Prints one JSON line: {"seconds": ..., "retrieved": ..., "failed": ..., "calls": ..., "threads": ...}.
The time starts after the client is built (Python's start-up and imports are not counted)
and ends when the last retrieval has answered. It is the benchmark's baseline, run against
the same simulator and fleet as recover-gateway (bench --scenario baseline).
"""
import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--failed", required=True)
    p.add_argument("--standby", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--threads", type=int, default=16)
    a = p.parse_args()
    sgw = boto3.client(
        "storagegateway",
        endpoint_url=a.endpoint,
        region_name=a.region,
        aws_access_key_id="AKIDLOCALSIMULATOR",
        aws_secret_access_key="not-a-secret",
        config=botocore.config.Config(
            retries={"mode": "standard", "max_attempts": 8},
            max_pool_connections=a.threads,
        ),
    )

    def retrieve(tape_arn):
        try:
            sgw.retrieve_tape_recovery_point(TapeARN=tape_arn, GatewayARN=a.standby)
            return True
        except sgw.exceptions.InvalidGatewayRequestException:
            return False

    started = time.monotonic()
    calls = 1
    sgw.disable_gateway(GatewayARN=a.failed)
    futures = []
    with ThreadPoolExecutor(max_workers=a.threads) as pool:
        for page in sgw.get_paginator("describe_tape_recovery_points").paginate(GatewayARN=a.failed):
            calls += 1
            for rp in page["TapeRecoveryPointInfos"]:
                futures.append(pool.submit(retrieve, rp["TapeARN"]))
        results = [f.result() for f in futures]
    seconds = time.monotonic() - started
    retrieved = sum(1 for r in results if r)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "retrieved": retrieved,
                "failed": len(results) - retrieved,
                "calls": calls + len(results),
                "threads": a.threads,
            }
        )
    )


if __name__ == "__main__":
    main()
