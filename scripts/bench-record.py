#!/usr/bin/env python3
"""Appends one comparison to the bench's JSON lines and prints it as a line a person reads.

usage: bench-record.py JSONL COMPARISON FIGURE UNIT higher|lower PROJECT_FILE ANCHOR_NAME ANCHOR_FILE [GOAL_RATIO]
PROJECT_FILE and ANCHOR_FILE hold one number a line, one per round, in the order the rounds ran.
The line written (the format every bench-*.sh shares, bench-report.py reads it):
  {"comparison": ..., "figure": ..., "unit": ..., "higher_is_better": ..., "project": [...],
   "anchor_name": ..., "anchor": [...], "goal_ratio": ... or null}
A file with no numbers (the tool failed) is recorded with an empty list; the line says so.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_stats import describe  # noqa: E402


def numbers(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [float(word) for word in f.read().split()]


def main():
    if len(sys.argv) not in (9, 10):
        sys.exit(__doc__)
    jsonl, comparison, figure, unit, better, project_file, anchor_name, anchor_file = sys.argv[1:9]
    goal = float(sys.argv[9]) if len(sys.argv) == 10 and sys.argv[9] else None
    row = {
        "comparison": comparison,
        "figure": figure,
        "unit": unit,
        "higher_is_better": better == "higher",
        "project": numbers(project_file),
        "anchor_name": anchor_name,
        "anchor": numbers(anchor_file),
        "goal_ratio": goal,
    }
    os.makedirs(os.path.dirname(os.path.abspath(jsonl)), exist_ok=True)
    with open(jsonl, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(describe(row), flush=True)


if __name__ == "__main__":
    main()
