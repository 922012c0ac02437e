"""Do two bundles give the same records? Boxes, attributes and age (and any other key) of every
face, compared exactly, on the astronaut demo photo and the given images; a key that only the
new bundle fills (e.g. attractiveness) is reported apart.

    python benchmarks/compare_bundles.py OLD.lnetanet NEW.lnetanet [images ...] [--ignore attractiveness]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lnet_anet.cli.arguments import bundle_refusal  # noqa: E402
from lnet_anet.inference.predictor import Predictor  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("old", type=Path)
    p.add_argument("new", type=Path)
    p.add_argument("images", nargs="*", type=Path)
    p.add_argument("--ignore", nargs="*", default=["attractiveness"], help="face keys not compared")
    args = p.parse_args(argv)
    for name, path in (("old", args.old), ("new", args.new)):
        refused = bundle_refusal(name, path)
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            return 2
    from skimage import data

    items = [("astronaut", data.astronaut())] + [(str(i), i) for i in args.images]
    old, new = Predictor.load(args.old), Predictor.load(args.new)
    differ, faces = 0, 0
    for name, item in items:
        a, b = old.predict(item), new.predict(item)
        fa = [{k: v for k, v in f.items() if k not in args.ignore} for f in a["faces"]]
        fb = [{k: v for k, v in f.items() if k not in args.ignore} for f in b["faces"]]
        same = json.dumps(fa, sort_keys=True) == json.dumps(fb, sort_keys=True)
        faces += len(fa)
        differ += not same
        extra = [f.get(k) for f in b["faces"] for k in args.ignore]
        print(f"{'same' if same else 'DIFFERENT'}  {name}: {len(fa)} face(s); new only: {extra}")
    print(f"{len(items)} images, {faces} faces: {differ} image(s) differ")
    return int(differ > 0)


if __name__ == "__main__":
    sys.exit(main())
