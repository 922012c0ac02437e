"""The region LNet's localizer finds around the best face of each image of a folder: a CSV for
training a head on the crops it will be given at prediction (data.boxes; FaceDataset crop="box").

    python -m lnet_anet.cli.lnet_boxes ../shared/datasets/scut_fbp5500_train/SCUT-FBP5500_v2/Images \\
        --out runs/scut-lnet-boxes.csv [--bundle lnet_anet/assets/default.lnetanet]

Writes `name,x0,y0,x1,y1,score,faces` (pixels of the image as read): the highest-scoring face's
region, the box the heads crop (Predictor.locate_many kind "region"), not the face box a
prediction record reports as "box" (Localizer.to_face_box maps one to the other); an image
where LNet finds no face gets an empty box (faces 0), and readers then fall back to the whole
image. An image that cannot be read (empty, truncated, not an image) is named on stderr and
left out of the CSV (readers give an image missing from it the whole image, and the training
datasets skip unreadable files). Only LNet (and its cascade) runs: no ANet, no heads.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from lnet_anet.cli.arguments import (
    CommandParser,
    RawDescriptionDefaultsHelpFormatter,
    int_in,
    output_file,
)
from lnet_anet.data.images import image_suffixes

EPILOG = """\
CSV columns, one row per image that could be read:
  name         the image's file name
  x0,y0,x1,y1  the best face's region: the box the ANet and the heads crop (Predictor.locate_many
               kind "region"), in pixels of the image as displayed (EXIF orientation applied),
               right/bottom exclusive; NOT the face box a prediction record reports as "box"
               (Localizer.to_face_box maps the region to it). Empty when no face was found.
  score        that face's localizer score (0 when no face was found)
  faces        how many faces the localizer found in the image

Unreadable images (empty, truncated, not an image) get a warning on stderr with the reason and
no row; the summary line counts them apart from the images without a face. The folder is listed
as predict lists one: hidden files and folders (names starting with ".") are skipped, symlinked
folders followed; without --recursive its sub-folders are not read, and a note says how many.

The CSV is written whole at the end (OUT.part while running, then renamed): a stopped run leaves no
CSV that looks complete, since readers give an image missing from it the whole image.

exit status: 0 every image was read; 1 some images could not be read (the others are written),
or the bundle cannot be loaded; 2 bad usage (no such folder, a file instead of a folder, --out a
folder, --batch-size under 1); 130 interrupted (nothing written)."""


def lnet_boxes(predictor, paths: Sequence[Path], batch_size: int = 16) -> Iterator[tuple]:
    """Yield (path, box or None, score, number of faces, error or None) per image, in order,
    LNet only; the box is the best face's region, the box the heads crop
    (Predictor.locate_many kind "region"), as a (4,) float64 array in the displayed image's
    pixels. An image that cannot be read yields (path, None, 0.0, 0, why) instead of passing
    as an image without a face."""
    from lnet_anet.data.errors import ImageReadError
    from lnet_anet.inference.inputs import to_rgb8

    for start in range(0, len(paths), batch_size):
        chunk, images, errors = paths[start:start + batch_size], [], []
        for path in chunk:  # decoded here, as the predictor decodes a path, to tell why one fails
            try:
                images.append(to_rgb8(path, "rgb", predictor.max_pixels))
                errors.append(None)
            except ImageReadError as e:
                errors.append(e.reason)
            except Exception as e:  # noqa: BLE001 - one bad file never stops the others
                errors.append(str(e).removeprefix(f"{path}: "))
        found = iter(predictor.locate_many(images, batch_size, kind="region"))
        for path, error in zip(chunk, errors, strict=True):
            faces = next(found) if error is None else []
            if not faces:
                yield path, None, 0.0, 0, error
                continue
            box, score = faces[0]
            yield path, np.asarray(box, np.float64), float(score), len(faces), None


def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandParser(prog="python -m lnet_anet.cli.lnet_boxes",
                           description=__doc__.split("\n\n")[0],
                           epilog=EPILOG, formatter_class=RawDescriptionDefaultsHelpFormatter)  # fmt: skip
    parser.add_argument("folder", type=Path, help="a folder of images")
    parser.add_argument("--recursive", action="store_true",
                        help="also the images in its sub-folders (LFW's one folder per person); rows keep the file "
                             "name, which must then be unique, as data.boxes matches on it")  # fmt: skip
    parser.add_argument("--out", type=output_file, required=True, help="CSV to write (columns below)")
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    parser.add_argument("--batch-size", type=int_in(1), default=16, help="images per LNet batch")
    args = parser.parse_args(argv)
    if not args.folder.exists():
        print(f"error: {args.folder}: no such folder", file=sys.stderr)
        return 2
    if not args.folder.is_dir():
        print(f"error: {args.folder}: not a folder (give the folder of images)", file=sys.stderr)
        return 2
    from lnet_anet.cli.predict import Collected, scan_folder

    try:
        os.listdir(args.folder)  # said as such, not as "no images" (scan_folder notes it among the skipped)
    except OSError as e:
        print(f"error: {args.folder}: cannot be read ({e.strerror})", file=sys.stderr)
        return 1
    listed = Collected()
    scan_folder(args.folder, image_suffixes(), listed, recursive=args.recursive)  # as predict lists a folder
    paths = listed.paths
    if not paths:
        print(f"error: {args.folder}: no images" + (" (only sub-folders: add --recursive)" if listed.subfolders else ""),
              file=sys.stderr)  # fmt: skip
        return 1
    if listed.subfolders:  # not silently: LFW's layout is a folder per person
        n = len(listed.subfolders)
        print(f"note: {args.folder}: {n} sub-folder{'s' if n > 1 else ''} not read (add --recursive to read "
              f"{'them' if n > 1 else 'it'} too)", file=sys.stderr)  # fmt: skip
    seen: dict[str, Path] = {}
    for p in paths:
        if p.name in seen:  # data.boxes matches rows on the file name
            print(f"error: {p} and {seen[p.name]} have the same file name; a boxes CSV cannot tell them apart",
                  file=sys.stderr)  # fmt: skip
            return 2
        seen[p.name] = p
    from lnet_anet.inference.bundle import BundleError
    from lnet_anet.inference.predictor import Predictor

    try:
        predictor = Predictor.load(args.bundle)
    except (FileNotFoundError, BundleError, RuntimeError, ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from tqdm import tqdm

    from lnet_anet.engine.signals import sigterm_as_interrupt
    from lnet_anet.inference.outputs import replace_durably

    args.out.parent.mkdir(parents=True, exist_ok=True)
    part = args.out.with_name(args.out.name + ".part")  # renamed to --out once every image is done
    missing = unreadable = 0
    try:
        with sigterm_as_interrupt(), part.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "x0", "y0", "x1", "y1", "score", "faces"])
            rows = lnet_boxes(predictor, paths, args.batch_size)
            for path, box, score, n, error in tqdm(rows, total=len(paths), unit="img", disable=None, file=sys.stderr):
                if error is not None:
                    unreadable += 1
                    tqdm.write(f"warning: {path.name}: not read ({error}); left out of the CSV", file=sys.stderr)
                    continue
                missing += box is None
                coords = ["", "", "", ""] if box is None else [f"{v:.2f}" for v in box]
                writer.writerow([path.name, *coords, f"{score:.5f}", n])
    except KeyboardInterrupt:
        part.unlink(missing_ok=True)
        print(f"interrupted: nothing written to {args.out}", file=sys.stderr)
        return 130
    replace_durably(part, args.out)  # the CSV is on disk before the run says it is done
    print(f"{args.out}: {len(paths)} images, {missing} without a face, {unreadable} unreadable (left out)")
    return 1 if unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
