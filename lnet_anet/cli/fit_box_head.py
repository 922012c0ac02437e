"""Fit the box head that places face boxes from ANet's feature (lnet_anet.inference.box_head).

    python -m lnet_anet.cli.fit_box_head --labels wider_face_split/wider_face_train_bbx_gt.txt \\
        [--images DIR] [--part tune] [--min-height 24] [--alpha A] [--shrink 0.5] \\
        [--invariance 1] [--views 2] [--seed 0] [--hidden 0] [--jitter 0] \\
        [--more-labels faces.csv --more-jitter 0] [--bundle B] --out box_head.safetensors

WIDER FACE's box labels (`*_bbx_gt.txt`) of the photos of one part (hash_part: "tune", the 70%
the benchmarks never score; "all": every photo). Every candidate the localizer finds in a photo
(opened: Predictor.candidates) whose fixed face box (Localizer.face_box) has its centre in exactly
one labelled face that counts (not invalid, at least --min-height pixels high) is a pair: that
face is where the box head should put it. The head is a ridge regression (--alpha) whose
correction is applied at --shrink. With --invariance > 0 it is also taught to ignore the exposure:
each photo is read again in --views exposure views (brighter or darker, gray, re-saved as JPEG;
lnet_anet.data.transforms.exposure_view, drawn with --seed), and the change of ANet's feature of
each candidate's region between the photo and a view is penalised (BoxHead.fit). --jitter K adds K
jittered face boxes around every face that counts (box_head.jittered_boxes: the region each maps
back to, read by ANet), as in the bounding-box regression of R-CNN and MTCNN. --more-labels adds
the photos of a box CSV (`path,x0,y0,x1,y1`, e.g. benchmarks/make_face_grids.py's faces.csv of
train-partition faces), all of them, with their candidates and --more-jitter jittered boxes per
face (no exposure views). --hidden H > 0 fits a regression with one hidden layer of H units
instead of the ridge (--alpha is then its L2 penalty; the exposure views become pairs of their
own). The opt-in head `predict --box-head mlp` was fitted so: experiments/2026-12-05-box-head-v2. LNet and ANet
never see a box; the head is tied to the bundle's ANet; a bundle uses it when its
preprocessing.lnet.refine_boxes is true (build_bundle --lnet-input '{"refine_boxes": true}').
Unreadable photos are reported and skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    add_replace_shipped,
    add_wider_label_options,
    float_in,
    int_in,
    output_file,
    stops_on_interrupt,
)
from lnet_anet.cli.head_fitting import load_predictor, refuse_head_output, save_head
from lnet_anet.data.errors import DatasetFormatError
from lnet_anet.data.images import load_image
from lnet_anet.data.readers.detection import hash_part, mark_small, read_box_csv, read_wider_txt
from lnet_anet.inference.box_head import DEFAULT_BOX_HEAD, BoxHead, jittered_boxes
from lnet_anet.inference.shipped import DEFAULT_BUNDLE

PRINTED = """It prints one JSON line: out, digest (what the records of photos read with this head say
under "box_head"), pairs (candidates centred on exactly one labelled face: the regression's
examples, jittered boxes and --more-labels' photos included), feature_changes and invariance (the
ridge: the region / exposure-view changes its correction learnt to ignore; with --invariance > 0)
or view_pairs (with --hidden: those views as pairs of their own), views and seed, hidden and
epochs (with --hidden), more_photos and more_skipped (with --more-labels), in_sample (the median IoU and the share at IoU
0.5 of the fixed and of the head's boxes on those same pairs: a check that the fit worked, not a
score; score a head on photos it never saw with benchmarks/bench_detection.py --box-head)."""
EXIT_STATUS = """exit status: 0 the head was written; 1 the fit could not be done (the labels or --more-labels
not readable as boxes, the bundle missing or bad, too few pairs to fit) or the output cannot be
written: one error line, nothing written; 2 bad usage (an unknown option, a bad value), a labels
file missing, or an --out that is an input, an existing file that is not a .safetensors head, or in
the package's shipped assets without --replace-shipped; 130 interrupted (nothing written)"""
MIN_GOOD_PAIRS = 100  # fewer: a warning (the ridge has ANet's feature dimension + 2 inputs)
ALPHA = {"ridge": 1000.0, "mlp": 0.001}  # --alpha's default: the shipped head's and the opt-in MLP head's


def labelled_pairs(boxes: np.ndarray, truth: np.ndarray, dont_care: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which face boxes (N, 4) have their centre in exactly one labelled face (G, 4) and that face
    counts (dont_care False): (mask (N,), the face of each, (N, 4); rows of the others are 0)."""
    targets, keep = np.zeros_like(boxes, dtype=np.float64), np.zeros(len(boxes), bool)
    for k, b in enumerate(boxes):
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        inside = (truth[:, 0] <= cx) & (cx < truth[:, 2]) & (truth[:, 1] <= cy) & (cy < truth[:, 3])
        if inside.sum() == 1 and not dont_care[inside][0]:
            targets[k], keep[k] = truth[inside][0], True
    return keep, targets


class Pairs:
    """The (fixed face box, ANet feature of its region, labelled face box) triples gathered photo
    by photo, and the exposure-view feature changes of the candidates (change_of: the pair of
    each, -1 for a candidate on no face that counts)."""

    def __init__(self) -> None:
        self.boxes: list[np.ndarray] = []
        self.features: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []
        self.changes: list[np.ndarray] = []
        self.change_of: list[np.ndarray] = []
        self.count = 0

    def _append(self, boxes: np.ndarray, features: np.ndarray, targets: np.ndarray) -> None:
        self.boxes.append(boxes)
        self.features.append(features)
        self.targets.append(targets)
        self.count += len(boxes)

    def add(self, predictor, path: str, truth, dont_care, views: int, jitter: int, rng: np.random.Generator) -> bool:
        """One photo's pairs: the localizer's candidates centred on exactly one face that counts,
        with `views` exposure views of the photo (their changes), and `jitter` jittered face boxes
        per face that counts. False (reported) when the photo cannot be read."""
        from lnet_anet.data.transforms import exposure_view
        from lnet_anet.inference.predictor import JUDGE_PAD

        try:
            image = load_image(path)
        except Exception as e:  # noqa: BLE001 - one bad file is reported, the others go on
            print(f"fit_box_head: {path}: skipped ({e})", file=sys.stderr)
            return False
        faces, dont_care = np.asarray(truth, np.float64).reshape(-1, 4), np.asarray(dont_care, bool)
        hw = image.shape[:2]
        seen = [exposure_view(image, rng)[1] for _ in range(views)]
        regions, _, found = predictor.candidates(image)
        if len(regions):
            fixed = np.stack([predictor.face_box(r, hw) for r in regions])
            keep, targets = labelled_pairs(fixed, faces, dont_care)
            row_of = np.where(keep, self.count + np.cumsum(keep) - 1, -1)
            self._append(fixed[keep], found[keep], targets[keep])
            # the same regions read in the exposure views: what the correction should ignore
            for view in seen:
                self.changes.append(predictor.anet_features(view, regions, kind="region", pad=JUDGE_PAD) - found)
                self.change_of.append(row_of)
        counted = faces[~dont_care]
        if jitter and len(counted):
            boxes = np.concatenate([jittered_boxes(f, jitter, rng) for f in counted])
            regions = np.stack([predictor.localizer.to_region(b) for b in boxes])
            fixed = np.stack([predictor.face_box(r, hw) for r in regions])
            ok = (fixed[:, 2] - fixed[:, 0] > 2) & (fixed[:, 3] - fixed[:, 1] > 2)  # not clipped away
            if ok.any():
                self._append(fixed[ok], predictor.anet_features(image, regions[ok], kind="region", pad=JUDGE_PAD),
                             np.repeat(counted, jitter, axis=0)[ok])  # fmt: skip
        return True


@stops_on_interrupt("nothing written (the output is written when the fit ends); run the same command again")
def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.fit_box_head", description=__doc__.split("\n\n")[0],
                       epilog=PRINTED + "\n\n" + EXIT_STATUS, formatter_class=DefaultsHelpFormatter)
    add_wider_label_options(ap)
    ap.add_argument("--min-height", type=float_in(1, 1e5), default=24.0, help="faces lower than this many pixels do not count")
    ap.add_argument("--alpha", type=float_in(1e-6, 1e9), default=None,
                    help=f"the regularisation: the ridge's (default {ALPHA['ridge']:g}), or with --hidden the MLP's L2 "
                         f"penalty (default {ALPHA['mlp']:g})")  # fmt: skip
    ap.add_argument("--shrink", type=float_in(0.0, 1.0), default=0.5, help="the share of the predicted correction applied")
    ap.add_argument("--invariance", type=float_in(0.0, 1e9), default=1.0,
                    help="weight of the ridge's penalty on the correction's change with the exposure (0: plain ridge); "
                         "with --hidden, > 0 adds the exposure views as pairs of their own")
    ap.add_argument("--views", type=int_in(1, 10), default=2, help="exposure views per photo (with --invariance > 0)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the exposure views")
    ap.add_argument("--hidden", type=int_in(0, 4096), default=0,
                    help="units of a hidden layer (an MLP; --alpha is then its L2 penalty); 0: the ridge regression")
    ap.add_argument("--jitter", type=int_in(0, 100), default=0,
                    help="jittered face boxes per labelled face added as pairs (sides x exp(N(0, 0.35)), aspect x "
                         "exp(N(0, 0.08)), centre moved N(0, 0.12) of the side, kept inside the face)")  # fmt: skip
    ap.add_argument("--more-labels", type=Path, default=None,
                    help="a box CSV of more photos to learn from, all of them (e.g. make_face_grids.py's faces.csv): "
                         "rows path,x0,y0,x1,y1[,dont_care], header optional, relative paths from the CSV's folder; "
                         "faces under --min-height do not count")  # fmt: skip
    ap.add_argument("--more-jitter", type=int_in(0, 100), default=0,
                    help="jittered boxes per face of --more-labels (as --jitter)")
    ap.add_argument("--limit", type=int_in(1), default=None, help="at most this many photos (the first; default: all)")
    ap.add_argument("--bundle", type=Path, default=None, help=f"model bundle (default: {DEFAULT_BUNDLE.name})")
    ap.add_argument("--out", type=output_file, required=True,
                    help=f"the head's file (the shipped one is {DEFAULT_BOX_HEAD.name}, in lnet_anet/assets)")
    add_replace_shipped(ap)
    ap.add_argument("--threads", type=int_in(1), default=2, help="torch's threads")
    args = ap.parse_args(argv)
    if args.alpha is None:
        args.alpha = ALPHA["mlp" if args.hidden else "ridge"]
    refused = refuse_head_output(args, {"--labels": args.labels, "--more-labels": args.more_labels})
    if refused:
        return refused
    # torch loads once the arguments are good: --help stays instant
    import torch

    from lnet_anet.metrics.detection import paired_iou

    torch.set_num_threads(args.threads)
    try:
        table = read_wider_txt(args.labels, args.images)
    except (OSError, DatasetFormatError) as e:
        print(f"fit_box_head: {e}", file=sys.stderr)
        return 2 if isinstance(e, FileNotFoundError) else 1
    if args.part == "tune":
        table = table[hash_part(table["name"]) == "tune"]
    table = mark_small(table.reset_index(drop=True).iloc[: args.limit], args.min_height)
    try:
        more = mark_small(read_box_csv(args.more_labels), args.min_height) if args.more_labels else table.iloc[:0]
    except (OSError, DatasetFormatError) as e:
        print(f"fit_box_head: --more-labels: {e}", file=sys.stderr)
        return 2 if isinstance(e, FileNotFoundError) else 1
    predictor = load_predictor("fit_box_head", args.bundle)
    if isinstance(predictor, int):
        return predictor
    rng = np.random.default_rng(args.seed)
    views = args.views if args.invariance > 0 else 0
    pairs, skipped = Pairs(), 0
    for path, truth, dont_care in tqdm(list(zip(table["path"], table["boxes"], table["dont_care"], strict=True)),
                                       desc="photos", disable=None):  # fmt: skip
        skipped += not pairs.add(predictor, path, truth, dont_care, views, args.jitter, rng)
    more_skipped = 0
    for path, truth, dont_care in tqdm(list(zip(more["path"], more["boxes"], more["dont_care"], strict=True)),
                                       desc="more photos", disable=None):  # fmt: skip
        more_skipped += not pairs.add(predictor, path, truth, dont_care, 0, args.more_jitter, rng)
    if len(more) and more_skipped == len(more):
        print(f"fit_box_head: --more-labels: none of its {len(more)} photos could be read (each is listed above); are "
              f"the paths in {args.more_labels} right (relative ones start at its folder)?", file=sys.stderr)  # fmt: skip
        return 1
    boxes, features, targets, changes = pairs.boxes, pairs.features, pairs.targets, pairs.changes
    if skipped == len(table):
        print(f"fit_box_head: none of the {len(table)} photos could be read (each is listed above); is the photos' "
              "folder right (--images)?", file=sys.stderr)  # fmt: skip
        return 1
    n_pairs = sum(len(b) for b in boxes)
    if n_pairs < 10:
        print(f"fit_box_head: {n_pairs} candidate(s) centred on a labelled face: too few to fit (10 or more; more photos: "
              "--limit, --part all, --jitter)", file=sys.stderr)  # fmt: skip
        return 1
    if n_pairs < MIN_GOOD_PAIRS:
        inputs = np.concatenate(features).shape[1] + 2
        print(f"fit_box_head: warning: only {n_pairs} pairs for {'an MLP' if args.hidden else 'a ridge'} on {inputs} inputs; the head may not place "
              "boxes better than the fixed face box on other photos (more photos: --limit, --part all)", file=sys.stderr)
    command = " ".join(["python -m lnet_anet.cli.fit_box_head", *(argv if argv is not None else sys.argv[1:])])
    changes, change_of = (np.concatenate(c) for c in (changes, pairs.change_of)) if changes else (None, None)
    if changes is not None and args.hidden:  # an MLP learns the views as pairs: only candidates on a face have one
        changes, change_of = changes[change_of >= 0], change_of[change_of >= 0]
    head = BoxHead.fit(np.concatenate(boxes), np.concatenate(features), np.concatenate(targets), alpha=args.alpha,
                       shrink=args.shrink, anet=predictor.bundle.part_digest("anet"),
                       feature_changes=changes, invariance=args.invariance, hidden=args.hidden,
                       change_pairs=change_of, seed=args.seed,
                       info={"labels": str(args.labels), "part": args.part, "photos": len(table), "skipped": skipped,
                             "min_height": args.min_height, "command": command, "jitter": args.jitter,
                             **({"more_labels": str(args.more_labels), "more_photos": len(more),
                                 "more_skipped": more_skipped, "more_jitter": args.more_jitter}
                                if args.more_labels else {}),
                             **({"views": args.views, "seed": args.seed} if changes is not None else {})})  # fmt: skip
    # How much closer the head puts the boxes, on the pairs it learnt from (in-sample: a check that
    # it fitted, not a score; score a bundle with benchmarks/bench_detection.py on photos it did not see)
    fixed, faces = np.concatenate(boxes), np.concatenate(targets)
    moved = head.correct(fixed, np.concatenate(features))
    before, after = (paired_iou(b, faces) for b in (fixed, moved))
    head.info["in_sample"] = {"median_iou_fixed": round(float(np.median(before)), 4),
                              "median_iou_head": round(float(np.median(after)), 4),
                              "iou_0.5_fixed": round(float(np.mean(before >= 0.5)), 4),
                              "iou_0.5_head": round(float(np.mean(after >= 0.5)), 4)}  # fmt: skip
    save_head(head, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
