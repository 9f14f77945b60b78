#!/usr/bin/env python3
"""Load generator for the ingest benchmark: native batch payloads, one JSON array per line,
for `mosquitto_pub -l`.

Line i carries BATCH readings of BATCH distinct rack power points, all stamped
base + i // GROUPS milliseconds, so (point, ts) is unique across the whole stream.

    gen.py --lines N [--batch 100] [--points 1000] [--rate READINGS_PER_S]

Without --rate the lines are written as fast as possible (to pre-generate a file); with it
they are paced (for the memory soak, piped straight into mosquitto_pub).
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, required=True, help="lines (messages); 0 = endless")
    ap.add_argument("--batch", type=int, default=100, help="readings per line")
    ap.add_argument("--points", type=int, default=1000, help="distinct points (multiple of batch)")
    ap.add_argument("--rate", type=float, default=0.0, help="readings per second (0 = unpaced)")
    ap.add_argument("--base-ms", type=int, default=0, help="first timestamp (default: one hour ago)")
    a = ap.parse_args()
    if a.points % a.batch:
        sys.exit("--points must be a multiple of --batch")
    groups = a.points // a.batch
    base = a.base_ms or int(time.time() * 1000) - 3_600_000
    templates = []
    for g in range(groups):
        items = ",".join(
            '{"point":"hall-a/rack-%05d/power_kw","ts":TS,"value":%.1f}' % (g * a.batch + k, 20 + (k % 50) * 0.5)
            for k in range(a.batch)
        )
        templates.append("[" + items + "]\n")
    out = sys.stdout
    start = time.monotonic()
    i = 0
    while a.lines == 0 or i < a.lines:
        out.write(templates[i % groups].replace("TS", str(base + i // groups)))
        i += 1
        if a.rate and i % 50 == 0:
            due = start + i * a.batch / a.rate
            delay = due - time.monotonic()
            if delay > 0:
                out.flush()
                time.sleep(delay)
    out.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass
