"""Face boxes, 40 attributes, age and attractiveness from the command line.

    python -m lnet_anet.predict photo.jpg more/photos/          # readable table
    python -m lnet_anet.predict photos/ --json > out.jsonl      # one JSON object per image
    python -m lnet_anet.predict photos/ --output out.jsonl --csv faces.csv   # files
    python -m lnet_anet.predict photos/ --output out.jsonl --resume          # after a kill
    python -m lnet_anet.predict --demo --vis runs/demo          # a public-domain photo
    python -m lnet_anet.predict photos/ --vis vis/ --bundle my.lnetanet --device cuda

Folders are searched recursively, following symlinked folders (each folder once), for every
format Pillow decodes (lnet_anet.data.images.image_suffixes(): .jpg .png .gif .tif .webp .bmp
...); other files and hidden ones (".*"), and this run's --vis folder, are skipped, counted in
the summary line printed on stderr at the end of a run of several images (a folder, or several
files), and named with --verbose (a video as one: lnet_anet.cli.predict_video reads its frames).
Files named on the command line are tried whatever their suffix (a video's error record names
predict_video). Files are read as displayed (EXIF orientation applied; boxes are in
those pixels). With --vis each record names its picture ("vis": DIR/<file name>[_n].png).

Every problem with one image (unreadable, truncated, over --max-pixels, a visualisation that
cannot be written) is that image's error record and the others go on. --output FILE writes
JSON Lines atomically (FILE.part while running, FILE whole at the end); --resume skips the
images FILE (or the FILE.part a killed run left) already has without an error, and refuses
(exit 2) a FILE whose records were read with other options (--mirror, --box-jitter,
--rotations, descriptor heads, --no-rescue, --no-refine-boxes, another --face-head,
--box-head or --crowd-box-head, --threshold, --secondary-threshold, --detail, --arbitrate, --closeups,
--attractiveness-patches) or by
another bundle, before the models load (but for the heads' digests); a number that restates the
run's to 3 or more significant digits (--threshold 0.662 for the shipped bundle's
0.6624905531191163) is read as the run's. --csv FILE: one
row per face (lnet_anet.inference.outputs), and one with empty face columns for an image with no
face or an error, whose last column, "error", says why; with --output, in the output's order.
Exit status (EXIT_STATUS, also in --help): 0 when every image was analysed (or all were
already in --output), 1 when some image could not be read or analysed (its error record says
why; the others are still written) or the run could not be done (the bundle is missing or bad,
an output file cannot be written: what was written so far is kept for --resume), 2 for bad
usage, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lnet_anet.cli.arguments import (
    CommandParser,
    RawDescriptionDefaultsHelpFormatter,
    add_model_options,
    finite_float,
    int_in,
    quiet_closed_stdout,
    stops_on_interrupt,
)
from lnet_anet.dldl.descriptor_settings import INSTALL

DEMO_NAME = "astronaut"  # skimage.data.astronaut(): NASA photo of Eileen Collins, public domain
VIS_STEM_BYTES = 200  # room for "_<n>.png" and the temporary ".<name>.tmp<pid>" in 255 bytes
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")  # --vis naming one of these, not yet there: a picture meant, not a folder
LARGE_PHOTO_PIXELS = 12_000_000  # a photo this large or larger with no face found gets detail_note's hint (a phone's 4000 x 3000)
LARGE_PHOTO_HW = (3000, 4000)  # ... and so does one LNet reads at most as finely as this one: a long strip (8000 x 600)
SMALL_FACE_PX = 40  # README: faces under ~40 px (as LNet reads the photo) are often missed
DETAIL_LARGEST_FACE_PX = 110  # --detail 0.5 keeps regions of at most 96 px of its canvas: faces up to ~110 px of the photo
# --detail 0.35 reads larger faces: 14 of 20 faces of 250 px in 4032 x 3024 val photos, where 0.5 found 12
# (experiments/2026-12-06-detail-confirm, round 2; experiments/2026-12-06-detail-adds-only)
COARSE_DETAIL_LARGEST_FACE_PX = 250
EXIT_STATUS = """\
exit status:
  0    every image was analysed (with or without a face), or all were already in --output
  1    some image could not be read or analysed, or its --vis picture not written: its record
       says why and the other images are still written; also when the run cannot be done: no
       image found, the bundle, a face, box or descriptor head missing or bad, a --device that torch
       cannot use (cuda without a GPU), an output file that cannot be written (what was written is
       kept for --resume), or one that is not a regular file (/dev/stdout, a pipe: use --json) or
       that another run is writing
  2    bad usage: an unknown option or a bad value (--detail out of range ...), no image
       given, --vis naming a file or a folder below one, --output or --csv naming a picture or
       the same file, or an existing file that is not predict's output (a labels CSV: left as it
       is), a --*descriptor-head without its --*-descriptor flag, --upright-head without
       --rotations; --resume into an --output read with other options or another bundle, or
       from another working folder than the run began in (records keep paths as given); an
       --output whose FILE.part holds a stopped run's records, without --resume
  130  interrupted (Ctrl-C, or SIGTERM): rerun with --output FILE --resume to go on
  141  the standard output was closed by its reader (`| head`): stopped quietly"""


def vis_folder_problem(vis: Path) -> str | None:
    """Why `vis` cannot be --vis's folder (an existing file, a picture's name, or a folder that
    cannot be made because a file stands where one of its parent folders would be), or None."""
    if vis.exists() and not vis.is_dir():
        return f"--vis takes a folder: {vis} is a file"
    if not vis.exists() and vis.suffix.lower() in PICTURE_SUFFIXES:
        return f"--vis takes a folder (one picture per image is written into it), not a picture's name: {vis}"
    if not vis.exists():  # said now, not as every image's error once all of them are analysed
        above = next((a for a in vis.parents if a.exists()), None)
        if above is not None and not above.is_dir():
            return f"--vis {vis} cannot be made: {above} is a file, not a folder"
    return None


def _box_head_arg(text: str) -> str | Path:
    """--box-head: a file, or the name of an opt-in head that ships (box_head.NAMED_BOX_HEADS)."""
    from lnet_anet.inference.box_head import NAMED_BOX_HEADS

    return text.lower() if text.lower() in NAMED_BOX_HEADS else Path(text)


def build_parser() -> argparse.ArgumentParser:
    from lnet_anet.data.images import DEFAULT_MAX_PIXELS

    p = CommandParser(
        prog="python -m lnet_anet.predict",
        description="Face boxes, 40 CelebA attributes, age and attractiveness of photos.",
        epilog=EXIT_STATUS,
        formatter_class=RawDescriptionDefaultsHelpFormatter,
    )
    # "--threshold -1e9" is a number, not an option: Python 3.13's rule for negative numbers
    # (argparse before it took only -1 and -1.5 forms).
    p._negative_number_matcher = re.compile(r"^-\.?\d")
    p.add_argument("images", nargs="*", type=Path, help="image files or folders (recursive)")
    p.add_argument("--json", action="store_true", help="JSON Lines on stdout: one per image")
    p.add_argument("--output", type=Path, metavar="FILE.jsonl",
                   help="also write JSON Lines to FILE, atomically (FILE.part while running)")  # fmt: skip
    p.add_argument("--resume", action="store_true",
                   help="skip the images --output FILE (or FILE.part) already has without error (read with the same "
                        "--mirror / --box-jitter / --rotations / descriptor heads / --no-rescue / --no-refine-boxes / "
                        "--face-head / --box-head / --crowd-box-head / --upright-head / --threshold / --secondary-threshold / --detail / --arbitrate / "
                        "--closeups / --attractiveness-patches and the same bundle: another mix is refused, exit 2)")  # fmt: skip
    p.add_argument("--csv", type=Path, metavar="FILE",
                   help="one row per face, for spreadsheets; an image with no face or an error gets one row with "
                        "the face columns empty, its error in the last column")  # fmt: skip
    p.add_argument("--vis", type=Path, metavar="DIR",
                   help="write a PNG per image into the folder DIR (each JSON record's \"vis\" names it)")
    add_model_options(p, "images")
    p.add_argument("--threshold", type=finite_float,
                   help="face score threshold (default: the bundle's); among the candidates (the peaks where "
                        "LNet's response is positive: a picture whose response is nowhere positive has none, "
                        "whatever the threshold) it alone decides the strongest face, i.e. whether the image "
                        "has a face: every further face must also exceed the secondary "
                        "threshold (--secondary-threshold), and with --detail so must the detail pass's faces (in a "
                        "photo where no face passed the localizer, the strongest of them must exceed this one). "
                        "With a bundle that rescues faces (the embedded one), a photo with none above it may "
                        "still get its strongest candidate when the face head vouches for it: --no-rescue "
                        "makes the threshold final")  # fmt: skip
    p.add_argument("--secondary-threshold", type=finite_float, metavar="THRESHOLD",
                   help="the score every face after the strongest must also exceed (default: the bundle's "
                        "secondary threshold, when it has one; often higher than its --threshold). It replaces "
                        "the bundle's lower bars for further faces too (weak faces apart from stronger ones, "
                        "faces in a crowd). A lower value can also split a weak face's region among weaker "
                        "peaks, and the face may go (README)")  # fmt: skip
    p.add_argument("--rotations", action="store_true",
                   help="also try the photo turned by 90, 180 and 270 degrees and keep the turn whose best face "
                        "the upright head finds most likely upright (photos stored sideways without EXIF "
                        "orientation; 4x LNet's work)")  # fmt: skip
    p.add_argument("--upright-head", type=Path, default=None, metavar="FILE",
                   help="with --rotations: an upright head fitted on this bundle (python -m "
                        "lnet_anet.cli.fit_upright; default: the shipped one, for the shipped bundle)")  # fmt: skip
    p.add_argument("--no-rescue", action="store_true",
                   help="do not rescue photos with no face found (the bundle's preprocessing.lnet.rescue_faces: "
                        "their strongest candidate kept when the face head gives it P(face) above the bundle's "
                        "level, then with rescue_frame the whole picture as the face box; the record then says "
                        "\"rescued\": true, and \"frame\": true on a face of the frame try)")  # fmt: skip
    p.add_argument("--face-head", type=Path, default=None, metavar="FILE",
                   help="for a bundle that rescues photos with no face found (preprocessing.lnet.rescue_faces, as "
                        "the embedded one): a face head fitted on this bundle (python -m lnet_anet.cli.fit_face_head, "
                        "with --frames for a bundle with rescue_frame; "
                        "default: the shipped one, for the shipped bundle's ANet; a bundle of your own needs its head "
                        "even with --no-rescue, to load)")  # fmt: skip
    p.add_argument("--box-head", type=_box_head_arg, default=None, metavar="FILE|mlp",
                   help="for a bundle that places its face boxes by ANet's feature (preprocessing.lnet.refine_boxes, "
                        "as the embedded one): a box head fitted on this bundle (python -m lnet_anet.cli.fit_box_head; "
                        "default: the shipped one, for the shipped bundle's ANet; a bundle of your own needs its head "
                        "even with --no-refine-boxes, to load); mlp: the opt-in head that ships beside the default "
                        "(better boxes in crowds, boxes that move more with the exposure; README, 'The box head')")  # fmt: skip
    p.add_argument("--crowd-box-head", type=_box_head_arg, default=None, metavar="FILE|mlp",
                   help="for a bundle that places the faces of crowds by a second box head (preprocessing.lnet."
                        "crowd_box_head, as the embedded one: pictures with 2 or more faces found): a box head "
                        "fitted on this bundle (python -m lnet_anet.cli.fit_box_head; default: the shipped mlp head, "
                        "for the shipped bundle's ANet; README, 'The box head')")  # fmt: skip
    p.add_argument("--no-refine-boxes", action="store_true",
                   help="report the fixed face box (LNet's region by the bundle's four face-box ratios) instead of "
                        "the box head's (preprocessing.lnet.refine_boxes): the box analyse_boxes maps back to the "
                        "region the heads read")  # fmt: skip
    p.add_argument("--arbitrate", choices=("on", "off"), default=None,
                   help="whether the face head judges which of two nested regions is the face (a part of a face "
                        "that fills the picture, such as an eye, read stronger than the whole face), and a "
                        "picture's only face against the whole picture (preprocessing.lnet.arbitrate_nested / "
                        "arbitrate_picture; needs a bundle that rescues faces, for its face head; default: the "
                        "bundle's setting)")  # fmt: skip
    p.add_argument("--detail", type=_detail_ratio, default=None, metavar="RATIO",
                   help="also read large photos at RATIO pixels per photo pixel, in tiles, for small faces "
                        "(0.5 finds faces of ~50-110 px: 14 of 20 100 px faces in composed 6000x4000 photos, ~1.7 s on 2 cores; "
                        "0.35 faces of ~110-250 px: 14 of 20 250 px faces in composed 4032x3024 photos, ~0.8 s; "
                        "default: the bundle's setting, off)")  # fmt: skip
    p.add_argument("--closeups", action="store_true",
                   help="for folders of close-up face crops (dataset chips, ID photos): a picture whose one face "
                        "spans most of it is not read again at the zoom-in scale for smaller faces beside it, "
                        "about half the time per file; a second face cut by the edge beside a close-up can be "
                        "missed (Predictor.lone_skip_share; records say it under \"settings\")")  # fmt: skip
    p.add_argument("--attractiveness-descriptor", action="store_true",
                   help="mix a DLDL-v2 head on dlib's face-recognition network into attractiveness, the bundle's "
                        "head on its centre patch: SCUT-FBP5500 5-fold CV r 0.906 vs 0.877, about 4 ms more per face "
                        "(and ~2.5 s once, loading dlib's models); needs dlib-bin and face_recognition_models "
                        f"({INSTALL})")  # fmt: skip
    p.add_argument("--attractiveness-patches", choices=("grid", "centre"),
                   help="the patches the bundle's attractiveness head scores a face from: its 3 x 3 grid, or the "
                        "centre one alone (a ninth of its branch: about 1.2 ms less per face; head alone r 0.870 vs "
                        "0.877). Default: centre with --attractiveness-descriptor (its figures are measured so), else "
                        "the grid")  # fmt: skip
    p.add_argument("--age-descriptor", action="store_true",
                   help="likewise for age: a DLDL-v2 head on dlib's descriptor and ANet's feature, mixed into the "
                        "age (2,000 UTKFace val chips end to end, both in one script: MAE 5.06 vs 5.54 without it, "
                        "experiments/2026-12-04-age-gpu; the bundle alone reads 5.21 since: README's Results)")  # fmt: skip
    p.add_argument("--age-descriptor-head", type=Path, metavar="FILE",
                   help="with --age-descriptor: this head instead of the shipped one")
    p.add_argument("--descriptor-head", type=Path, metavar="FILE",
                   help="with --attractiveness-descriptor: this head (lnet_anet.cli.fit_descriptor_head) instead "
                        "of the shipped one")  # fmt: skip
    p.add_argument("--mirror", action="store_true",
                   help="read each face's mirror image too and average (ANet's features, the age and attractiveness "
                        "heads): 10-20%% fewer attribute decisions flip when a photo is re-saved or re-exposed, same "
                        "accuracy, about 10-25 ms more per face on 2 CPU cores with the embedded bundle, whose age "
                        "head reads a crop of its own (experiments/2026-12-02-mirror-views, "
                        "experiments/2026-12-04-age-gpu/options-cost.json)")  # fmt: skip
    p.add_argument("--box-jitter", action="store_true",
                   help="read each face through 7 views of its box (shifted 2%% each way, scaled 0.93 and 1.07) and "
                        "average: answers that move less when LNet's box moves, same accuracy, about 75-140 ms more "
                        "per face on 2 CPU cores with the embedded bundle (experiments/2026-12-02-box-jitter, "
                        "experiments/2026-12-04-age-gpu/options-cost.json)")  # fmt: skip
    p.add_argument("--top", type=int_in(1, 1000), default=5,
                   help="present attributes (the bundle's decisions, most probable first) shown per face, in the "
                        "table and the --vis pictures")  # fmt: skip
    p.add_argument("--max-pixels", type=int_in(1, 10**12), default=DEFAULT_MAX_PIXELS,
                   help="largest image decoded, width*height from the header (default 100e6)")  # fmt: skip
    p.add_argument("--verbose", action="store_true", help="name the files a folder scan skipped")
    p.add_argument("--demo", action="store_true",
                   help="also run on skimage.data.astronaut(), a public-domain photo")  # fmt: skip
    return p


class _Notes(logging.Handler):
    """Log records as "note: ..." lines on the current sys.stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr)


def _show_export_notes() -> None:
    """Print the runtime's export notes on stderr, so that a first run's pause while the graphs
    are exported is explained; one handler per process."""
    logger = logging.getLogger("lnet_anet.inference")
    if not any(isinstance(h, _Notes) for h in logger.handlers):
        logger.addHandler(_Notes())
        logger.setLevel(logging.INFO)


# -- finding the images ----------------------------------------------------------------------


@dataclass
class Collected:
    paths: list[Path] = field(default_factory=list)  # to analyse, in order
    skipped: list[str] = field(default_factory=list)  # "path (why)" of what a scan left out
    any_folder: bool = False
    subfolders: list[Path] = field(default_factory=list)  # not searched (scan_folder's recursive=False)


def scan_folder(root: Path, suffixes: frozenset[str], out: Collected, recursive: bool = True,
                skip: Path | None = None) -> None:
    """The files under `root` with an image suffix, sorted, into out.paths; the others into
    out.skipped (videos as such, naming predict_video). Symlinked folders are followed; a folder reached twice (a link loop, two
    links to one folder) is read once (a file reached twice: collect_images). Hidden files and folders (names starting with "."; e.g.
    macOS's "._photo.jpg" resource forks, ".thumbnails/") are skipped, not read: they hold no
    photos of the user's. recursive=False: `root`'s own files only, its (not hidden) sub-folders
    into out.subfolders, sorted. skip: a folder not searched (this run's --vis folder: its
    pictures are this program's, and a second run would read them as photos, a trial)."""
    from lnet_anet.data.video import VIDEO_COMMAND, VIDEO_SUFFIXES

    seen: set[tuple[int, int]] = set()
    found: list[Path] = []

    def unreadable(err: OSError) -> None:
        out.skipped.append(f"{err.filename} (folder cannot be read: {err.strerror})")

    for folder, subfolders, files in os.walk(root, followlinks=True, onerror=unreadable):
        try:
            st = os.stat(folder)
        except OSError:
            subfolders[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            subfolders[:] = []
            out.skipped.append(f"{folder} (folder already scanned through another link)")
            continue
        seen.add((st.st_dev, st.st_ino))
        if skip is not None and os.path.samefile(folder, skip):
            subfolders[:] = []
            out.skipped.append(f"{folder}{VIS_SKIPPED}")
            continue
        for d in [d for d in subfolders if d.startswith(".")]:
            subfolders.remove(d)
            out.skipped.append(f"{Path(folder, d)} (hidden folder)")
        subfolders.sort(key=lambda d: (os.path.islink(os.path.join(folder, d)), d))  # real first
        if not recursive:
            out.subfolders += sorted(Path(folder, d) for d in subfolders)
            subfolders[:] = []
        for name in files:
            path = Path(folder, name)
            if name.startswith("."):
                out.skipped.append(f"{path} (hidden file)")
            elif path.suffix.lower() in suffixes:
                found.append(path)
            elif path.suffix.lower() in VIDEO_SUFFIXES:  # said as one, with the command that reads it
                out.skipped.append(f"{path} (a video: {VIDEO_COMMAND} reads its frames)")
            else:
                out.skipped.append(f"{path} (not an image suffix)")
    out.paths += sorted(found)


def _check_output_files(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """parser.error (exit 2) for --output / --csv naming a picture (a photo is never overwritten:
    `--csv *.jpg` makes the first photo the CSV's name) or the same file."""
    from lnet_anet.data.images import image_suffixes

    given = {p.resolve() for p in args.images if not p.is_dir()}
    for flag, path in (("--output", args.output), ("--csv", args.csv)):
        if path is not None and (path.suffix.lower() in image_suffixes() or path.resolve() in given):
            parser.error(f"{flag} names a picture ({path}); give a new file's name, e.g. out"
                         f"{'.jsonl' if flag == '--output' else '.csv'} (a shell pattern such as {flag} *.jpg makes "
                         "the first photo the file)")  # fmt: skip
    if args.output is not None and args.csv is not None and args.output.resolve() == args.csv.resolve():
        parser.error(f"--output and --csv name the same file ({args.output}): give each its own")


VIS_SKIPPED = " (this run's --vis folder)"  # what out.skipped says of the --vis folder, not searched
# an iPhone's photos: listed even where pillow-heif is missing, so that each says how to read it
HEIF_SUFFIXES = frozenset({".heic", ".heif"})


def collect_images(inputs: Sequence[Path], vis: Path | None = None) -> Collected:
    """Files as given (whatever their suffix: a bad one gets an error record) and the image
    files under each folder, HEIC/HEIF photos among them (read through pillow-heif; where it
    is missing, their error record says how to read them: load_image), but not those in the
    --vis folder `vis` (scan_folder's skip)."""
    from lnet_anet.data.images import image_suffixes

    suffixes = image_suffixes() | HEIF_SUFFIXES
    out = Collected()
    for item in inputs:
        if item.is_dir():
            out.any_folder = True
            before, said = len(out.paths), len(out.skipped)
            scan_folder(item, suffixes, out, skip=vis if vis is not None and vis.is_dir() else None)
            vis_skipped = any(s.endswith(VIS_SKIPPED) for s in out.skipped[said:])
            if len(out.paths) == before and vis_skipped:  # a trial read "no image files" of a folder of photos
                where = "is" if os.path.samefile(item, vis) else "holds"
                print(f"warning: {_safe(str(item))}: no image files outside this run's --vis folder "
                      f"(it {where} {_safe(str(vis))}, whose pictures are not read: they are this program's output); "
                      "give --vis another folder", file=sys.stderr)  # fmt: skip
            elif len(out.paths) == before:
                print(f"warning: {_safe(str(item))}: no image files", file=sys.stderr)
        else:
            out.paths.append(item)
    out.paths = _once(out.paths, out.skipped)
    return out


def _once(paths: list[Path], skipped: list[str]) -> list[Path]:
    """`paths` with each file once (by device and inode: a link beside its target, a file given
    and also found in a given folder, a folder given with its subfolder): the first, or the real
    file over a link to it, kept in the first one's place; the others into `skipped`. A path that
    cannot be read (a broken link) stays, for its error record."""
    kept: list[Path] = []
    where: dict[tuple[int, int], int] = {}  # file -> its index in kept
    left_out: set[Path] = set()  # paths already said to be skipped: a path given and found in a folder is said once
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            kept.append(path)
            continue
        i = where.setdefault((st.st_dev, st.st_ino), len(kept))
        if i == len(kept):
            kept.append(path)
            continue
        first = kept[i]
        if os.path.islink(first) and not os.path.islink(path):  # the real file, not the link, is read
            kept[i], path, first = path, first, path
        if path in left_out:
            continue
        left_out.add(path)
        if os.path.islink(path):
            skipped.append(f"{path} (file already listed through another link)")
        else:
            skipped.append(f"{path} (listed twice)" if path == first else f"{path} (the same file as {first})")
    return kept


def _head_patches(args) -> dict[str, str] | None:
    """Predictor.load's patches: --attractiveness-patches, else with --attractiveness-descriptor
    the centre patch when the bundle's head is on ANet's layers (the descriptor mode's figures
    are measured so: experiments/2026-12-01-attractiveness-cost, section 9)."""
    if args.attractiveness_patches is not None:
        return {"attractiveness": args.attractiveness_patches}
    if not args.attractiveness_descriptor:
        return None
    from lnet_anet.inference.bundle import read_header
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    try:
        nets = read_header(args.bundle or DEFAULT_BUNDLE)[1]["nets"]
    except Exception:  # noqa: BLE001 - Predictor.load reports a missing or bad bundle itself
        return None
    return {"attractiveness": "centre"} if nets.get("attractiveness", {}).get("model") == "anet_dldl" else None


def _load_descriptor_heads(args) -> list[tuple[str, Any, Any]] | None:
    """--attractiveness-descriptor / --age-descriptor: each head (its file's descriptor settings;
    one FaceDescriptor for heads that share them) as (target, its file or None, head), made before
    the bundle is loaded, so that a missing dlib is said first. None (said) on an error."""
    chosen = (("attractiveness", args.attractiveness_descriptor, args.descriptor_head),
              ("age", args.age_descriptor, args.age_descriptor_head))  # fmt: skip
    describers: dict[str, Any] = {}
    heads = []
    for target, on, path in chosen:  # a head file without its flag is a usage error (main)
        if not on:
            continue
        from lnet_anet.dldl.descriptor import DescriptorHead, FaceDescriptor

        try:
            head = DescriptorHead.load(path, target=target)
            key = json.dumps(head.settings, sort_keys=True)
            if key not in describers:
                describers[key] = FaceDescriptor(**head.settings)
            head.describer = describers[key]
        except (FileNotFoundError, ValueError, ImportError) as e:
            print(f"error: --{target}-descriptor: {_safe(str(e))}", file=sys.stderr)
            return None
        heads.append((target, path, head))
    return heads


def _use_descriptor_heads(heads: list[tuple[str, Any, Any]], predictor) -> int:
    """Set the heads of _load_descriptor_heads into the predictor. 1 (said) for a head that does
    not fit its bundle."""
    for target, path, head in heads:
        try:
            predictor.set_descriptor_head(target, head)
        except ValueError as e:  # the head does not fit this bundle: name the file
            print(f"error: --{target}-descriptor: {_safe(str(path or 'the shipped head'))}: {_safe(str(e))}",
                  file=sys.stderr)  # fmt: skip
            return 1
    return 0


# -- output ----------------------------------------------------------------------------------

TABLE_HEADER = "image  box  score  present attributes  age  attractiveness"


def _safe(text: str) -> str:
    from lnet_anet.inference.outputs import printable

    return printable(text)


def _estimate(value: dict | None) -> str:
    return "-" if value is None else f"{value['mean']:.1f}+-{value['std']:.1f}"


def one_line(text: str) -> str:
    """`text` with its control characters escaped (a newline as \\n, ESC as \\x1b), so that a file
    name holding one stays on its table line."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def table_rows(name: str, record: dict[str, Any], top: int) -> list[str]:
    """Readable lines for one image: one per face (its box, score, present attributes: up to
    `top` of the bundle's decisions, most probable first; age; attractiveness), or one saying why
    there is none."""
    from lnet_anet.inference.visualize import attribute_texts
    error = record["error"]
    if error is not None and error.startswith(f"{name}: "):  # the row names the file already
        error = error[len(name) + 2 :]
    name = one_line(name)
    if error is not None:
        return [f"{name}  ERROR  {one_line(error)}"]
    canvas = f"read on a long canvas, {record['canvas'][0]}x{record['canvas'][1]}" if record.get("canvas") else None
    if not record["faces"]:  # the long canvas is then the one hint why (a trial)
        return [f"{name}  no face ({record['width']}x{record['height']}{'; ' + canvas if canvas else ''})"]
    rows = []
    if record.get("rotation"):  # --rotations read the faces at a turn: say which
        name = f"{name} (read turned {record['rotation']} deg ccw)"
    if record.get("exposure") == "stretched":  # found only in the contrast-stretched copy: say so
        name = f"{name} (read with its contrast stretched)"
    if canvas:  # a panorama read on a longer canvas: its faces differ from a letterboxed reading's
        name = f"{name} ({canvas})"
    rescued = [i for i, face in enumerate(record["faces"], 1) if "face_probability" in face]
    if record.get("rescued") and rescued == [1]:  # no face passed the threshold and the check map; the face head vouched for the strongest candidate
        frame = any(face.get("frame") for face in record["faces"])  # or for the whole picture (rescue_frame)
        kept = "the whole picture kept by the face head" if frame else "kept by the face head"
        name = f"{name} (no face passed the localizer; {kept})"
    elif record.get("rescued"):  # --detail added faces to a picture whose face was the rescue's: say which
        name = f"{name} (face {', '.join(map(str, rescued))} kept by the face head)"
    for face in record["faces"]:
        box = "[" + ", ".join(f"{v:.0f}" for v in face["box"]) + "]"
        attrs = ", ".join(attribute_texts(face, top))  # the bundle's decisions ("present"), as the pictures show them
        rows.append(f"{name}  {box}  {face['score']:.3f}  {attrs}  {_estimate(face['age'])}  "
                    f"{_estimate(face['attractiveness'])}")  # fmt: skip
    return rows


def _vis_path(folder: Path, name: str, used: set[str]) -> Path:
    """folder/<file name>.png (photo.jpg -> photo.jpg.png: photo.heic beside it gets its own, in
    any run), numbered when two inputs in different folders share a name; a name longer than
    VIS_STEM_BYTES (encoded) is shortened so that every picture's name fits the usual 255-byte limit."""
    stem = Path(name).name or "image"
    while len(os.fsencode(stem)) > VIS_STEM_BYTES:
        stem = stem[: max(1, len(stem) - max(1, (len(os.fsencode(stem)) - VIS_STEM_BYTES) // 4))]
    candidate, n = stem, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}_{n}"
    used.add(candidate)
    return folder / f"{candidate}.png"


def _emit(text: str) -> None:
    """A table line on stdout; characters the terminal's encoding lacks as escapes (\\xe9), not an error."""
    line = _safe(text)
    encoding = sys.stdout.encoding or "utf-8"
    print(line.encode(encoding, "backslashreplace").decode(encoding), flush=True)


def _detail_ratio(text: str) -> float:
    """--detail's argparse type: a ratio the bundle setting takes (preprocess.DETAIL_RATIO_RANGE),
    refused before the model loads."""
    from lnet_anet.data.preprocess import DETAIL_RATIO_RANGE

    value = finite_float(text)
    low, high = DETAIL_RATIO_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be within [{low:g}, {high:g}] pixels per photo pixel, got {text!r}")
    return value


def read_shrunk(width: int, height: int, setting) -> bool:
    """Whether LNet reads a photo of width x height as coarsely as a 12 MP one or more (setting: the
    bundle's LNetInput): LARGE_PHOTO_PIXELS or more, or a long strip read at most at the reading
    ratio of a LARGE_PHOTO_HW photo (a trial: an 8000 x 600 panorama lost its 13 faces of 450 px
    without the note, though --detail 0.35 found them)."""
    from lnet_anet.lnet.multiscale import reading_ratio

    return (width * height >= LARGE_PHOTO_PIXELS
            or reading_ratio((height, width), setting) <= reading_ratio(LARGE_PHOTO_HW, setting))  # fmt: skip


def detail_note(photos: list[tuple[str, int, int]], lnet: dict[str, Any]) -> str:
    """One stderr note for the (name, width, height) of this run's photos LNet reads shrunk (read_shrunk)
    where no face passed the localizer (no face, or only the rescue's: a trial), --detail off: LNet
    reads a photo that large shrunk (`lnet`: the bundle's preprocessing.lnet), so a face of a few
    hundred pixels can be under SMALL_FACE_PX as read.
    Photos of several sizes get the range of figures over them (a trial: a folder's note gave the
    first photo's figures for every photo)."""
    from lnet_anet.data.preprocess import LNetInput
    from lnet_anet.lnet.multiscale import reading_ratio

    setting = LNetInput.from_dict(lnet)
    ratios = sorted({reading_ratio((height, width), setting) for _, width, height in photos})
    missed = [round(SMALL_FACE_PX / r, -1) for r in reversed(ratios)]  # smallest face first
    largest_missed = max(missed)
    gap = ("" if largest_missed <= COARSE_DETAIL_LARGEST_FACE_PX else
           f"; faces of ~{COARSE_DETAIL_LARGEST_FACE_PX}-{largest_missed:.0f} px are often missed by every reading "
           "(experiments/2026-12-06-detail-levels)")
    name, width, height = photos[0]
    which = f"{len(photos)} photos" if len(photos) > 1 else "1 photo"
    first = "the first: " if len(photos) > 1 else ""
    them = "them" if len(photos) > 1 else "it"
    ratio = f"{ratios[0]:.2g}" if len(ratios) == 1 else f"{ratios[0]:.2g}-{ratios[-1]:.2g}"
    under = f"{missed[0]:.0f}" if len(set(missed)) == 1 else f"{missed[0]:.0f}-{largest_missed:.0f}"
    return (f"note: no face passed the localizer in {which} LNet reads shrunk ({LARGE_PHOTO_PIXELS / 1e6:g} megapixels "
            f"or more, or a long strip; {first}"
            f"{_safe(one_line(name))}, {width}x{height}): LNet reads {them} at ~{ratio} px per pixel, where faces "
            f"under ~{under} px (~{SMALL_FACE_PX} px as read) are often missed; --detail also reads {them} in "
            f"tiles: try --detail 0.5 for faces of about 50-{DETAIL_LARGEST_FACE_PX} px, --detail 0.35 for faces of about "
            f"{DETAIL_LARGEST_FACE_PX}-{COARSE_DETAIL_LARGEST_FACE_PX} px{gap}")


@dataclass
class Tally:
    analysed: int = 0
    no_face: int = 0
    errors: int = 0
    resumed: int = 0
    vis_failed: int = 0  # of the errors: analysed, but the --vis picture could not be written

    def add(self, record: dict[str, Any]) -> None:
        if record["error"] is not None:
            self.errors += 1
        else:
            self.analysed += 1
            self.no_face += not record["faces"]


def summary_line(tally: Tally, skipped: int, verbose: bool, written: Sequence[str] = ()) -> str:
    """The run's one-line summary on stderr; `written`: the files and folder it wrote (--output,
    --csv, --vis), named at its end (a trial looked for where its files went)."""
    line = (f"summary: {tally.analysed} analysed ({tally.no_face} with no face), "
            f"{tally.errors} error{'' if tally.errors == 1 else 's'}, {skipped} skipped")  # fmt: skip
    if skipped and not verbose:
        line += " (--verbose names them)"
    if tally.resumed:
        line += f", {tally.resumed} already in the output (--resume)"
    if written:
        line += f"; written: {', '.join(written)}"
    return line


# -- main ------------------------------------------------------------------------------------


def _foreign_file(flag: str, path: Path) -> str | None:
    """What `path` should hold for predict to replace it, when it holds something else, else None
    (missing, empty, or predict's own). --output: every line one of predict's records (as
    --resume reads it); --csv: predict's header (CSV_FIXED, the attributes, "error", "model", and
    CSV_AFTER since it came), no column more. Trial 88: a labels CSV was replaced, unsaid; trial
    89: a CSV with a column of hand labels added, or JSON Lines whose later lines were another
    program's, passed a first-line check."""
    import csv

    from lnet_anet.inference.outputs import CSV_AFTER, CSV_FIXED, NotARecordLog, read_records

    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        if flag == "--output":
            read_records(path, strict=True)
            return None
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), [])
    except NotARecordLog as e:  # names the file and the line
        return f"JSON Lines output (every line one of its records; {e})"
    except (OSError, UnicodeDecodeError, csv.Error):
        return "CSV" if flag == "--csv" else None  # unreadable as text: not a table predict wrote
    tail = ["error", "model"]
    ours = header[: len(CSV_FIXED)] == CSV_FIXED and (header[-2:] == tail or header[-5:] == [*tail, *CSV_AFTER])
    return None if ours else "CSV (its columns: image, face, x0, ..., the attributes, error, model, width, height, present)"


def _refuse_resume(e: Exception) -> int:
    """--resume on another program's file: said, the file left as it is; bad usage (2)."""
    print(f"error: --resume: {_safe(str(e))}; give predict's --output to resume, or another file", file=sys.stderr)
    return 2


def _csv_not_written(table, log) -> str:
    """Said after "interrupted" for a run with --csv: the table is written whole when a run ends,
    so none was (a fresh-user trial looked for the rows it had seen); with --output, --resume
    writes it."""
    if table is None:
        return ""
    if log is not None:
        return f"; --csv {table.path} is written when a run ends: --resume writes it whole"
    return (f"; --csv {table.path} is written when a run ends, so it was not written (with --output FILE.jsonl "
            "an interrupted run can be resumed, and its table is then written whole)")


def _left_for_resume(log, rest: str) -> str:
    """What a stopped run left for --resume, said after "interrupted" / "output closed": the
    records in the .part log, or that none was written (the empty log was removed)."""
    if log is None:
        return ""
    if not log.part.exists():
        return "; no record was written, so there is nothing to resume: rerun the same command"
    return f"; {log.in_part} record{'' if log.in_part == 1 else 's'} {'is' if log.in_part == 1 else 'are'} in {log.part}: rerun with --resume{rest}"


@stops_on_interrupt()  # before the images are run (torch loading, the bundle read); _run says what is kept after
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        argv = list(sys.argv[1:] if argv is None else argv)
        # after "--" every word is an image (-x.jpg), as in any Unix tool: parse_intermixed_args refused a
        # lone "--" before them (a trial), so they are taken aside and added to the images
        after = argv[argv.index("--") + 1 :] if "--" in argv else []
        before = argv[: len(argv) - len(after) - (1 if "--" in argv else 0)]
        dashed = next((w for w in before if w.startswith("-") and w != "-" and os.path.isfile(w)), None)
        if dashed is not None:  # argparse would call it an unrecognized option
            parser.error(f"{dashed} is a file whose name starts with '-': put it after -- (predict -- {dashed}) or "
                         f"write ./{dashed}")  # fmt: skip
        args = parser.parse_intermixed_args(before)
        args.images = [*args.images, *map(Path, after)]  # images may come after options too: a.jpg --json b.jpg
        if not args.images and not args.demo:
            parser.error("give image files or folders, or --demo")
        if args.resume and args.output is None:
            parser.error("--resume needs --output FILE.jsonl (the file to resume)")
        if args.vis is not None and (problem := vis_folder_problem(args.vis)):
            parser.error(problem)
        _check_output_files(parser, args)
        if args.descriptor_head is not None and not args.attractiveness_descriptor:
            parser.error("--descriptor-head needs --attractiveness-descriptor")
        if args.age_descriptor_head is not None and not args.age_descriptor:
            parser.error("--age-descriptor-head needs --age-descriptor")
        if args.upright_head is not None and not args.rotations:
            parser.error("--upright-head needs --rotations")
    except SystemExit as e:
        return int(e.code or 0)
    collected = collect_images(args.images, args.vis)
    items: list[tuple[str, Any]] = []
    if args.demo:
        from skimage import data

        items.append((DEMO_NAME, data.astronaut()))
    items += [(os.fsdecode(p), p) for p in collected.paths]
    if not items:
        print("error: no images to analyse", file=sys.stderr)
        return 1
    several = collected.any_folder or len(items) > 1  # a progress bar on a terminal, and a summary line

    from lnet_anet.inference.bundle import BundleError
    from lnet_anet.inference.outputs import (
        CsvTable,
        NotARecordLog,
        RecordLog,
        check_resumable,
        csv_lock,
        in_use,
        output_path_problem,
        output_target,
        part_log,
        read_records,
    )
    from lnet_anet.inference.predictor import CLOSEUP_SKIP_SHARE, Predictor

    for flag, path in (("--output", args.output), ("--csv", args.csv)):  # said now, not after the models load
        if path is None:
            continue
        if problem := output_path_problem(path):
            device = flag == "--output" and path.exists() and not path.is_dir()
            hint = " (--json prints the records on standard output)" if device else ""
            print(f"error: cannot write {flag} {_safe(str(path))}: {_safe(problem)}{hint}", file=sys.stderr)
            return 1
        target = output_target(path)  # a link: its file's .part log is the one to check and resume
        # trial 88: a labels CSV was replaced, unsaid (--resume reads --output's lines itself, below)
        resumed = flag == "--output" and args.resume
        if not resumed and (foreign := _foreign_file(flag, target)) is not None:
            print(f"error: {flag} {_safe(str(path))} exists and is not predict's {foreign}: remove it or give "
                  "another file (predict replaces only its own outputs)", file=sys.stderr)  # fmt: skip
            return 2
        if in_use(part_log(target) if flag == "--output" else csv_lock(target)):
            print(f"error: cannot write {flag} {_safe(str(path))}: another run is writing it: wait for it to end, "
                  "or give another file", file=sys.stderr)  # fmt: skip
            return 1
    args.output = output_target(args.output) if args.output is not None else None
    logged = []  # --resume: the records of --output and its .part, read once for the checks below
    if args.resume:  # another program's file, or one read otherwise, is refused now, not after the models load (seconds)
        try:
            check_resumable(args.output)
        except NotARecordLog as e:
            return _refuse_resume(e)
        logged = read_records(args.output) + read_records(part_log(args.output))
        if (mixed := _resume_before_loading(args, logged)) is not None:
            return _refuse_mixed(args.output, mixed)
    if args.output is not None and (problem := _records_at_stake(args, [os.fsdecode(p) for p in collected.paths],
                                                                 logged)):  # fmt: skip
        print(f"error: {_safe(problem)}", file=sys.stderr)
        return 2
    items = _spelled_like([r["image"] for r in logged], items)
    descriptor_heads = _load_descriptor_heads(args)
    if descriptor_heads is None:
        return 1
    _show_export_notes()
    try:
        predictor = Predictor.load(args.bundle, device=args.device, max_pixels=args.max_pixels, backend=args.backend,
                                   patches=_head_patches(args), mirror=True if args.mirror else None,
                                   box_jitter=True if args.box_jitter else None, face_head=args.face_head,
                                   box_head=args.box_head, crowd_box_head=args.crowd_box_head,
                                   upright_head=args.upright_head, rotations=args.rotations)  # fmt: skip
    except (FileNotFoundError, BundleError, RuntimeError, ValueError, ImportError) as e:
        print(f"error: {_safe(str(e))}", file=sys.stderr)
        return 1
    if args.no_rescue:
        predictor.rescue = False
    if args.no_refine_boxes:
        predictor.refine_boxes = False
    if args.threshold is not None:
        predictor.localizer.threshold = args.threshold
    if args.secondary_threshold is not None:  # every face after the best: the bundle's lower bars (weak, crowd) off
        loc = predictor.localizer
        loc.secondary_threshold, loc.weak_threshold, loc.crowd = args.secondary_threshold, None, None
    if args.arbitrate is not None:
        try:
            predictor.arbitrate = args.arbitrate == "on"
        except ValueError as e:
            print(f"error: --arbitrate: {_safe(str(e))}", file=sys.stderr)
            return 1
    if args.closeups:
        try:
            predictor.lone_skip_share = CLOSEUP_SKIP_SHARE
        except ValueError as e:  # a bundle that never reads a lone face again
            print(f"error: --closeups: this bundle never reads a picture's lone face again at the zoom-in scale, so "
                  f"there is nothing to skip ({_safe(str(e))})", file=sys.stderr)  # fmt: skip
            return 1
    if args.detail is not None:
        try:
            predictor.detail_ratio = args.detail
        except ValueError as e:  # a bad value of an option: bad usage, said as argparse says it
            parser.print_usage(sys.stderr)
            print(f"{parser.prog}: error: argument --detail: {str(e).removeprefix('lnet.detail_ratio ')}",
                  file=sys.stderr)  # fmt: skip
            return 2
    if _use_descriptor_heads(descriptor_heads, predictor) != 0:
        return 1
    from PIL import Image

    # --max-pixels is the cap; Pillow's own decompression-bomb check (at twice its limit) must
    # not refuse what it allows.
    Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, args.max_pixels)

    tally, log, table = Tally(), None, None
    flag = "--output"
    try:
        if args.output is not None:
            log = RecordLog(args.output, resume=args.resume)
        flag = "--csv"
        if args.csv is not None:
            table = CsvTable(args.csv, predictor.attributes)
    except NotARecordLog as e:  # written in between by another program: refused, the file left as it is
        return _refuse_resume(e)
    except OSError as e:  # named as the user gave it, not as the temporary file beside it that failed
        path = args.output if flag == "--output" else args.csv
        print(f"error: cannot write {flag} {_safe(str(path))}: {_safe(e.strerror or str(e))}", file=sys.stderr)
        if log is not None:
            log.abandon()
        return 1
    # the heads' digests are known only now; the rest was compared before loading (_resume_before_loading)
    if log is not None and log.done and (mixed := _other_options(log.done.values(), _reading_options_of(predictor),
                                                                 predictor.bundle.preprocessing)):  # fmt: skip
        log.abandon()
        return _refuse_mixed(args.output, mixed)
    if log is not None and log.done:
        kept = [(name, item) for name, item in items if not log.is_done(name)]
        tally.resumed = len(items) - len(kept)
        items = kept
    from lnet_anet.engine.signals import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # a job scheduler's SIGTERM stops it as Ctrl-C does: nothing half-written left
            status = _run(args, predictor, items, several, tally, log, table)
    except KeyboardInterrupt:
        for out in (log, table):
            if out is not None:
                out.abandon()
        print(f"\ninterrupted{_safe(_left_for_resume(log, '') + _csv_not_written(table, log))}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout stopped (`| head`): stop quietly, as a shell tool does
        for out in (log, table):
            if out is not None:
                out.abandon()
        quiet_closed_stdout()
        done = _left_for_resume(log, " for the rest")
        if done:
            print(f"output closed{_safe(done)}", file=sys.stderr)
        return 141  # 128 + SIGPIPE, the status a shell reports for a tool stopped this way
    except OSError as e:  # an output file could not be written (disk full, ...)
        for out in (log, table):
            if out is not None:
                out.abandon()
        kept = f"; the {log.in_part} records written are in {log.part}" if log else ""
        print(f"error: cannot write the output ({_safe(str(e))}){_safe(kept)}; fix it and rerun"
              f"{' with --resume' if log else ''}", file=sys.stderr)  # fmt: skip
        return 1
    try:
        if log is not None:
            log.close()
        if table is not None:
            if log is not None:  # the table lists the output's records, in its order (a resumed image in its place)
                for record in log.records:
                    table.add(record)
            table.close()
    except OSError as e:
        print(f"error: cannot write the output ({_safe(str(e))})", file=sys.stderr)
        return 1
    if several or collected.skipped:  # one image left of several named (a duplicate): its skips said too (a trial)
        if args.verbose:
            for what in collected.skipped:
                print(f"skipped: {_safe(what)}", file=sys.stderr)
        written = [str(path) for path in (args.output, args.csv) if path is not None]
        written += [f"pictures in {args.vis}{os.sep}"] if args.vis is not None else []
        print(_safe(summary_line(tally, len(collected.skipped), args.verbose, written)), file=sys.stderr)
    return status


def _spelled_like(records: list[str | None], items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """--resume: the names of the images, for their records, spelled as the output's `records`
    spell theirs when those agree: absolute, or relative to the working folder. A trial resumed
    `photos/` as `/home/u/photos` and got an output of both spellings. Other records: as given."""
    kinds = {os.path.isabs(r) for r in records if r is not None and r != DEMO_NAME}
    if len(kinds) != 1:
        return items
    spell = os.path.abspath if kinds.pop() else os.path.relpath
    return [(spell(name), Path(spell(name))) if isinstance(item, Path) else (name, item) for name, item in items]


def _records_at_stake(args, names: list[str], logged: list[dict[str, Any]]) -> str | None:
    """Why this run would lose or double records of --output, or None. Without --resume: the
    .part log of a stopped run, which starting over would empty (it said "rerun with --resume").
    With --resume: records that name none of these images by path although some have their file
    names (a fresh-user trial resumed from another working folder: paths are kept as given,
    relative to the folder a run starts in, so every image was analysed and appended again).
    `logged`: with --resume, the records of --output and its .part log."""
    from lnet_anet.inference.outputs import image_key, part_log, read_records

    part = part_log(args.output)
    if not args.resume:
        left = read_records(part)
        return (f"{part} holds {len(left)} records of a run that was stopped: add --resume to go on from them, "
                f"or remove {part.name} to start over") if left else None  # fmt: skip
    records = [r["image"] for r in logged if r["image"] is not None]
    if not records or not names or {image_key(r) for r in records} & {image_key(n) for n in names}:
        return None
    shared = {os.path.basename(r) for r in records} & {os.path.basename(n) for n in names}
    if not shared:
        return None  # other images altogether: they are added to the output
    return (f"--resume: none of the {len(names)} images given is among the {len(records)} records of {args.output} "
            f"by path, though {len(shared)} have their file names (a record names {records[0]!r}). Records keep "
            "each path as given, relative to the folder the first run was started in: run from that folder with the "
            "same paths, or give another --output")  # fmt: skip


def _refuse_mixed(output: Path, mixed: str) -> int:
    """--resume into an output read with other options (_other_options says which): bad usage (2).
    The file named is the one that holds the records: the output, or its .part log when a stopped
    run left only that (a trial was told of an output that did not exist)."""
    from lnet_anet.inference.outputs import part_log

    holder = output if output.exists() or not part_log(output).exists() else part_log(output)
    print(f"error: --resume: {_safe(str(holder))} holds records read with other options ({mixed}); rerun "
          "with the options it was written with, or write another --output", file=sys.stderr)  # fmt: skip
    return 2


# A number restating the one a resumed run read with is that number written to as many significant
# digits as it has, at least this many: the bundle's threshold 0.6624905531191163 is 0.662 in the README.
RESTATED_DIGITS = 3
# (flag, its args name, the bundle's preprocessing part, the setting there and in records' "settings")
RESTATABLE = (("--threshold", "threshold", "localizer", "threshold"),
              ("--secondary-threshold", "secondary_threshold", "localizer", "secondary_threshold"),
              ("--detail", "detail", "lnet", "detail_ratio"))  # fmt: skip


def _restates(given: float, used: float) -> bool:
    """Whether `given` is `used` written to as many significant digits as `given` has (at least
    RESTATED_DIGITS): 0.662 and 0.6625 restate 0.6624905531191163; 0.66 and 0.663 do not."""
    digits = next(n for n in range(1, 18) if float(f"{given:.{n}g}") == given)
    return digits >= RESTATED_DIGITS and float(f"{used:.{digits}g}") == given


def _resume_before_loading(args, logged: list[dict[str, Any]]) -> str | None:
    """--resume: how the output's records were read where this run would read otherwise
    (_other_options), decided from the arguments and the bundle's header before the Predictor is
    loaded (a bundle's first load exports its graphs: seconds); None when they agree, or when the
    bundle cannot be read (Predictor.load says why). A --threshold, --secondary-threshold or
    --detail that restates the value the records were read with (_restates) is set to that value,
    said on stderr. The digests of --face-head / --box-head / --crowd-box-head / --upright-head are compared once
    the Predictor is loaded. `logged`: the records of --output and its .part log."""
    from lnet_anet.inference.bundle import BundleError, _read_header, bundle_identity
    from lnet_anet.inference.outputs import image_key
    from lnet_anet.inference.predictor import (
        CLOSEUP_SKIP_SHARE,
        DEFAULT_BUNDLE,
        FILL,
        reading_settings_of,
    )

    # the records RecordLog(resume=True).done keeps: each image's last one without an error
    records = list({image_key(r["image"]): r for r in logged
                    if r["image"] is not None and r.get("error") is None}.values())  # fmt: skip
    if not records:
        return None
    try:
        _, config, digest = _read_header(Path(args.bundle or DEFAULT_BUNDLE))
        prep = config["preprocessing"]
        lnet, anet = prep["lnet"], prep["anet"]
    except (FileNotFoundError, BundleError, KeyError, TypeError):
        return None
    run = records[0].get("settings") or {}
    for flag, name, where, key in RESTATABLE:
        given, used = getattr(args, name), run.get(key, prep[where].get(key))
        if given is not None and used is not None and given != used and _restates(given, used):
            print(f"note: --resume: {flag} {given} taken as {used}, the value {_safe(str(args.output))} was "
                  "read with", file=sys.stderr)  # fmt: skip
            setattr(args, name, used)
    # This run's Predictor.reading_settings, as main will set them up
    loc = {} if args.threshold is None else {"threshold": args.threshold}
    if args.secondary_threshold is not None:  # the bundle's lower bars off, as main sets it
        loc |= {"secondary_threshold": args.secondary_threshold, "weak_threshold": None, "crowd": None}
    arbitrate = (lnet.get("arbitrate_nested"), bool(lnet.get("arbitrate_picture")))
    if args.arbitrate is not None and (args.arbitrate == "off" or lnet.get("rescue_faces") is not None):
        on = args.arbitrate == "on"  # Predictor.arbitrate's setter: on at the bundle's share, else FILL
        arbitrate = ((FILL if arbitrate[0] is None else arbitrate[0]) if on else None, on)
    settings = reading_settings_of(prep, loc, lnet.get("detail_ratio") if args.detail is None else args.detail,
                                   _head_patches(args), arbitrate,
                                   CLOSEUP_SKIP_SHARE if args.closeups else lnet.get("zoom_in_lone_skip_share"))  # fmt: skip
    targets = (("attractiveness", args.attractiveness_descriptor), ("age", args.age_descriptor))
    now = {"--mirror": args.mirror or bool(anet.get("mirror")), "--box-jitter": args.box_jitter or bool(anet.get("views")),
           "--rotations": args.rotations, "descriptor heads": sorted(target for target, on in targets if on),
           "--no-rescue": args.no_rescue and lnet.get("rescue_faces") is not None,
           "--no-refine-boxes": args.no_refine_boxes and bool(lnet.get("refine_boxes")),
           "--bundle": bundle_identity(config, digest), "settings": settings}  # fmt: skip
    return _other_options(records, now, prep) or None


def _reading_options_of(predictor) -> dict[str, Any]:
    """How `predictor` reads, as lnet_anet.inference.outputs.reading_options names a record's options."""
    return {"--mirror": predictor.mirror, "--box-jitter": predictor.box_jitter, "--rotations": predictor.rotations,
            "descriptor heads": predictor.descriptor_heads,
            "--no-rescue": predictor.face_head is not None and not predictor.rescue,
            "--no-refine-boxes": predictor.box_head is not None and not predictor.refine_boxes,
            "--face-head": predictor.custom_heads.get("face_head"), "--box-head": predictor.custom_heads.get("box_head"),
            "--crowd-box-head": predictor.custom_heads.get("crowd_box_head"),
            "--upright-head": predictor.custom_heads.get("upright_head"),
            "--bundle": predictor.bundle.identity, "model": predictor.model_identity,
            "settings": predictor.reading_settings}  # fmt: skip


def _other_options(records, now: dict[str, Any], prep: dict[str, Any]) -> str:
    """How the resumed output's `records` were read where this run would read otherwise (e.g.
    "--box-jitter on"), or "" when they agree: one file, one way of reading. `now`: this run's
    options as reading_options names them (those it holds are compared); `prep`: the bundle's
    preprocessing, whose settings the message names where one side reads as the bundle says."""
    from lnet_anet.inference.outputs import reading_options
    from lnet_anet.inference.predictor import LOCALIZER_SETTINGS

    differ: dict[str, Any] = {}
    for record in records:
        for key, value in reading_options(record).items():
            if key not in now or (key in ("--bundle", "model") and value is None):  # None: written before records said it
                continue
            if value != now[key]:
                differ.setdefault(key, value)
    if "--bundle" in differ:  # another bundle is another model: said once
        differ.pop("model", None)
    own = {**{key: prep["localizer"].get(key) for key in LOCALIZER_SETTINGS},
           **{key: prep["lnet"].get(key) for key in ("detail_ratio", "arbitrate_nested", "arbitrate_picture",
                                                     "zoom_in_lone_skip_share")}}  # fmt: skip

    def settings(values: dict, other: dict) -> str:
        if values:
            return ", ".join(f"{k}={v}" for k, v in values.items())
        shown = ", ".join(f"{k}={own[k]}" for k in other if k in own)  # the bundle's values of what the other sets
        return f"the bundle's ({shown})" if shown else "the bundle's"

    def said(key: str, value: Any) -> str:
        if key in ("--face-head", "--box-head", "--crowd-box-head", "--upright-head"):  # a head's digest, or None: the shipped one
            mine = now[key]
            default = "the bundle's own (embedded or shipped) head"  # no digest in a record: the bundle's head of that kind
            return (f"{key}: {'the head of digest ' + value if value else default} where this run has "
                    f"{'the head of digest ' + mine if mine else default} (fit_* prints a head's digest)")
        if key == "--bundle":
            return f"--bundle of identity {value} where this run has {now[key]}"
        if key == "model":  # the same bundle, another head file or package version (an upgrade)
            return (f"the model (the bundle with its heads and lnet_anet's version) {value} where this run has "
                    f"{now[key]}: a head or lnet_anet changed since")  # fmt: skip
        if key == "settings":  # --threshold, --secondary-threshold, --detail, --arbitrate, --closeups, --attractiveness-patches
            mine = now[key]
            lower = (" (--secondary-threshold turns the bundle's weak_threshold and crowd off)"
                     if any((k in value) != (k in mine) for k in ("weak_threshold", "crowd")) else "")  # fmt: skip
            return f"settings: {settings(value, mine)} where this run has {settings(mine, value)}{lower}"
        return f"{key} {'on' if value is True else 'off' if value is False else value or 'none'}"

    return ", ".join(said(k, v) for k, v in differ.items())


def _run(args, predictor, items, several, tally: Tally, log, table) -> int:
    """Analyse `items`, printing and writing each record as it comes. Returns the exit status;
    raises OSError when an output file (not a visualisation) cannot be written."""
    from tqdm import tqdm

    from lnet_anet.inference.outputs import json_line

    if args.vis is not None:
        from lnet_anet.inference.visualize import render, save_png
    # JSON Lines are UTF-8; a terminal in another encoding gets every non-ASCII character escaped
    as_text = (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"
    # the pictures of records a --resume keeps are theirs: a new image of the same name is numbered
    used = {Path(r["vis"]).stem for r in (log.done.values() if log is not None else ())
            if args.vis is not None and r.get("vis") and Path(r["vis"]).parent.resolve() == args.vis.resolve()}  # fmt: skip
    if args.vis is not None and log is not None:  # kept records are not analysed again, so not drawn (trial 93)
        bare = sum(r.get("error") is None for r in log.done.values()) - len(used)
        if bare > 0:
            print(f"note: --resume: {bare} record{'s' if bare > 1 else ''} kept from the stopped run "
                  f"{'have' if bare > 1 else 'has'} no picture in {_safe(str(args.vis))} (that run had another "
                  "or no --vis); rerun without --resume to draw every picture", file=sys.stderr)  # fmt: skip
    if not args.json:
        print(TABLE_HEADER)
    analyses = predictor.analyse_many((item for _, item in items), args.batch_size)
    # a bar for a folder or several files (a shell pattern), on a terminal only (disable=None: off
    # when stderr is not a TTY)
    progress = tqdm(total=len(items), disable=None if several else True, file=sys.stderr, unit="img")
    large: list[tuple[str, int, int]] = []  # photos read shrunk (read_shrunk) with no face found: detail_note
    from lnet_anet.data.preprocess import LNetInput

    setting = LNetInput.from_dict(predictor.bundle.preprocessing["lnet"])
    for (name, _), analysis in zip(items, analyses, strict=True):
        record = analysis.record
        if record["image"] is None:  # the --demo picture, handed over as an array: its name, as the table says
            record["image"] = name
        if args.vis is not None and record["error"] is None:
            target = _vis_path(args.vis, name, used)
            try:
                save_png(target, render(analysis, args.top))
                record["vis"] = os.fsdecode(target)  # which picture is this image's (stems can repeat)
            except Exception as e:  # noqa: BLE001 - one picture's failure is that image's error
                reason = e.strerror if isinstance(e, OSError) and e.strerror else e
                record["error"] = f"{name}: visualisation not written: {reason}"
                tally.vis_failed += 1
        tally.add(record)
        if (record["error"] is None and predictor.detail_ratio is None
                and all("face_probability" in face for face in record["faces"])  # none, or only the rescue's (a trial)
                and read_shrunk(record["width"], record["height"], setting)):  # fmt: skip
            large.append((name, record["width"], record["height"]))
        if log is not None:
            log.write(record)
        elif table is not None:  # with --output, the table is written from the output's records at the end
            table.add(record)
        if args.json:
            print(json_line(record) if as_text else json.dumps(record), flush=True)
        else:
            for row in table_rows(name, record, args.top):
                _emit(row)
        progress.update()
    progress.close()
    if large:  # once per run, not per photo: the table and the records stay as documented
        print(detail_note(large, predictor.bundle.preprocessing["lnet"]), file=sys.stderr)
    if not tally.errors:
        return 0
    if tally.vis_failed == tally.errors:  # every image was analysed; their pictures were not written
        print(f"error: {tally.vis_failed} of the {len(items)} pictures could not be written into --vis "
              f"{_safe(str(args.vis))} (their records say why, and count as errors)", file=sys.stderr)  # fmt: skip
    elif tally.analysed == 0 and tally.resumed == 0:  # else several images: the summary line counts the errors
        print(f"error: none of the {len(items)} images could be analysed (their records say why)",
              file=sys.stderr)  # fmt: skip
    return 1


if __name__ == "__main__":
    sys.exit(main())
