"""Fit a bundle's localizer on real photos with face boxes: `python -m lnet_anet.cli.fit_localizer`.

    python -m lnet_anet.cli.fit_localizer --wider ../shared/datasets/wider_face_train \\
        [--bundle lnet_anet/assets/default.lnetanet] --out runs/photo-localizer/bundle.lnetanet

The photos' tune part (lnet_anet.data.readers.detection.hash_part: the same fixed split by file
name that benchmarks/bench_detection.py scores the val part of) sets the scales, the suppression
settings, the box model and the threshold (lnet_anet.lnet.photo_fitting); LNet's weights are
unchanged and never see a box. Faces lower than --min-height pixels are don't-care. The new
bundle's provenance says what was fitted on which boxes; a report (`<out>.fit.json`) goes beside it.

    python -m lnet_anet.cli.fit_localizer --wider ../shared/datasets/wider_face_train --face-box-only \
        --out runs/face-box/bundle.lnetanet

    python -m lnet_anet.cli.fit_localizer --wider ../shared/datasets/wider_face_train --check-map \
        --out runs/check-localizer/bundle.lnetanet

--check-map fits a second localizer on LNet's check map instead (an LNet with check=True and
a bundle that checks faces, preprocessing.lnet.check_faces), on the scale sets the Predictor reads
(default: each set of the bundle's scales and zoom-in scales that holds its first scale). The new
bundle keeps its localizer and scales, and adds the faces that one finds where the localizer found
none (preprocessing.check_localizer, lnet.find_on_check; experiments/2026-12-06-every-face-map).

--face-box-only fits the localizer's face_box alone (photo_fitting.fit_face_box: the face box
WIDER labels, from the region the bundle's localizer finds, as the Predictor finds it); every
other setting, and so every crop the heads read, stays as it is.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import shlex
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    add_replace_shipped,
    int_in,
    json_object,
    output_file,
    positive_float,
    refuse_output,
    stops_on_interrupt,
)

# Tight windows around each peak (box_level) so that neighbours are not merged; box_model None:
# the composed scenes' box model belongs to their box level, and is refitted on the tune faces.
DEFAULT_SEARCH = {"box_level": [0.2, 0.35, 0.5], "min_relative_score": [0.0, 0.3], "min_size": [16],
                  "nms_iou": [0.3], "box_model": [None], "box_scale": [1.0, 1.3]}
DEFAULT_SCALE_SETS = [(1.0,), (1.0, 0.5), (1.0, 1.5), (1.0, 2.0), (0.5, 1.0, 2.0)]
# Tune photos to fit on, at least: the box fits need about 20 faces found inside a labelled box.
ENOUGH_PHOTOS = 60


EXIT_STATUS = """exit status: 0 the bundle and its report were written; 1 the fit could not be done (the WIDER
labels or the bundle missing or bad, no face in the tune part, too few faces found to fit, an output
that cannot be written): one error line, nothing written; 2 bad usage (an unknown option, a bad value,
options the fit would not use, an --out that would replace the
bundle read or a file that is not a bundle); 130 interrupted (nothing written)"""


def build_parser() -> argparse.ArgumentParser:
    p = CommandParser(prog="python -m lnet_anet.cli.fit_localizer", description=__doc__.split("\n")[0],
                      formatter_class=DefaultsHelpFormatter, epilog=EXIT_STATUS)
    p.add_argument("--wider", type=Path, required=True, help="a WIDER FACE folder (wider_face_split/, WIDER_*/images/)")
    p.add_argument("--split", default="train", help="which bbx_gt file: wider_face_<split>_bbx_gt.txt")
    p.add_argument("--bundle", type=Path, default=None, help="default: the embedded bundle")
    p.add_argument("--out", type=output_file, required=True, help="the new bundle")
    add_replace_shipped(p)
    p.add_argument("--min-height", type=float, default=24.0, help="smaller faces are don't-care (pixels)")
    p.add_argument("--fppi", type=positive_float, default=0.1, help="false alarms per tune image at the threshold")
    p.add_argument("--limit", type=int_in(1), default=None,
                   help="at most this many tune photos (the box fits need about 20 faces found inside a labelled "
                        f"box: keep it at {ENOUGH_PHOTOS} or more; default: all)")  # fmt: skip
    p.add_argument("--scales", type=_scale_sets, default=None,
                   help="scale sets to try, ';'-separated lists (default: "
                        f"{';'.join(','.join(map(str, g)) for g in DEFAULT_SCALE_SETS)}, and with --check-map the sets "
                        "the bundle reads)")  # fmt: skip
    p.add_argument("--search", type=_search_grid, default=None,
                   help="Localizer settings to try, as a JSON object of lists of values "
                        f"(default: {json.dumps(DEFAULT_SEARCH)})")
    p.add_argument("--keep-cascade", action="store_true", help="keep the bundle's LNet_s stage (default: drop it)")
    p.add_argument("--check-map", action="store_true",
                   help="fit a localizer on the check map that adds the faces the bundle's localizer misses "
                        "(a bundle that checks faces: preprocessing.lnet.check_faces)")
    p.add_argument("--face-box-only", action="store_true",
                   help="fit the localizer's face_box alone, the bundle's localization unchanged")  # fmt: skip
    return p


def check_scale_sets(lnet_input) -> list[tuple[float, ...]]:
    """--check-map's default scale sets: each set of the scales the Predictor reads every photo at
    and its zoom-in scales that holds the first scale (the check localizer reads the check map only
    where the Predictor read it: multiscale.faces_on_check)."""
    first, others = lnet_input.scales[0], [*lnet_input.scales[1:], *lnet_input.zoom_in_scales]
    return [(first, *chosen) for n in range(len(others) + 1) for chosen in itertools.combinations(others, n)]


def report_path(out: Path) -> Path:
    """The fit's report beside the bundle `out`, named after it (`b.lnetanet.fit.json`), so that two
    bundles fitted into one folder keep their reports."""
    return out.with_name(out.name + ".fit.json")


def _scale_sets(text: str) -> list[tuple[float, ...]]:
    """--scales: ';'-separated lists of ','-separated positive scales."""
    try:
        sets = [tuple(float(v) for v in group.split(",")) for group in text.split(";")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not ';'-separated lists of numbers, e.g. 1.0;1.0,0.5: {text!r}") from None
    if not all(v > 0 and np.isfinite(v) for group in sets for v in group):
        raise argparse.ArgumentTypeError(f"scales must be positive numbers: {text!r}")
    return sets


def _search_grid(text: str) -> dict:
    """--search: a JSON object of Localizer settings, each with a list of values to try."""
    from lnet_anet.lnet.localizer import Localizer

    grid = json_object(text)
    known = {f.name for f in dataclasses.fields(Localizer)}
    unknown = sorted(set(grid) - known)
    if unknown:
        raise argparse.ArgumentTypeError(f"not Localizer settings: {', '.join(unknown)} (they are: {', '.join(sorted(known))})")
    for name, values in grid.items():  # said now, not after minutes of LNet maps
        if not isinstance(values, list) or not values:
            raise argparse.ArgumentTypeError(f"{name}: expected a non-empty list of values to try, e.g. "
                                             f'{{"{name}": [{json.dumps(values)}]}}, got {json.dumps(values)}')  # fmt: skip
        for value in values:
            try:
                Localizer(**{"threshold": 0.0, name: tuple(value) if isinstance(value, list) else value})
            except (TypeError, ValueError) as e:
                raise argparse.ArgumentTypeError(f"{name}: {json.dumps(value)} is not a value it takes ({e})") from None
    return grid


def _readable(photos):
    """The photos whose files can be read; each one that cannot is named on stderr with the reason
    and left out (as bench_detection and fit_box_head do), before any fitting starts."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.data.images import load_image

    keep = []
    for path in tqdm(photos["path"], desc="checking photos", dynamic_ncols=True, disable=None):
        try:
            load_image(path)
            keep.append(True)
        except ImageReadError as e:
            print(f"skipped: {e}", file=sys.stderr)
            keep.append(False)
    return photos[np.array(keep, bool)].reset_index(drop=True)


@stops_on_interrupt("nothing written (the bundle and its report are written when the fit ends); run the same command again")
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # options the chosen fit would ignore: refused, not dropped silently
    ignored = [name for name, on in (("--check-map", args.check_map), ("--scales", args.scales is not None),
                                     ("--search", args.search is not None), ("--keep-cascade", args.keep_cascade)) if on]
    if args.face_box_only and ignored:
        parser.error(f"--face-box-only does not use {', '.join(ignored)}: it fits the face box alone")
    if args.check_map and args.keep_cascade:
        parser.error("--check-map does not use --keep-cascade: it keeps the bundle's localizer and cascade as they are")
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    # before the bundle and photos are read: the write would destroy the bundle fitted, or a file not ours
    if refuse_output(args, {"--bundle": args.bundle or DEFAULT_BUNDLE}, ".lnetanet"):
        return 2
    try:
        return _fit(args, argv)
    except ValueError as e:  # too few photos or faces to fit on, a bad --search grid: one line
        print(f"error: {e}", file=sys.stderr)
        return 1


def _fit(args, argv: list[str] | None) -> int:
    import torch

    from lnet_anet.data.preprocess import LNetInput
    from lnet_anet.data.readers.detection import hash_part, mark_small, n_faces, read_wider_txt
    from lnet_anet.inference.build import rebundle
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE
    from lnet_anet.lnet.photo_fitting import fit_photo_localizer, photo_maps
    from lnet_anet.metrics.detection import truth_from_table

    torch.set_num_threads(max(1, torch.get_num_threads()))
    src = args.bundle or DEFAULT_BUNDLE
    try:  # before the photos are read and checked
        bundle = load_bundle(src)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    lnet_input = LNetInput.from_dict(bundle.preprocessing["lnet"])
    if args.check_map and lnet_input.check_faces is None:
        has_map = bool((bundle.config["nets"]["lnet"].get("kwargs") or {}).get("check"))
        how = (f"its LNet has one: turn the check on with python -m lnet_anet.cli.build_bundle --from-bundle {src} "
               "--lnet-input '{\"check_faces\": 1.0}' --out B" if has_map
               else "its LNet has none: train one with python -m lnet_anet.cli.fit_check_map (README)")
        print(f"error: {src}: --check-map needs a bundle that checks faces on LNet's check map "
              f"(preprocessing.lnet.check_faces is not set); {how}", file=sys.stderr)  # fmt: skip
        return 1
    label = args.wider / "wider_face_split" / f"wider_face_{args.split}_bbx_gt.txt"
    if not label.is_file():
        print(f"error: {label}: not found (is --wider a WIDER FACE folder?)", file=sys.stderr)
        return 1
    table = read_wider_txt(label)
    tune = table[hash_part(table["name"]) == "tune"].reset_index(drop=True)
    tune = mark_small(tune.iloc[: args.limit] if args.limit else tune, args.min_height)
    tune = _readable(tune)
    if not len(tune) or not any(len(b) for b in tune["boxes"]):
        print(f"error: {label}: {len(tune)} of its {len(table)} photos fall in the tune part (hash_part, about 70%), "
              "with no face among them: nothing to fit on; give more photos", file=sys.stderr)  # fmt: skip
        return 1
    if len(tune) < ENOUGH_PHOTOS:  # the user's choice (--limit, a small tree), not refused, but said: the fit may be poor
        more = f" or a --limit of {ENOUGH_PHOTOS} or more" if args.limit is not None and args.limit < ENOUGH_PHOTOS else ""
        print(f"warning: fitting on {len(tune)} tune photos with {n_faces(tune)[0]} faces that count, fewer than the "
              f"{ENOUGH_PHOTOS} photos --help recommends (the box fits need about 20 faces found inside a labelled "
              f"box): the fitted localizer may be poor; give more photos{more}", file=sys.stderr)  # fmt: skip
    command = shlex.join(["python", "-m", "lnet_anet.cli.fit_localizer", *(argv if argv is not None else sys.argv[1:])])
    if args.face_box_only:
        return _fit_face_box(src, tune, label, args.out, command)
    scale_sets = args.scales or (check_scale_sets(lnet_input) if args.check_map else DEFAULT_SCALE_SETS)
    search = args.search or DEFAULT_SEARCH
    # the box model is refitted to the photos' face boxes directly: no face_box on top of it
    base = dataclasses.replace(bundle.localizer(), max_faces=50, max_peaks=100, face_box=None)
    pm = photo_maps(bundle.lnet, lnet_input, list(tune["path"]), sorted({s for g in scale_sets for s in g}),
                    map_key="check" if args.check_map else "response")  # fmt: skip
    localizer, scales, report = fit_photo_localizer(pm, truth_from_table(tune), base, search, scale_sets,
                                                    args.fppi)  # fmt: skip
    settings = json.loads(json.dumps(dataclasses.asdict(localizer)))
    fitted = (f"{'check ' if args.check_map else ''}localizer threshold, min_relative_score, min_size, nms_iou, "
              "scales, box_model; LNet's weights unchanged (image-level tags only)")

    def update(config: dict) -> dict:
        prep = dict(config["preprocessing"])
        if args.check_map:  # a second localizer: the bundle's own and its scale policy stay as they are
            prep["check_localizer"] = {**settings, "scales": list(scales)}
            prep["lnet"] = {**prep["lnet"], "find_on_check": True}
            key, what = "check_localizer", {"map": "check", "fitted_on_boxes": fitted}
        else:
            prep["localizer"] = settings
            # the fitted scale set replaces the bundle's scales, zoom-in rule and fallback (not fitted here)
            kept = {k: v for k, v in prep["lnet"].items() if not k.startswith(("zoom_in", "fallback"))}
            prep["lnet"] = {**kept, "scales": list(scales)}
            if not args.keep_cascade:
                prep.pop("cascade", None)
            key, what = "photo_localizer", {"fitted_on_boxes": fitted, "cascade": "kept" if args.keep_cascade else "dropped"}
        provenance = {**config["provenance"], key: {
            "command": command, "photos": str(label), "tune_photos": len(tune), "split": "hash_part tune (70%)",
            "tune": report["tune"], **what}}  # fmt: skip
        return {**config, "preprocessing": prep, "provenance": provenance}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    report_path(args.out).write_text(json.dumps({"command": command, "scales": scales, "localizer": settings,
                                                          **report}, indent=2, default=float))  # fmt: skip
    rebundle(src, args.out, update)
    t = report["tune"]  # what the provenance records: at the fitted threshold
    whose = "the check localizer alone" if args.check_map else "the localizer alone"
    print(f"{args.out}: scales {list(scales)}; {whose} on the tune photos: AP50 {report['tune_ranking']['ap']:.3f} over "
          f"its whole ranking; at its threshold {localizer.threshold:.3f}: AP50 {t['ap']:.3f}, recall {t['max_recall']:.3f} "
          f"at {args.fppi:g} false alarms per photo. Score the bundle end to end: python benchmarks/bench_detection.py "
          f"--bundle {args.out} --baseline {src}")  # fmt: skip
    return 0


def _fit_face_box(src: Path, tune, label: Path, out: Path, command: str) -> int:
    """--face-box-only: the bundle's regions on the tune photos, the face box fitted to WIDER's
    boxes, tune AP50 before / after in report_path(out), the bundle written with it."""
    from lnet_anet.inference.build import override_settings
    from lnet_anet.inference.predictor import Predictor
    from lnet_anet.lnet.photo_fitting import fit_face_box
    from lnet_anet.metrics.detection import evaluate_detections, truth_from_table

    predictor = Predictor.load(src)
    regions = [list(faces) for faces in tqdm(predictor.locate_many(list(tune["path"]), kind="region"),
                                             total=len(tune), desc="tune photos", dynamic_ncols=True,
                                             disable=None)]  # fmt: skip
    truth = truth_from_table(tune)
    face_box, pairs = fit_face_box(regions, truth)
    fitted = dataclasses.replace(predictor.localizer, face_box=face_box)

    def scored(convert) -> dict:
        dets = [(np.array([convert(b) for b, _ in faces]).reshape(-1, 4), np.array([s for _, s in faces])) for faces in regions]
        return evaluate_detections(dets, truth, bands=None)

    before, after = scored(predictor.localizer.to_face_box), scored(fitted.to_face_box)
    report = {"command": command, "photos": str(label), "tune_photos": len(tune), "pairs": pairs,
              "face_box": face_box, "tune_before": before, "tune_after": after}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    report_path(out).write_text(json.dumps(report, indent=2, default=float))
    override_settings(src, out, localizer={"face_box": list(face_box)}, command=command,
                      note=f"face_box fitted on {len(tune)} WIDER tune photos ({pairs} faces); regions unchanged")  # fmt: skip
    print(f"{out}: face_box {np.round(face_box, 3).tolist()} from {pairs} faces; tune AP50 {before['ap']:.3f} -> "
          f"{after['ap']:.3f}, recall at 0.1 FPPI {before.get('recall_at_0.1_fppi', 0):.3f} -> "
          f"{after.get('recall_at_0.1_fppi', 0):.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
