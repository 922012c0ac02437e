"""`python -m lnet_anet.cli.build_bundle --lnet RUN --anet RUN [--age RUN] [--attractiveness RUN] --out FILE`:
a model bundle from training run folders (the format: lnet_anet.inference.build).

`python -m lnet_anet.cli.build_bundle --from-bundle FILE [--age RUN] [--attractiveness RUN] --out FILE`:
the bundle FILE with those heads added or replaced, every other part unchanged.

`python -m lnet_anet.cli.build_bundle --from-bundle FILE --localizer '{"separation": 0.3}' --lnet-input
'{"zoom_in_scales": [2.0], "zoom_in_below": 96}' --out FILE`: the same networks with some
localizer / LNet input settings replaced (Localizer and LNetInput fields, as JSON); `--crop-pad edge`
fills the face crops outside the picture with its edge pixels instead of black (tight chips read
black as a hat; experiments/2026-12-03-crop-pad).

`python -m lnet_anet.cli.build_bundle --from-bundle FILE --age-prior 0.5 [--age-labels UTKFACE_DIR]
[--age-std-scale 0.9] --out FILE`: the same networks, the age head dividing its training labels'
prior ** 0.5 out of each prediction and/or reporting its std x 0.9
(lnet_anet.inference.build.calibrate_label_head; the labels: UTKFace's train part, without its
20% val part; --age-prior 0 removes the correction, --age-std-scale 1 the scale).

`python -m lnet_anet.cli.build_bundle --from-bundle FILE [--box-head H] [--crowd-box-head H]
[--face-head H] [--upright-head H] --out FILE`: the same bundle with heads of your own (fitted on its
ANet by fit_box_head / fit_face_head / fit_upright) embedded, so that predict and Predictor.load use
them without being given them (lnet_anet.inference.build.embed_heads)."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from lnet_anet.cli.arguments import (
    CommandParser,
    RawDescriptionDefaultsHelpFormatter,
    add_replace_shipped,
    float_in,
    json_object,
    refuse_output,
    stops_on_interrupt,
)
from lnet_anet.data.preprocess import PADS
from lnet_anet.inference.layout import RUN_LAYOUT
from lnet_anet.inference.shipped import DEFAULT_BUNDLE


@stops_on_interrupt("--out is never half written, but may hold the file before or a step of the build; run the same "
                    "command again, which replaces it")
def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandParser(
        prog="python -m lnet_anet.cli.build_bundle",
        description="Assemble a model bundle (.lnetanet) from training run folders, or derive one from a bundle "
                    "(other heads, localizer or LNet input settings, the age head's label-prior correction).",
        epilog="Run folders " + RUN_LAYOUT + "\n\nexit status: 0 the bundle was written (its summary printed; --describe: printed); 1 a run folder, "
               "bundle or setting\nthat cannot be built: one error line, nothing written; 2 bad usage (an unknown "
               "option,\noptions that do not go together, an --out that would replace an input or a file that is "
               "not a bundle); 130 interrupted\n",
        formatter_class=RawDescriptionDefaultsHelpFormatter,
    )
    parser.add_argument("--lnet", type=Path, help="LNet run folder")
    parser.add_argument("--anet", type=Path, help="ANet run folder (with SVMs)")
    parser.add_argument("--from-bundle", type=bundle_file, metavar="FILE",
                        help="start from this bundle ('default': the embedded one, from any folder): add or replace "
                             "only the --age / --attractiveness heads "
                             "and/or its ANet and SVMs (--anet), or change settings (--localizer, --lnet-input, "
                             "--age-input, --crop-pad, --age-prior, --age-std-scale)")
    parser.add_argument("--age", type=Path, help="age (DLDL) run folder, or an ensemble_dldl folder; a bundle's "
                                                 "label-prior correction and std scale go with the net it replaces")
    parser.add_argument("--attractiveness", type=Path, help="attractiveness (DLDL) run folder")
    parser.add_argument("--no-mirror", nargs="+", default=[], choices=("age", "attractiveness"), metavar="HEAD",
                        help="heads (age, attractiveness; given here) trained with the mirror view that predict from "
                             "the crop alone: half their own layers' work per face")  # fmt: skip
    parser.add_argument("--localizer", type=json_object, metavar="JSON",
                        help="with --from-bundle: localizer settings to replace (Localizer fields)")
    parser.add_argument("--lnet-input", type=json_object, metavar="JSON",
                        help="with --from-bundle: LNet input settings to replace (LNetInput fields, e.g. zoom_in_scales)")
    parser.add_argument("--age-input", type=json_object, metavar="JSON",
                        help="with --from-bundle: the age head's input settings to replace (HeadInput fields), e.g. "
                             "'{\"soften\": 2, \"soften_above\": 4350}' (the shipped head's): a crop sharper than 90%% of "
                             "the crops of the net's training chips read with less detail (experiments/2026-12-04-age-gpu)")
    parser.add_argument("--crop-pad", choices=PADS,
                        help="with --from-bundle: how face crops are filled where they leave the picture: black (as "
                             "trained), edge (its edge pixels repeated) or reflect (mirrored); ANet's and the heads' "
                             "crops alike (experiments/2026-12-03-crop-pad)")  # fmt: skip
    parser.add_argument("--age-prior", type=float_in(0.0, 1.0), metavar="STRENGTH",
                        help="with --from-bundle alone: divide the age head's training-label prior ** STRENGTH out "
                             "of its predictions, STRENGTH in [0, 1] (0: no correction; 1: all of the prior; "
                             "experiments/2026-12-02-age-prior)")
    parser.add_argument("--age-labels", type=Path, metavar="DIR_OR_CSV",
                        help="with --age-prior: the ages the age head learnt from: the UTKFace folder whose train "
                             "part it read (default: the datasets root's utkface128/UTKFace), or a CSV with an "
                             "'age' column (a head trained on other data needs one)")
    parser.add_argument("--age-std-scale", type=float_in(0.1, 10.0), metavar="SCALE",
                        help="with --from-bundle alone (or with --age-prior): report the age head's std x SCALE, "
                             "in [0.1, 10] (1: as predicted)")
    for option, fit in (("--box-head", "fit_box_head"), ("--crowd-box-head", "fit_box_head"),
                        ("--face-head", "fit_face_head"), ("--upright-head", "fit_upright")):
        parser.add_argument(option, type=Path, metavar="FILE",
                            help=f"with --from-bundle (and --lnet-input / --localizer, no run folders): embed this head ({fit} --bundle FILE's output, fitted "
                                 "on the bundle's ANet); predict then uses it without being given it")  # fmt: skip
    parser.add_argument("--note", help="with --from-bundle: why the heads were replaced (provenance.built.note)")
    parser.add_argument("--out", type=Path,
                        help="the bundle file to write, its folders made when missing (required: a default would "
                             "overwrite the bundle shipped in the package; its path with --replace-shipped replaces it on purpose)")
    add_replace_shipped(parser)
    parser.add_argument("--describe", type=bundle_file, metavar="FILE",
                        help="print FILE's ('default': the embedded bundle's) summary (its networks, heads and localization steps, as printed after a "
                             "build) and write nothing; alone")
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = parser.parse_args(argv)
        if args.describe is not None:
            if any(v != parser.get_default(k) for k, v in vars(args).items() if k != "describe"):
                parser.error("--describe goes alone")
            return _describe(args.describe)
        if args.out is None:
            parser.error("--out is required: the bundle file to write (--describe FILE prints a bundle's summary)")
        if args.from_bundle is not None and args.lnet:
            parser.error("--from-bundle takes its LNet from the bundle: no --lnet")
        settings = (args.localizer is not None or args.lnet_input is not None or args.crop_pad is not None
                    or args.age_input is not None)  # fmt: skip
        if settings and (args.from_bundle is None or args.age or args.attractiveness or args.anet):
            parser.error("--localizer / --lnet-input / --age-input / --crop-pad go with --from-bundle alone (no run "
                         "folders)")
        prior = args.age_prior is not None or args.age_std_scale is not None
        if prior and (args.from_bundle is None or args.age or args.attractiveness or args.anet or settings):
            parser.error("--age-prior / --age-std-scale go with --from-bundle alone (no run folders or other "
                         "settings)")
        if args.age_labels is not None and args.age_prior is None:
            parser.error("--age-labels goes with --age-prior")
        embed = {name: getattr(args, name) for name in EMBEDDED if getattr(args, name) is not None}
        if embed and (args.from_bundle is None or args.age or args.attractiveness or args.anet or prior):
            parser.error("--box-head / --crowd-box-head / --face-head / --upright-head go with --from-bundle, and "
                         "--lnet-input / --localizer settings, alone: no run folders (--anet drops a bundle's heads: "
                         "build it first, then embed heads fitted on it) and no --age-prior")  # fmt: skip
        if args.from_bundle is not None and not (args.age or args.attractiveness or args.anet or settings or prior or embed):
            parser.error("--from-bundle needs --age, --attractiveness, --anet, --localizer, --lnet-input, --age-input, "
                         "--crop-pad, --age-prior, --age-std-scale and/or a head to embed (--box-head, ...) (--note says "
                         "why they changed; alone it changes nothing: copy the file instead)")
        if args.from_bundle is None and not (args.lnet and args.anet):
            parser.error("give --lnet and --anet run folders, or --from-bundle FILE (e.g. --from-bundle "
                         f"{DEFAULT_BUNDLE} --age RUN: the embedded bundle with your age head)")  # its full path: any folder
        for name in args.no_mirror:
            if getattr(args, name) is None:
                parser.error(f"--no-mirror {name} needs --{name}")
    except SystemExit as e:
        return int(e.code or 0)
    inputs = {"--from-bundle": args.from_bundle, "--age-labels": args.age_labels,
              **{f"--{name.replace('_', '-')}": getattr(args, name) for name in ("lnet", "anet", "age", "attractiveness",
                                                                                  *EMBEDDED)}}  # fmt: skip
    if refuse_output(args, inputs, ".lnetanet"):  # before anything is read: the write would destroy an input, or a file not ours
        return 2
    # imported after the arguments: --help and bad usage answer without loading torch
    from lnet_anet.inference.build import (
        RunFolderError,
        build_from_runs,
        calibrate_label_head,
        embed_heads,
        override_settings,
        replace_heads,
    )
    from lnet_anet.inference.bundle import BundleError

    argv = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "-m", "lnet_anet.cli.build_bundle", *argv])
    try:
        if prior:
            labels = _age_labels(args.age_labels, args.from_bundle) if args.age_prior else None
            out = calibrate_label_head(args.from_bundle, args.out, "age", args.age_prior, labels, args.age_std_scale,
                                       command, args.note)  # fmt: skip
        elif embed or settings:
            from lnet_anet.inference.bundle import head_class

            heads = {name: head_class(name).load(path) for name, path in embed.items()}  # a bad file: nothing written
            source = args.from_bundle
            if settings:
                lnet_input, turned_off = _with_dependents_off(source, args.lnet_input)
                out = source = override_settings(source, args.out, args.localizer, lnet_input, command, args.note,
                                                 crop_pad=args.crop_pad, age_input=args.age_input)  # fmt: skip
                if turned_off:  # said once the settings built: a refused build turns nothing off
                    print(f"note: --lnet-input turns off settings that others need; these are turned off with them: "
                          f"{json.dumps(turned_off)}", file=sys.stderr)  # fmt: skip
            if heads:
                try:
                    out = embed_heads(source, args.out, heads, command, args.note)
                except ValueError:
                    if settings:  # the settings' bundle, written first, is not what was asked for
                        Path(args.out).unlink(missing_ok=True)
                    raise
                _note_unused_heads(out, heads)
            _note_unfitted_heads(out)
        elif args.from_bundle is not None:
            out = replace_heads(args.from_bundle, args.out, args.age, args.attractiveness, command, args.no_mirror,
                                args.note, anet=args.anet)  # fmt: skip
            if args.age is not None:
                _note_calibration_left(args.from_bundle, args.out)
            if args.anet is not None:
                _feature_heads_off(args.from_bundle, args.out, command)
        else:
            out = build_from_runs(args.out, args.lnet, args.anet, args.age, args.attractiveness, command,
                                  args.no_mirror)  # fmt: skip
    except BundleError as e:
        if settings and e.path == str(args.out):  # the settings given do not build: say so, not the output file
            given = (("--localizer", args.localizer), ("--lnet-input", args.lnet_input), ("--age-input", args.age_input),
                     ("--crop-pad", args.crop_pad))  # fmt: skip
            names = " / ".join(option for option, value in given if value is not None)  # the ones given
            print(f"error: {names}: {e.message} (nothing written to {args.out})", file=sys.stderr)
        else:
            print(f"error: {e}", file=sys.stderr)
        return 1
    except (RunFolderError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a read-only folder: the temporary file is removed (save_safetensors_atomic)
        if args.out is not None and Path(args.out).is_dir():
            print(f"error: --out {args.out} is a folder; give the bundle file's name, e.g. "
                  f"{Path(args.out) / 'bundle.lnetanet'} (nothing written)", file=sys.stderr)  # fmt: skip
        else:
            print(f"error: {e}", file=sys.stderr)
        return 1
    from lnet_anet.inference.bundle import describe

    print(describe(out))
    return 0


# The bundle's steps that read a head fitted on its ANet's feature (LNetInput settings): with
# another ANet they would read features the head never saw, and Predictor.load refuses them.
# step: (the command that fits its head, the predict option that passes the head); each step's
# "off" value is preprocess.LNET_OFF's
FEATURE_HEAD_STEPS = {"refine_boxes": ("fit_box_head", "--box-head"),
                      "crowd_box_head": ("fit_box_head", "--crowd-box-head"),
                      "rescue_faces": ("fit_face_head", "--face-head"),
                      "rescue_frame": ("fit_face_head --frames", "--face-head"),
                      "verify_faces": ("fit_face_head", "--face-head"),
                      "arbitrate_nested": ("fit_face_head", "--face-head"),
                      "arbitrate_picture": ("fit_face_head", "--face-head")}  # fmt: skip


def _feature_heads_off(source: Path, out: Path, command: str) -> None:
    """With another ANet than `source`'s in `out`, the steps that read the shipped box and face
    heads (fitted on the old ANet's feature) are turned off in `out`, with a note on stderr
    saying how to fit heads on the new ANet and turn them back on. The same ANet (SVMs refitted
    by fit_svms): nothing changes."""
    import os

    from lnet_anet.inference.build import override_settings
    from lnet_anet.inference.bundle import load_bundle

    old, new = load_bundle(source, build_nets=False), load_bundle(out, build_nets=False)
    if old.part_digest("anet") == new.part_digest("anet"):
        return
    lnet = new.preprocessing["lnet"]
    steps = [k for k in FEATURE_HEAD_STEPS if lnet.get(k) not in (None, False)]
    if not steps:
        return
    from lnet_anet.data.preprocess import LNET_OFF, dependents_off

    off = dependents_off(lnet, {k: LNET_OFF[k] for k in steps})  # with the settings that need them
    tmp = out.with_name(f".{out.name}.heads{os.getpid()}")
    override_settings(out, tmp, lnet=off, command=command,
                      note="steps reading heads fitted on the source bundle's ANet turned off")  # fmt: skip
    os.replace(tmp, out)
    fits = sorted({FEATURE_HEAD_STEPS[k][0] for k in steps})
    print(f"note: {', '.join(steps)} turned off in {out}: they read heads fitted on the feature of {source}'s ANet, "
          f"not this one. To have them, fit heads on {out} ("
          + "; ".join(f"python -m lnet_anet.cli.{f} --bundle {out} ..." for f in fits)
          + f") and pass them (predict {' / '.join(sorted({FEATURE_HEAD_STEPS[k][1] for k in steps}))}) or embed them "
          f"(build_bundle --from-bundle {out} --box-head H ...), with the steps turned back on: "
          f"build_bundle --from-bundle {out} --lnet-input '{json.dumps({k: lnet[k] for k in off if k in lnet})}'. "
          f"--rotations reads an upright head fitted on the ANet too: python -m lnet_anet.cli.fit_upright --bundle "
          f"{out} ... (predict --upright-head, build_bundle --upright-head)", file=sys.stderr)  # fmt: skip


# build_bundle's options that embed a head (their argparse dest: lnet_anet.inference.bundle.HEAD_PARTS names)
EMBEDDED = ("box_head", "crowd_box_head", "face_head", "upright_head")


def _describe(path: Path) -> int:
    """build_bundle --describe: the bundle's summary (bundle.describe), or one error line."""
    from lnet_anet.inference.bundle import BundleError, describe

    try:
        print(describe(path))
    except (BundleError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _with_dependents_off(source: Path, lnet_input: dict | None) -> tuple[dict | None, dict]:
    """--lnet-input with the settings that need one it turns off turned off too
    (preprocess.dependents_off; null is each step's off), and those added, for the caller's note:
    rescue_faces null takes the frame try, the face filter and the arbiter with it (a fresh-user
    trial found the README's commands refused one dependent setting at a time)."""
    if not lnet_input:
        return lnet_input, {}
    from lnet_anet.data.preprocess import dependents_off
    from lnet_anet.inference.bundle import read_header

    full = dependents_off(read_header(source)[1]["preprocessing"]["lnet"], lnet_input)
    return full, {k: v for k, v in full.items() if k not in lnet_input}


def _note_unused_heads(out: Path, heads: dict) -> None:
    """A note on stderr for each head embedded in `out` whose step is off there (it sits unused
    until the step is turned on)."""
    from lnet_anet.inference.bundle import load_bundle

    lnet = load_bundle(out, build_nets=False).preprocessing["lnet"]
    needs = {"box_head": ("refine_boxes", "true"), "crowd_box_head": ("crowd_box_head", "2"),
             "face_head": ("rescue_faces", "[0.0, 0.7]")}  # upright_head: predict --rotations, not a setting
    for name in heads:
        step, value = needs.get(name, (None, None))
        if step is not None and lnet.get(step) in (None, False):
            print(f"note: the embedded {name.replace('_', ' ')} is not used: {step} is off in {out} (turn it on: "
                  f"build_bundle --from-bundle {out} --lnet-input '{{\"{step}\": {value}}}' --out ...)", file=sys.stderr)


def _note_unfitted_heads(out: Path) -> None:
    """A note on stderr when `out` turns on steps that read a shipped head (FEATURE_HEAD_STEPS)
    fitted on another ANet's feature than `out`'s: Predictor.load refuses the bundle unless a head
    fitted on it is given (predict --box-head / --crowd-box-head / --face-head) or embedded in it
    (a fresh-user trial turned refine_boxes back on, then every predict failed)."""
    from lnet_anet.inference.box_head import BoxHead
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.face_head import FaceHead
    from lnet_anet.inference.predictor import CROWD_BOX_HEAD

    bundle = load_bundle(out, build_nets=False)
    lnet = bundle.preprocessing["lnet"]
    on = [step for step in FEATURE_HEAD_STEPS if lnet.get(step) not in (None, False)]
    # the head each option passes, as Predictor.load takes by default: the bundle's embedded one, else the shipped one
    shipped = {"--box-head": lambda: bundle.head("box_head") or BoxHead.load(),
               "--crowd-box-head": lambda: bundle.head("crowd_box_head") or BoxHead.load(CROWD_BOX_HEAD),
               "--face-head": lambda: bundle.head("face_head") or FaceHead.load()}  # fmt: skip
    options = {FEATURE_HEAD_STEPS[step][1] for step in on}
    unfitted = {option for option in options if not shipped[option]().fits(bundle)}
    steps = [step for step in on if FEATURE_HEAD_STEPS[step][1] in unfitted]
    if steps:
        fits = sorted({FEATURE_HEAD_STEPS[step][0] for step in steps})
        print(f"note: {out} has {', '.join(steps)} on, which read shipped heads fitted on another ANet's feature than "
              f"this bundle's: predict refuses it unless given heads fitted on it ("
              + "; ".join(f"python -m lnet_anet.cli.{f} --bundle {out} ..." for f in fits)
              + f"; then predict {' / '.join(f'{o} H' for o in sorted(unfitted))}, or embed them: build_bundle "
              f"--from-bundle {out} {' '.join(f'{o} H' for o in sorted(unfitted))} --out B), or turn them off with --lnet-input",
              file=sys.stderr)  # fmt: skip


def _note_calibration_left(source: Path, out: Path) -> None:
    """Notes on stderr when the age head replaced in `source` had a crop softening, a label-prior
    correction or a std scale: they were chosen for that net, so the new one is written without
    them (its crop settings come from its run's preprocess.json)."""
    from lnet_anet.inference.bundle import read_header

    config = read_header(source)[1]
    old = config["nets"].get("age") or {}
    soften = {k: v for k, v in (config["preprocessing"].get("age") or {}).items() if k in ("soften", "soften_above")}
    if soften:
        print(f"note: the replaced age net's input settings {json.dumps(soften)} are not carried over; if the new "
              f"net needs them: python -m lnet_anet.cli.build_bundle --from-bundle {out} "
              f"--age-input '{json.dumps(soften)}' --out FILE", file=sys.stderr)  # fmt: skip
    strength = (old.get("prior_correction") or {}).get("strength")
    scale = old.get("std_scale")
    if strength is None and scale is None:
        return
    was = " and ".join(x for x in (f"label-prior correction {strength:g}" if strength is not None else "",
                                   f"std scale {scale:g}" if scale is not None else "") if x)  # fmt: skip
    print(f"note: the replaced age net's {was} are not carried over (they were chosen for it); choose them for "
          f"the new net on a tune part (experiments/2026-12-02-age-prior) and add them with: python -m "
          f"lnet_anet.cli.build_bundle --from-bundle {out} --age-prior STRENGTH --age-std-scale SCALE --out FILE",
          file=sys.stderr)  # fmt: skip


def _age_labels(folder: Path | None, bundle: Path):
    """The ages the bundle's age head learnt from: a CSV's 'age' column, or UTKFace's train part
    (its 20% val part left out, as the age net's training left it out) in `folder` (None: the
    datasets root's utkface128/UTKFace). Files the reader leaves out are named in one note line.
    Raises FileNotFoundError for no such folder, ValueError for a folder without UTKFace-named
    images, a CSV without an 'age' column, or no `folder` when the head's provenance says it learnt
    from other data than UTKFace (a trial divided UTKFace's prior out of a head trained on its own
    CSV without a word)."""
    import warnings

    import numpy as np
    import pandas as pd

    from lnet_anet.cli.fit_descriptor_head import DEFAULT_ROOTS, training_part
    from lnet_anet.inference.bundle import read_header

    if folder is not None and folder.is_file():
        table = pd.read_csv(folder)
        if "age" not in table.columns:
            raise ValueError(f"{folder}: no 'age' column (columns: {', '.join(map(str, table.columns))}); --age-labels "
                             "takes a CSV of the ages the age head learnt from, or UTKFace's folder")  # fmt: skip
        return pd.to_numeric(table["age"], errors="raise").to_numpy(np.float64)
    data = ((read_header(bundle)[1].get("provenance") or {}).get("age") or {}).get("data") or {}
    learnt = data.get("name")  # data=utkface's config names itself utkface128 (a trial: it was refused)
    if folder is None and learnt is not None and not str(learnt).startswith("utkface"):
        raise ValueError(f"{bundle}: its age head learnt from {learnt!r}, not UTKFace (its provenance), and --age-prior "
                         "divides out the prior of the ages it learnt from: give them with --age-labels FILE.csv "
                         "(an 'age' column, e.g. your training CSV)")  # fmt: skip
    recorded = (data.get("root") or {}).get("folder")
    if folder is None and recorded:  # the UTKFace copy the head learnt from, not the datasets root's
        folder = Path(recorded)
        print(f"note: the prior is read from {folder}, the UTKFace folder the age head learnt from (its provenance)",
              file=sys.stderr)  # fmt: skip
    elif folder is None:
        print(f"note: {bundle}'s age head names no training data (its provenance): the prior is read from "
              f"{DEFAULT_ROOTS['age']}; --age-labels names the ages it learnt from", file=sys.stderr)  # fmt: skip
    root = folder or DEFAULT_ROOTS["age"]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder; pass --age-labels DIR (your copy of UTKFace's images, "
                                "named age_gender_race_date.jpg...) or set LNET_ANET_DATASETS to the datasets root")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ages = training_part("age", root)["age"].to_numpy()
    for w in caught:
        print(f"note: {str(w.message).splitlines()[0]}", file=sys.stderr)
    if not len(ages):
        raise ValueError(f"{root}: no UTKFace-named images (age_gender_race_date.jpg...) in its train part; "
                         "--age-labels takes the folder of UTKFace's images")
    return ages


def bundle_file(value: str) -> Path:
    """A bundle argument: a path, or 'default' for the embedded bundle (the README's
    lnet_anet/assets/default.lnetanet exists only in a checkout; a trial's pip install had no way to name it)."""
    return DEFAULT_BUNDLE if value == "default" else Path(value)


if __name__ == "__main__":
    sys.exit(main())
