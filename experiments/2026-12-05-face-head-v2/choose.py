"""RULE.md's qualification and choice: the v2 head's pass (no filter, then each face-filter
setting) scored against the shipped bundle's pass on the same tune data.

    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/choose.py --shipped runs/face-head-v2/tune-shipped.pkl \\
        --candidate runs/face-head-v2/tune-v2.pkl --out experiments/2026-12-05-face-head-v2/tune/grid.json
    PYTHONPATH=. python experiments/2026-12-05-face-head-v2/choose.py --shipped runs/face-head-v2/tune-shipped.pkl \\
        --candidate runs/face-head-v2/tune-real.pkl --only none --out experiments/2026-12-05-face-head-v2/tune/real.json

Passes are face-filter's collect.py; settings are scored by its simulate.score.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-03-face-filter"))
from simulate import P_MIN, S_HIGH, qualifies, score, write_record  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shipped", type=Path, required=True)
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--only", choices=("none",), default=None, help="none: the candidate's pass as it is")
    ap.add_argument("--p-min", type=float, nargs="+", default=list(P_MIN), help="the grid's p_min values (round 4 adds 0.7)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    shipped = score(pickle.loads(args.shipped.read_bytes()), None, 0.0)
    data = pickle.loads(args.candidate.read_bytes())
    rows = [{"s_high": None, "p_min": None, **score(data, None, 0.0)}]
    if args.only is None:
        rows += [{"s_high": s, "p_min": p, **score(data, s, p)} for s in S_HIGH for p in args.p_min]
    for r in rows:
        r["qualifies"] = qualifies(r, shipped)
    ok = [r for r in rows if r["qualifies"]]
    chosen = None
    if ok:
        best = min(r["false_alarms_held_out"] for r in ok)
        tied = [r for r in ok if r["false_alarms_held_out"] <= best + 0.002]
        # ties: no filter first, then the larger s_high, then the smaller p_min
        chosen = sorted(tied, key=lambda r: (r["s_high"] is not None, -(r["s_high"] or 0), r["p_min"] or 0))[0]
    line = 0.75 * shipped["false_alarms_held_out"]
    record = {"shipped": shipped, "candidate": str(args.candidate), "rows": rows, "qualified": len(ok),
              "chosen": chosen, "false_alarm_line": line,
              "line_1": chosen is not None and chosen["false_alarms_held_out"] <= line}  # fmt: skip
    print("shipped", json.dumps(shipped))
    print("chosen", json.dumps(chosen), "line", line, "->", record["line_1"])
    write_record(args.out, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
