"""Round 3's extra face pictures (RULE.md): 1,500 UTKFace train chips (seed 0) drawn from those
not in the 2,000 tune chips that compare.py and frame_bar.py score (seed 1).

    PYTHONPATH=. python experiments/2026-12-02-frame-rescue/lists.py --out runs/frame-rescue/utk-fit.txt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_end_to_end import data_cfg  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.from_config import build_index, split_of  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    train = split_of(build_index(data_cfg("utkface", datasets_root())), "train")
    scored = set(train.sample(n=2000, random_state=1)["path"])
    rest = train[~train["path"].isin(scored)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(rest.sample(n=args.n, random_state=0)["path"]) + "\n")
    print(f"{args.out}: {args.n} chips of {len(rest)} not scored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
