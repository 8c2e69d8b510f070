"""``python -m devtools.reference_record [--port 8089] [--db FILE] [fault options]``."""

from __future__ import annotations

import argparse
import os
import sys

from .faults import check
from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.reference_record",
        description="The reference record service: the record contract "
                    "(docs/record-api.openapi.yaml) with switchable faults.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--db", default="instance/reference-record.sqlite",
                        help="SQLite file (default: %(default)s)")
    parser.add_argument("--client-id", default="joblog")
    parser.add_argument("--client-secret", default=None,
                        help="default: $JOBLOG_RECORD_CLIENT_SECRET, else dev-secret "
                             "(prefer the variable: arguments show in the process list)")
    parser.add_argument("--token-ttl", type=float, default=300, help="token lifetime, seconds")
    faults = parser.add_argument_group("faults (switch at runtime with POST /_faults)")
    faults.add_argument("--latency-ms", type=int, default=0, help="added latency per call")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share answered 500/503")
    faults.add_argument("--rate-limit-rate", type=float, default=0.0, help="share answered 429")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on 429")
    faults.add_argument("--drop-after-store-rate", type=float, default=0.0,
                        help="share whose connection is dropped after the change was stored")
    faults.add_argument("--seed", type=int, default=None, help="seed of the fault dice")
    args = parser.parse_args(argv)
    chosen = {"latency_ms": args.latency_ms, "error_rate": args.error_rate,
              "rate_limit_rate": args.rate_limit_rate, "retry_after": args.retry_after,
              "drop_after_store_rate": args.drop_after_store_rate, "seed": args.seed}
    try:
        check(chosen)
    except ValueError as exc:
        parser.error(str(exc))
    secret = args.client_secret or os.environ.get("JOBLOG_RECORD_CLIENT_SECRET") or "dev-secret"
    os.makedirs(os.path.dirname(os.path.abspath(args.db)), exist_ok=True)
    print(f"Reference record service on http://{args.host}:{args.port} (data in {args.db})",
          file=sys.stderr, flush=True)
    serve(args.db, args.host, args.port, args.client_id, secret, chosen, args.token_ttl)


if __name__ == "__main__":
    main()
