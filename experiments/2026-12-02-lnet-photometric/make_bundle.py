"""The embedded bundle with its LNet's weights replaced by a train_lnet run's (same architecture),
every localizer setting, network and head unchanged: the candidates of this record.

    PYTHONPATH=. python experiments/2026-12-02-lnet-photometric/make_bundle.py \
        runs/lnet-photometric-celeba_hq128 runs/lnet-photometric/photometric.lnetanet
    PYTHONPATH=. python experiments/2026-12-02-lnet-photometric/make_bundle.py \
        runs/lnet-photometric-celeba_hq128 runs/lnet-photometric/photometric-scaled.lnetanet --match-threshold

--match-threshold divides the face map by the ratio of the run's threshold to the bundle LNet's,
both fitted by train_lnet's procedure on the same composed tune scenes (localizer.json; the
bundle's provenance), so that the bundle's thresholds and box model, which are in the old map's
units, apply: the face map's filter (the last of the tag filters) and its bias are scaled, and a
ReLU'd map scales with them.
--refit instead takes the localizer numbers that train_lnet fitted for the run's LNet on the composed
tune scenes (threshold, box_level, box_model: the procedure that made the bundle's own), and
scales the two later score constants (localizer.secondary_threshold, lnet.retry_weaker_than) by
the same threshold ratio; every other setting stays the bundle's.

    PYTHONPATH=. python experiments/2026-12-02-lnet-photometric/make_bundle.py \
        runs/lnet-photometric-celeba_hq128 runs/lnet-photometric/photometric-refit.lnetanet --refit
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from lnet_anet.inference.build import _record_build
from lnet_anet.inference.bundle import load_bundle, save_bundle
from lnet_anet.inference.predictor import DEFAULT_BUNDLE


def main(run: str, out: str, *options: str, source: str = str(DEFAULT_BUNDLE)) -> None:
    b = load_bundle(source)
    b.lnet.load_state_dict(load_file(str(Path(run) / "lnet.safetensors")))  # strict: the same architecture
    note = f"LNet weights from {run}"
    if "--match-threshold" in options:
        old = b.config["provenance"]["lnet"]["eval"]["by_response"]["face"]["threshold"]
        new = json.loads((Path(run) / "localizer.json").read_text())["threshold"]
        with torch.no_grad():
            b.lnet.attribute_filters.weight[-1] /= new / old
            b.lnet.attribute_filters.bias[-1] /= new / old
        note += f", its face map divided by {new / old:.4f} (threshold {new:.4f} on the composed tune scenes, the bundle's {old:.4f})"
        print(note)
    parts = {"lnet": b.lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness}
    config = {k: v for k, v in b.config.items() if k != "versions"}
    if "--refit" in options:
        fitted = json.loads((Path(run) / "localizer.json").read_text())
        loc, lnet = config["preprocessing"]["localizer"], config["preprocessing"]["lnet"]
        ratio = fitted["threshold"] / loc["threshold"]
        loc.update({k: fitted[k] for k in ("threshold", "box_level", "box_model")})
        loc["secondary_threshold"] = loc["secondary_threshold"] * ratio
        lnet["retry_weaker_than"] = lnet["retry_weaker_than"] * ratio
        note += (f", the run's threshold, box level and box model, secondary_threshold and retry_weaker_than x "
                 f"{ratio:.4f} ({loc['secondary_threshold']:.3f}, {lnet['retry_weaker_than']:.3f})")
        print(note)
    _record_build(config, source, shlex.join(["python", *sys.argv]), note, replaced=["lnet"])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    save_bundle(out, {k: v for k, v in parts.items() if v is not None}, config)
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
