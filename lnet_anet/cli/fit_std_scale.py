"""Fit a bundle head's std scale end to end: the factor that makes the age (or attractiveness)
std hold the true label within +-1 std for 68.3% of faces, a Gaussian's share, measured through
the Predictor on labelled image files as a user has them.

    python -m lnet_anet.cli.fit_std_scale --bundle my.lnetanet --target age --labels UTKFace_tune/ \\
        [--limit 500] [--out my-calibrated.lnetanet]
    python -m lnet_anet.cli.fit_std_scale --bundle my.lnetanet --target attractiveness --labels tune.csv

--labels: a UTKFace-named folder (ages from the file names; age only) or a CSV with a path column and
the target's (`path,age`: read_age_csv; `path,score` or `path,attractiveness`: read_score_csv). Use
faces the head did not learn from (a tune part of its training data), never those you report
figures on. Each image's strongest face is scored; an image without a face, or unreadable, is
counted and left out. With --out the bundle is written with the head's std scale multiplied by the
fitted factor (inference.build.calibrate_label_head; its prior correction and networks unchanged).
The shipped age head's 0.9 was chosen this way on a tune part (experiments/2026-12-02-age-prior).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    add_replace_shipped,
    refuse_output,
    stops_on_interrupt,
)

GAUSSIAN_WITHIN_1_STD = 0.6827  # P(|x - mu| <= sigma) for a Gaussian
FEW_FACES = 100  # faces under which the fitted factor is reported as unreliable


def fit_factor(errors: np.ndarray, stds: np.ndarray) -> float:
    """The factor f such that |errors| <= f * stds for GAUSSIAN_WITHIN_1_STD of the faces (the
    quantile of |error| / std). errors, stds: (N,) in the label's units, stds > 0. Raises
    ValueError for no face or a std that is not > 0."""
    errors, stds = np.asarray(errors, np.float64), np.asarray(stds, np.float64)
    if not len(errors) or not (stds > 0).all():
        raise ValueError("fit_factor needs at least one face and stds > 0")
    return float(np.quantile(np.abs(errors) / stds, GAUSSIAN_WITHIN_1_STD))


def read_labels(path: Path, target: str):
    """(image paths, labels) of a UTKFace folder or a CSV (module docstring). Raises the readers'
    DataNotFoundError / DatasetFormatError, or ValueError for a folder given for attractiveness."""
    if path.is_dir():
        if target != "age":
            raise ValueError(f"{path}: a folder gives ages (UTKFace's file names); attractiveness needs a CSV "
                             "(path,score)")  # fmt: skip
        from lnet_anet.data.readers.age import read_utkface

        index = read_utkface(path)
    elif target == "age":
        from lnet_anet.data.readers.age import read_age_csv

        index = read_age_csv(path)
    else:
        from lnet_anet.data.readers.attractiveness import read_score_csv

        index = read_score_csv(path)
    return index["path"].tolist(), index[target].to_numpy(np.float64)


@stops_on_interrupt("nothing written (the bundle is written when the fit ends); run the same command again")
def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.fit_std_scale", description=__doc__.split("\n\n")[0],
                       formatter_class=DefaultsHelpFormatter,
                       epilog="exit status: 0 fitted (and written with --out); 1 labels, images or a bundle that "
                              "cannot be used; 2 bad usage (an --out that would replace an input "
                              "or a file that is not a bundle, too)")  # fmt: skip
    ap.add_argument("--bundle", type=Path, default=None, help="the bundle whose head to fit (default: the embedded one)")
    ap.add_argument("--target", choices=("age", "attractiveness"), required=True, help="the head")
    ap.add_argument("--labels", type=Path, required=True, help="a UTKFace-named folder (age) or a CSV of path and label")
    ap.add_argument("--limit", type=int, default=None, help="at most this many images, a seeded sample (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="write the bundle with the fitted std scale here")
    add_replace_shipped(ap)
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        ap.error(f"--limit must be at least 1, got {args.limit}")
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    if args.out is not None:  # refused before the fit, which the write ends
        if refuse_output(args, {"--bundle": args.bundle or DEFAULT_BUNDLE, "--labels": args.labels}, ".lnetanet"):
            return 2
    from tqdm import tqdm

    from lnet_anet.inference.build import calibrate_label_head
    from lnet_anet.inference.bundle import BundleError, read_header
    from lnet_anet.inference.predictor import Predictor

    bundle = args.bundle or DEFAULT_BUNDLE
    try:
        paths, labels = read_labels(args.labels, args.target)
        spec = read_header(bundle)[1]["nets"].get(args.target)
        if spec is None:
            raise ValueError(f"{bundle} has no {args.target} head")
        predictor = Predictor.load(bundle)
    except (OSError, ValueError, BundleError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.limit is not None and args.limit < len(paths):
        keep = np.sort(np.random.default_rng(0).choice(len(paths), args.limit, replace=False))
        paths, labels = [paths[k] for k in keep], labels[keep]
    errors, stds, missed = [], [], 0
    records = predictor.predict_many(paths)
    for label, record in tqdm(zip(labels, records, strict=True), total=len(paths), desc="faces", disable=None):
        head = record["faces"][0].get(args.target) if record["faces"] else None
        if not head:
            missed += 1
            continue
        errors.append(head["mean"] - label)
        stds.append(head["std"])
    if not errors:
        print(f"error: no face with a {args.target} in the {len(paths)} images of {args.labels}", file=sys.stderr)
        return 1
    errors, stds = np.asarray(errors), np.asarray(stds)
    factor = fit_factor(errors, stds)
    old = float(spec.get("std_scale") or 1.0)
    within = float(np.mean(np.abs(errors) <= stds))
    print(f"{len(errors)} faces ({missed} images without one left out): MAE {np.mean(np.abs(errors)):.3f}; within +-1 std "
          f"{within:.3f} as the bundle predicts (std scale {old:g}), {GAUSSIAN_WITHIN_1_STD} with the std x {factor:.3f}: "
          f"std scale {old * factor:.3f}")  # fmt: skip
    if len(errors) < FEW_FACES:
        print(f"note: {len(errors)} faces: the factor is a rough estimate (use {FEW_FACES} or more)", file=sys.stderr)
    if args.out is not None:
        try:
            out = calibrate_label_head(bundle, args.out, args.target, std_scale=round(old * factor, 4),
                                       command=" ".join(["python -m lnet_anet.cli.fit_std_scale", *(argv or sys.argv[1:])]),
                                       note=f"std scale fitted on {len(errors)} faces of {args.labels}")  # fmt: skip
        except (OSError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
