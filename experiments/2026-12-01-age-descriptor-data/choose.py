"""Issue 15, the opt-in age descriptor head: how much of UTKFace's train part it learns from, and
whether balanced sampling by age band keeps the extremes from being pulled to the middle. Chosen
on a tune part of the train part; the val part is not read here.

    PYTHONPATH=. python -m lnet_anet.cli.fit_descriptor_head --target age --cache runs/age-desc/utk-train-all.npz \
        --out runs/age-desc/all.safetensors            # the cache: every train chip's descriptor and ANet feature
    PYTHONPATH=. python experiments/2026-12-01-age-descriptor-data/choose.py --cache runs/age-desc/utk-train-all.npz \
        --out experiments/2026-12-01-age-descriptor-data/choose.json

Tune part: the train chips in fold 1 of 5 (lnet_anet.data.readers.age.fold_of, seed 1: by file
name, disjoint); the heads learn from the other 4 folds (the fit part). Per tune chip the
Predictor's age (the bundle's, end to end on the chip as shipped) is what the head's expectation
is mixed with (weight 0.5, as shipped). Candidates, each DescriptorHead.fit as shipped (joint
input, 60 epochs, seed 0):
- "6000": a seeded sample of 6,000 fit chips (the shipped head's recipe);
- "all": every fit chip;
- "all, balanced": every fit chip, each age band's chips repeated until every band has about
  as many as the largest (bands 0-12, 13-29, 30-44, 45-59, 60+).
Figures on the tune chips: MAE, and by band MAE and bias, of the mixed age and of the head alone.
"""

import json
import sys
from pathlib import Path

import numpy as np

from lnet_anet.dldl.descriptor import DescriptorHead, joined_inputs

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_part import BANDS, arguments, fit_sample, tune_part  # noqa: E402

args = arguments()
part = tune_part(args.cache, args.root)
x = joined_inputs(part.outputs, part.features)
y, tune, band, bundle_age, scored, figures = part.y, part.tune, part.band, part.bundle_age, part.scored, part.figures

fit_rows = np.flatnonzero(~tune)
sample = fit_sample(tune)
counts = np.bincount(band[fit_rows], minlength=len(BANDS))
balanced = np.concatenate([np.resize(fit_rows[band[fit_rows] == k], counts.max()) for k in range(len(BANDS))])
record = {"fit_chips": int(len(fit_rows)), "tune_chips": int(tune.sum()), "tune_scored": int(scored.sum()),
          "fit_band_counts": counts.tolist(), "bundle alone": figures(bundle_age)}  # fmt: skip
print("bundle alone", record["bundle alone"], flush=True)
for name, rows in (("6000", sample), ("all", fit_rows), ("all, balanced", balanced)):
    head = DescriptorHead.fit(x[rows], y[rows], target="age")
    alone = head.regress(x)
    mixed = np.clip(0.5 * bundle_age + 0.5 * alone, 0, 116)
    record[name] = {"rows": int(len(rows)), "mixed": figures(mixed), "head alone": figures(alone)}
    print(name, record[name], flush=True)
args.out.write_text(json.dumps(record, indent=2) + "\n")
