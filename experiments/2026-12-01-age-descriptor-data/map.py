"""Issue 15, the opt-in age descriptor head: does it gain from dlib's last map, as the
attractiveness head did (../2026-12-01-attractiveness-cost, section 9)? Chosen on a tune part of
UTKFace's train part; the val part is not read here.

    PYTHONPATH=. python -m lnet_anet.cli.fit_descriptor_head --target age --limit 9000 --inputs anet+map+descriptor \
        --cache runs/age-map/utk-train-9000-map.npz --out runs/age-map/map-9000.safetensors   # the cache
    PYTHONPATH=. python experiments/2026-12-01-age-descriptor-data/map.py --cache runs/age-map/utk-train-9000-map.npz \
        --out experiments/2026-12-01-age-descriptor-data/map.json

Chips: a seeded sample of 9,000 of the train part (fit_descriptor_head --limit 9000, seed 0), their
descriptor, last map and ANet feature cached. Tune part: those in fold 1 of 5 (fold_of, seed 1, as
choose.py); the heads learn from a seeded sample of 6,000 of the others (the shipped recipe's
size). Per tune chip the Predictor's age (the bundle's, end to end on the chip as shipped) is
mixed 0.5 with the head's expectation (as shipped). Candidates: DescriptorHead.fit as shipped (60
epochs, 1 network, seed 0) on the joint input (ANet's feature + descriptor: the shipped head), and
on the map's input (ANet's feature + the map + the descriptor); also 3 networks of each (seeds 0-2).
"""

import json
import sys
from pathlib import Path

import numpy as np

from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs, network_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_part import arguments, fit_sample, tune_part  # noqa: E402

args = arguments()
part = tune_part(args.cache, args.root)
inputs = {"joint (shipped)": joined_inputs(network_inputs(part.outputs, False), part.features),
          "joint + map": joined_inputs(network_inputs(part.outputs, True), part.features)}
y, tune, bundle_age, scored, figures = part.y, part.tune, part.bundle_age, part.scored, part.figures

sample = fit_sample(tune)
record = {"chips": len(part.names), "fit_rows": int(len(sample)), "tune_chips": int(tune.sum()), "tune_scored": int(scored.sum()),
          "bundle alone": figures(bundle_age)}  # fmt: skip
print("bundle alone", record["bundle alone"], flush=True)
for name, x in inputs.items():
    for members in (1, 3):
        head = DescriptorHead.fit(x[sample], y[sample], target="age", members=members)
        alone = head.regress(x)
        mixed = np.clip(0.5 * bundle_age + 0.5 * alone, 0, 116)
        key = f"{name}, {members} network{'s' if members > 1 else ''}"
        record[key] = {"mixed": figures(mixed), "head alone": figures(alone)}
        print(key, record[key], flush=True)
record["command"] = "python experiments/2026-12-01-age-descriptor-data/map.py --cache " + f"{args.cache} --out {args.out}"
args.out.write_text(json.dumps(record, indent=2) + "\n")
