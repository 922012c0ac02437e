"""How large is a picture's only face region, on the astronaut and WIDER tune photos? (a diagnostic; RULE.md, rule 4)

    PYTHONPATH=. python experiments/2026-12-05-nested-faces/shares.py [--limit 300]

Through the shipped Predictor (bundle threshold): the top face region the final merge keeps, as
a share of the picture's shorter side and of its area, for the astronaut and for the first
--limit WIDER tune photos with exactly one face. Printed only: it set nothing but the reading of
rule 4's PICTURE_PART (a third), which leaves the astronaut's face (a quarter) alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "2026-12-05-settled-box"))
import settle  # noqa: E402

from lnet_anet.data.images import load_image  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402
from lnet_anet.lnet import multiscale  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=300)
    args = ap.parse_args(argv)
    kept = []
    merge = multiscale.merge

    def watched(*a, **k):
        out = merge(*a, **k)
        kept.append(out)
        return out

    multiscale.merge = watched
    predictor = Predictor.load()

    def share(img: np.ndarray):  # (faces, side share, area share) of the top region kept last
        kept.clear()
        n = len(predictor.analyse(img).record["faces"])
        if not kept or not kept[-1]:
            return n, None, None
        h, w = img.shape[:2]
        x0, y0, x1, y1 = kept[-1][0][0]
        return n, min(x1 - x0, y1 - y0) / min(h, w), (x1 - x0) * (y1 - y0) / (h * w)

    from skimage.data import astronaut

    print("astronaut: faces, side share, area share", share(astronaut()))
    _, df, _ = settle.wider_part("tune", args.limit)
    one = [r for r in (share(load_image(p)) for p in df["path"]) if r[0] == 1 and r[1] is not None]
    side, area = np.array([r[1] for r in one]), np.array([r[2] for r in one])
    print(f"WIDER tune: {len(df)} photos, {len(one)} with one face; side share p10-p90",
          np.percentile(side, [10, 25, 50, 75, 90]).round(2), f"area < 0.3: {(area < 0.3).mean():.2f},",
          f"side >= 1/3: {(side >= 1 / 3).mean():.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
