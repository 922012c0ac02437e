"""Does `predict --rotations` read photos upright? End to end through `Predictor` on image files.

    python benchmarks/bench_rotations.py LIST.txt... [--n 200] [--upright-head FILE] \
        [--out experiments/<date>-upright]

Each list (a .txt of image paths, e.g. experiments/2026-12-01-upright/lists.py's val parts) gives
its first --n images. Each image is saved turned by 0, 90, 180 and 270 degrees (np.rot90's k,
counterclockwise; JPEG quality 95, no EXIF orientation: a photo stored sideways) and each file is
read by Predictor(rotations=True) with two rules in the same script:
  upright head  (shipped) the turn whose best face the upright head finds most likely upright
  best score    (the rule before 2026-12-01, a peer) the turn whose best face LNet scores highest
A file is read correctly when its record's "rotation" undoes the turn: 90 * ((4 - k) % 4).
Reports, per list and rule, the share read correctly, by turn and overall, and the share of
files with a face; results.json and results.md under --out.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lnet_anet.engine.runs import machine  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.inference.upright import UprightHead  # noqa: E402


class BestScorePredictor(Predictor):
    """The rule `rotations` used before the upright head: the turn whose best face scores highest
    (the earliest turn on a tie)."""

    def _choose_turns(self, candidates):
        best = [{k: max((s for _, s in faces), default=-math.inf) for k, (_, faces) in c.items()} for c in candidates]
        return [max(sorted(scores), key=lambda k, scores=scores: scores[k]) for scores in best]


def turned_files(paths: list[str], work: Path) -> list[tuple[Path, int]]:
    """Each image saved turned by k = 0..3 quarter turns (JPEG q95): [(file, k)]. An image that
    cannot be read is named on stderr and left out."""
    out = []
    for j, path in enumerate(paths):
        try:
            img = np.asarray(Image.open(path).convert("RGB"))
        except OSError as e:  # missing, truncated, not an image
            print(f"skipped: {path}: {e}", file=sys.stderr)
            continue
        for k in range(4):
            file = work / f"{j:05d}_k{k}.jpg"
            Image.fromarray(np.ascontiguousarray(np.rot90(img, k))).save(file, quality=95)
            out.append((file, k))
    return out


def score(predictor: Predictor, files: list[tuple[Path, int]]) -> dict:
    right, found, by_turn = [], [], {k: [] for k in range(4)}
    t0 = time.perf_counter()
    records = predictor.predict_many([str(f) for f, _ in files], batch_size=4)
    for (_, k), record in zip(files, records, strict=True):
        ok = record.get("rotation") == 90 * ((4 - k) % 4)
        right.append(ok)
        by_turn[k].append(ok)
        found.append(bool(record["faces"]))
    return {"files": len(files), "read_upright": round(float(np.mean(right)), 4),
            "by_turn": {90 * k: round(float(np.mean(v)), 4) for k, v in by_turn.items()},
            "with_a_face": round(float(np.mean(found)), 4),
            "ms_per_file": round(1000 * (time.perf_counter() - t0) / len(files), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python benchmarks/bench_rotations.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("lists", nargs="+", type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--upright-head", type=Path, default=None, help="default: the shipped one")
    ap.add_argument("--turn-bar", type=float, action="append", default=[], metavar="P",
                    help="also the rule 'upright head, bar P': a turn other than the stored one wins only over "
                         "P(upright) P (Predictor.upright_bar); repeatable")
    ap.add_argument("--turn-margin", type=float, action="append", default=[], metavar="M",
                    help="also the rule 'upright head, margin M': over a stored reading with faces, a turn wins only "
                         "by more than M of P(upright) (Predictor.upright_margin); repeatable")
    ap.add_argument("--no-best-score", action="store_true", help="leave out the 'best score' peer rule (time)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    missing = [str(f) for f in args.lists if not f.is_file()]
    if missing:  # before any list is scored: no results lost to the last one
        ap.error(f"no such list file: {', '.join(missing)}")
    torch.set_num_threads(args.threads)
    rules = {"upright head": Predictor.load()}
    if not args.no_best_score:
        rules["best score"] = BestScorePredictor.load()
    for bar in args.turn_bar:
        rules[f"upright head, bar {bar:g}"] = Predictor.load()
        rules[f"upright head, bar {bar:g}"].upright_bar = bar
    for margin in args.turn_margin:
        rules[f"upright head, margin {margin:g}"] = Predictor.load()
        rules[f"upright head, margin {margin:g}"].upright_margin = margin
    for p in rules.values():
        if args.upright_head is not None:
            p.upright_head = UprightHead.load(args.upright_head)
        p.rotations = True
    results = {"command": "python benchmarks/bench_rotations.py " + shlex.join(sys.argv[1:] if argv is None else argv),
               "machine": machine(), "lists": {}}  # fmt: skip
    for path in args.lists:
        paths = [line.strip() for line in path.read_text().splitlines() if line.strip()][: args.n]
        with tempfile.TemporaryDirectory() as work:
            files = turned_files(paths, Path(work))
            results["lists"][path.stem] = {"images": len(files) // 4, "skipped": len(paths) - len(files) // 4,
                                           **{name: score(p, files) for name, p in rules.items()}}  # fmt: skip
        print(path.stem, json.dumps(results["lists"][path.stem]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    lines = ["# `--rotations`: files read upright, end to end through Predictor", "", f"Command: `{results['command']}`", "",
             "| images | rule | read upright | as stored 0 / 90 / 180 / 270 | with a face | ms per file |", "|---|---|---|---|---|---|"]  # fmt: skip
    for name, r in results["lists"].items():
        for rule in rules:
            s = r[rule]
            turns = " / ".join(f"{v:.3f}" for v in s["by_turn"].values())
            lines.append(f"| {name} ({r['images']} x 4 turns) | {rule} | {s['read_upright']:.3f} | {turns} | "
                         f"{s['with_a_face']:.3f} | {s['ms_per_file']} |")  # fmt: skip
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
