"""The bundle this record scores (`mirror.lnetanet`: the embedded bundle with its mirror views
switched on in its config, made by `make_bundle` below) gives the same records as
`Predictor.load(mirror=True)` / `predict --mirror` on the embedded bundle.

    PYTHONPATH=. python experiments/2026-12-02-mirror-views/same_as_option.py runs/mirror/mirror.lnetanet FILE...
    PYTHONPATH=. python experiments/2026-12-02-mirror-views/same_as_option.py --make runs/mirror/mirror.lnetanet
"""

from __future__ import annotations

import copy
import json
import sys

from lnet_anet.inference.build import rebundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor


def make_bundle(out: str) -> None:
    def mirrored(config: dict) -> dict:
        config = copy.deepcopy(config)
        config["preprocessing"]["anet"]["mirror"] = True
        for name in ("age", "attractiveness"):
            config["nets"][name]["kwargs"]["mirror"] = True
        return config

    rebundle(DEFAULT_BUNDLE, out, mirrored)


def main(argv: list[str]) -> int:
    if argv[0] == "--make":
        make_bundle(argv[1])
        return 0
    bundled, option = Predictor.load(argv[0]), Predictor.load(mirror=True)
    same = 0
    for path in argv[1:]:
        a, b = bundled.predict(path), option.predict(path)
        a.pop("image"), b.pop("image")
        same += json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    print(json.dumps({"files": len(argv) - 1, "identical_records": same}))
    return 0 if same == len(argv) - 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
