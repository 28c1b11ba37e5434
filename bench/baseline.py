#!/usr/bin/env python3
"""The script operators write today: disable the failed tape gateway, page through its tape
recovery points, and retrieve each tape to the standby, one call after another, with boto3.

    python baseline.py --endpoint http://127.0.0.1:PORT --failed ARN --standby ARN

Prints one JSON line: {"seconds": ..., "retrieved": ..., "failed": ..., "calls": ...}.
It is the benchmark's baseline, run against the same simulator as recover-gateway.
"""
import argparse
import json
import time

import boto3
import botocore.config


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--failed", required=True)
    p.add_argument("--standby", required=True)
    p.add_argument("--region", default="us-east-1")
    a = p.parse_args()
    sgw = boto3.client(
        "storagegateway",
        endpoint_url=a.endpoint,
        region_name=a.region,
        aws_access_key_id="AKIDLOCALSIMULATOR",
        aws_secret_access_key="not-a-secret",
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 8}),
    )
    started = time.monotonic()
    calls = 1
    sgw.disable_gateway(GatewayARN=a.failed)
    retrieved = failed = 0
    for page in sgw.get_paginator("describe_tape_recovery_points").paginate(GatewayARN=a.failed):
        calls += 1
        for rp in page["TapeRecoveryPointInfos"]:
            calls += 1
            try:
                sgw.retrieve_tape_recovery_point(TapeARN=rp["TapeARN"], GatewayARN=a.standby)
                retrieved += 1
            except sgw.exceptions.InvalidGatewayRequestException:
                failed += 1
    seconds = time.monotonic() - started
    print(json.dumps({"seconds": seconds, "retrieved": retrieved, "failed": failed, "calls": calls}))


if __name__ == "__main__":
    main()
