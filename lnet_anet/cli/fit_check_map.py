"""Give a bundle's LNet a check map learnt from photos with image-level tags (lnet_anet.lnet.check_map).

    python -m lnet_anet.cli.fit_check_map --labels wider_face_split/wider_face_train_bbx_gt.txt \\
        [--images DIR] [--part tune] [--limit N] [--composed 12000] [--composed-data celeba_hq] \\
        [--epochs 4] [--lr 1e-3] [--batch-size 64] [--check-faces 1.0] [--bundle B] [--work runs/check-map] --out B2.lnetanet

WIDER FACE's box labels (`*_bbx_gt.txt`) of the photos of one part (hash_part: "tune", the 70%
the benchmarks never score; "all": every photo). Each photo is tagged "a face"; the same photo with
every labelled face filled with its mean colour (don't-care faces too) is tagged "no face"; with
--composed N, N composed scenes of --composed-data's train faces keep LNet's composed-scene tags
beside them (the shipped recipe: 12,000 of celeba_hq). The boxes choose the pixels to fill; the
network's loss never reads a box. The bundle's LNet is copied, its upper part trained (the lower
part fixed, its maps cached in --work; a killed run resumes from --work/train), and its neck and
face filter become the check map of the LNet written to --out with preprocessing.lnet.check_faces:
the Predictor then drops a face whose region holds no check value >= that
(experiments/2026-12-02-lnet-wild chose 1.0 on tune data for the shipped bundle). Unreadable
photos are reported and skipped. Score the new bundle on photos it never saw:
benchmarks/bench_detection.py --bundle B2 --face-free.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np

from lnet_anet.cli.arguments import (
    CommandParser,
    DefaultsHelpFormatter,
    add_replace_shipped,
    add_wider_label_options,
    float_in,
    int_in,
    output_file,
    refuse_output,
    stops_on_interrupt,
)
from lnet_anet.data import runs_root
from lnet_anet.data.errors import DataNotFoundError, DatasetFormatError
from lnet_anet.data.readers.detection import hash_part, read_wider_txt
from lnet_anet.inference.shipped import DEFAULT_BUNDLE

PRINTED = """It prints one JSON line: out, photos (read), skipped (unreadable), composed (scenes),
ratio (the trained face map's median peak over the photos / the bundle's: its filter was divided
by it so that check values are in the bundle's score units), check_faces."""
EXIT_STATUS = """exit status: 0 the bundle was written; 1 the fit could not be done (the bundle or the
training data missing or bad, too few photos or scenes) or the output cannot be written: one error
line; 2 bad usage (an unknown option, a bad value) or the WIDER labels missing or not readable;
130 interrupted (--work keeps the cached maps and the last checkpoint: the same command resumes)"""


def composed_scenes(data: str, n: int, work: Path):
    """n composed training scenes of the train faces of conf/data/<data> (train_lnet's lnet_cpu
    scenes, lnet_anet.lnet.training.scenes). Raises DataNotFoundError when the data is missing."""
    from hydra import compose, initialize_config_dir

    from lnet_anet.data.from_config import attribute_splits
    from lnet_anet.lnet.training import scenes

    with initialize_config_dir(str(Path(__file__).resolve().parents[1] / "conf"), version_base="1.3"):
        cfg = compose("train_lnet", overrides=[f"data={data}", "experiment=lnet_cpu"])
    names, fit, _, _ = attribute_splits(cfg, work)
    return scenes(cfg, fit, names, False, cfg.train_p_empty, cfg.train.seed + 100, n)


UNTRAINED_SETTINGS = ("out", "threads", "check_faces")  # free to change between runs of one --work folder


@stops_on_interrupt("--work keeps the cached maps and the last checkpoint; the same command resumes from them")
def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.fit_check_map", description=__doc__.split("\n\n")[0],
                       epilog=PRINTED + "\n\n" + EXIT_STATUS, formatter_class=DefaultsHelpFormatter)
    add_wider_label_options(ap)
    ap.add_argument("--limit", type=int_in(1), default=None, help="at most this many photos (the first; default: all)")
    ap.add_argument("--composed", type=int_in(0), default=12000,
                    help="composed scenes of --composed-data's train faces trained beside the photos (0: none)")
    ap.add_argument("--composed-data", default="celeba_hq", help="the lnet_anet/conf/data option the scenes are made of")
    ap.add_argument("--epochs", type=int_in(1, 1000), default=4, help="passes over the tagged photos and scenes")
    ap.add_argument("--lr", type=float_in(1e-7, 1.0), default=1e-3, help="learning rate of the upper part (the Trainer's)")
    ap.add_argument("--batch-size", type=int_in(1), default=64, help="training batch (the Trainer's train.batch_size)")
    ap.add_argument("--check-faces", type=float_in(1e-6, 1e6), default=1.0,
                    help="preprocessing.lnet.check_faces of the new bundle: the least check value a face's region needs")
    ap.add_argument("--bundle", type=Path, default=None, help=f"model bundle (default: {DEFAULT_BUNDLE.name})")
    ap.add_argument("--work", type=Path, default=runs_root() / "check-map",
                    help="cached maps, checkpoints and config.json (a run with other settings needs another folder)")
    ap.add_argument("--out", type=output_file, required=True, help="the new bundle")
    add_replace_shipped(ap)
    ap.add_argument("--threads", type=int_in(1), default=2, help="torch's threads")
    args = ap.parse_args(argv)
    prog = "fit_check_map"
    # before the maps are made: the write would destroy the bundle read, or a file not ours
    if refuse_output(args, {"--bundle": args.bundle or DEFAULT_BUNDLE, "--labels": args.labels}, ".lnetanet"):
        return 2

    import torch

    from lnet_anet.inference.build import add_check_map
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.lnet.check_map import train_check_map, with_check_map

    torch.set_num_threads(args.threads)
    try:
        table = read_wider_txt(args.labels, args.images)
    except (DataNotFoundError, DatasetFormatError, OSError) as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    if args.part == "tune":
        table = table[hash_part(table["name"]) == "tune"].reset_index(drop=True)
    if args.limit:
        table = table.iloc[: args.limit].reset_index(drop=True)
    source = args.bundle or DEFAULT_BUNDLE
    try:
        bundle = load_bundle(source)
    except (FileNotFoundError, ValueError) as e:  # BundleError is a ValueError
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    # what the trained map depends on: not where the bundle goes, the threads, or the bundle's check_faces value
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                if k not in UNTRAINED_SETTINGS} | {"bundle": str(source)}  # fmt: skip
    args.work.mkdir(parents=True, exist_ok=True)
    recorded = args.work / "config.json"
    before = json.loads(recorded.read_text()) if recorded.exists() else settings
    before = {k: v for k, v in before.items() if k not in UNTRAINED_SETTINGS}  # a config.json that kept them
    if before != settings:
        changed = ", ".join(f"{k}: {before.get(k)} -> {settings.get(k)}" for k in sorted(set(before) | set(settings))
                            if before.get(k) != settings.get(k))  # fmt: skip
        print(f"{prog}: {args.work} holds a run with other settings ({changed}; {recorded}); give another --work",
              file=sys.stderr)  # fmt: skip
        return 1
    recorded.write_text(json.dumps(settings, indent=1) + "\n")
    try:
        composed = composed_scenes(args.composed_data, args.composed, args.work) if args.composed else None
    except DataNotFoundError as e:
        print(f"{prog}: --composed-data {args.composed_data}: {e} (or --composed 0)", file=sys.stderr)
        return 1
    pre = bundle.config["preprocessing"]["lnet"]
    boxes = [np.asarray(b, np.float64).reshape(-1, 4) for b in table["boxes"]]
    try:
        state, ratio, read = train_check_map(bundle.lnet, list(table["path"]), boxes, args.work, (pre["mean"], pre["std"]),
                                       composed, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                                       threads=args.threads)  # fmt: skip
    except ValueError as e:
        print(f"{prog}: {args.labels}: {e}", file=sys.stderr)
        return 1
    spec = bundle.config["nets"]["lnet"]
    lnet = with_check_map(bundle.lnet, state, spec["model"], spec.get("kwargs", {}))
    note = f"check map learnt from {len(table)} photos of {args.labels} ({args.part}), {args.composed} composed scenes"
    add_check_map(source, args.out, lnet, args.check_faces, shlex.join(["python -m lnet_anet.cli.fit_check_map", *sys.argv[1:]]),
                  note)  # fmt: skip
    print(json.dumps({"out": str(args.out), "photos": read, "skipped": len(table) - read, "composed": args.composed,
                      "ratio": round(ratio, 4), "check_faces": args.check_faces}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
