#!/usr/bin/env python3
"""Renders the JSON lines of `bench.jar --suite methods|chunk-cost|max-length` as the Markdown tables of
docs/performance.md, so that the tables there are regenerated from a run's output rather than typed:

    java -jar train-job/bench/target/bench.jar --suite methods ... > methods.jsonl
    python3 train-job/bench/tools/bench_tables.py methods.jsonl [chunk-cost.jsonl max-length.jsonl ...]
"""
import json
import sys

GIB = 1 << 30


def rows(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def fmt(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def methods(lines):
    env = next((r for r in lines if "environment" in r), {})
    print(f"Run started {env.get('environment')} (load average {env.get('load_average')}, {env.get('cores')} cores, "
          f"{env.get('nd4j_build')}).\n")
    print("| tokens | k | method | s/step p50 (p95) | CPU s p50 | tokens/s | peak RSS | minor faults/step |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in lines:
        if r.get("method") and "tokens" in r and "framework" not in r:
            if r.get("status") != "ok":
                why = r.get("status")
                if r.get("error"):
                    why += f" ({r['error'][:80]})"
                print(f"| {r['tokens']} | {r['chunks']} | {r['method']} | {why} | - | - | "
                      f"{fmt(r.get('peak_rss_bytes', 0) / GIB)} GiB | - |")
                continue
            print(f"| {r['tokens']} | {r['chunks']} | {r['method']} | {fmt(r['seconds_p50'])} ({fmt(r['seconds_p95'])}) | "
                  f"{fmt(r['cpu_seconds_p50'])} | {r['tokens_per_s']:.0f} | {fmt(r['peak_rss_bytes'] / GIB)} GiB | "
                  f"{faults(r.get('minor_faults_per_step_p50'))} |")
    for r in lines:
        if "framework" in r:
            print(f"| {r['tokens']} | {r['tokens'] // r['chunk']} | PyTorch {r['framework'].split('-')[1]} "
                  f"{r['method']} (1 thread) | {fmt(r['seconds_median'])} | - | {r['tokens_per_s']:.0f} | - | "
                  f"{faults(r.get('minor_faults_per_step_median'))} |")
    print("\n| ratio | tokens | value | target | met |")
    print("| --- | --- | --- | --- | --- |")
    for r in lines:
        if "ratio" in r:
            target = r.get("target") or f"({r.get('target_applies_at', 'context')})"
            met = {True: "yes", False: "no"}.get(r.get("met"), "-")
            print(f"| {r['ratio']} | {r.get('tokens', '-')} | {fmt(r['value'])} | {target} | {met} |")
    for r in lines:
        if "points" in r:
            print("\nClaim curve (time over inference; analytic 1 + 3t/k for SpaCO, 4 for SeCO):\n")
            print("| k | tokens | method | wall / inference | CPU / inference | analytic |")
            print("| --- | --- | --- | --- | --- | --- |")
            for p in r["points"]:
                print(f"| {p['k']} | {p['tokens']} | {p['method']} | {fmt(p['time_over_inference'])} | "
                      f"{fmt(p['cpu_time_over_inference'])} | {fmt(p['analytic'], 3)} |")


def faults(n):
    """Minor page faults per step (in thousands), '-' where the run did not record them."""
    return "-" if n is None or n < 0 else f"{n / 1000:.0f}K"


def chunk_cost(lines):
    print("| past tokens | s p50 | s p95 | p95/p50 | CPU s p50 | minor faults/step |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in lines:
        if "past_tokens" in r:
            print(f"| {r['past_tokens']} | {fmt(r['seconds_p50'], 3)} | {fmt(r['seconds_p95'], 3)} | "
                  f"{fmt(r['p95_over_p50'])} | {fmt(r['cpu_seconds_p50'])} | "
                  f"{faults(r.get('minor_faults_per_step_p50'))} |")
    for r in lines:
        if "fit" in r:
            print(f"\nFit: {fmt(r['intercept_s'], 3)} s + {fmt(r['slope_ms_per_1k_past'], 1)} ms per 1K past, "
                  f"R^2 {fmt(r['r2'], 3)}, worst relative residual {fmt(r['worst_relative_residual'])}, "
                  f"worst p95/p50 {fmt(r['worst_p95_over_p50'])}.")


def max_length(lines):
    print("| method | tokens | status | peak RSS |")
    print("| --- | --- | --- | --- |")
    for r in lines:
        if "status" in r and "tokens" in r:
            print(f"| {r['method']} | {r['tokens']} | {r['status']} | {fmt(r.get('peak_rss_bytes', 0) / GIB)} GiB |")
    for r in lines:
        if "ratio" in r:
            print(f"\n{r['ratio']}: {fmt(r['value'])} (target {r.get('target', '-')}, met: {r.get('met', '-')}; "
                  f"full {r.get('full_max_tokens')}, seco {r.get('seco_max_tokens')} tokens)")


def main():
    for path in sys.argv[1:]:
        lines = rows(path)
        suite = next((r["suite"] for r in lines if "suite" in r), None)
        print(f"<!-- {path}: suite {suite} -->\n")
        {"methods": methods, "chunk-cost": chunk_cost, "max-length": max_length}[suite](lines)
        print()


if __name__ == "__main__":
    main()
