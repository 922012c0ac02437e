"""LNet at several scales of one photo: where the photo sits on each canvas, and one set of faces.

LNet learnt faces of a certain size relative to its input; a face that fills the whole photo,
or one of 20 pixels in a large photo, is outside that range at the single letterbox scale. The
photo is therefore also placed on LNet's canvas smaller than the letterbox fit (scale < 1: a
whole-frame face becomes a mid-size one) or larger (scale > 1: the canvas grows by the same
factor, LNet being fully convolutional, so small faces get more map cells). Each scale's faces
are mapped back to the photo's pixels and merged by non-maximum suppression (OpenCV's
`NMSBoxes`, which keeps what torchvision's `nms` keeps, tests/test_multiscale.py, without
torchvision's ~1 s import on every photo's path), the strongest first; a weaker box that lies
mostly inside a stronger one, or holds it, is dropped too: reading a photo smaller boxes a small
face's surroundings as a larger, weaker face (on composed tune scenes these were all of the
extra boxes that scale 0.45 added to scale 1).

A large photo (a phone's 4000 x 3000, a camera's 6000 x 4000) is shrunk so far on every canvas
that a face of 100 pixels becomes a few map cells. With LNetInput.detail_ratio it is also read at
that many canvas pixels per photo pixel, cut into overlapping tiles of DETAIL_TILE pixels (LNet is
fully convolutional: a tile's map is the canvas's, away from its edges; tiles bound the memory),
and the localizer looks in each tile for faces whose box is at most DETAIL_MAX_REGION pixels, as
the photo's further faces (its secondary threshold). A face that small lies whole in some tile,
as tiles overlap by DETAIL_OVERLAP; larger faces are the whole-photo canvases' to find, and the
tiles give only pieces of them, so the detail faces are added last, apart from the faces found
without them (Predictor._add_detail).

Coordinates: boxes are (x0, y0, x1, y1) pixels with exclusive ends; on a canvas,
x = image x * kx + x0 and y = image y * ky + y0 (the `Placement`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from lnet_anet.data.transforms import resize as resize_image

Detection = tuple[np.ndarray, float]


@dataclass(frozen=True)
class Placement:
    """Where an (h, w) image lies on a canvas: x = image x * kx + x0, y = image y * ky + y0; it
    covers canvas rows y0 .. y0 + h_c and columns x0 .. x0 + w_c."""

    kx: float
    ky: float
    x0: int
    y0: int
    h_c: int
    w_c: int

    def to_image(self, box: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray | None:
        """A canvas box in the image's pixels, clipped to it; None when it lies off the image
        (wholly in the padding)."""
        h, w = image_hw
        px = (np.asarray(box, np.float64) - [self.x0, self.y0, self.x0, self.y0]) / [self.kx, self.ky, self.kx, self.ky]
        px = np.clip(px, 0, [w, h, w, h])
        return px if px[2] > px[0] and px[3] > px[1] else None

    def of_original(self, fx: float, fy: float) -> Placement:
        """This placement of an image shrunk by (fx, fy) (shrink_factor), as the placement of
        the image before it was shrunk."""
        return Placement(kx=self.kx * fx, ky=self.ky * fy, x0=self.x0, y0=self.y0, h_c=self.h_c, w_c=self.w_c)


DETAIL_TILE = 768  # a tile's side: LNet costs the same per pixel up to ~1024 px, far more beyond
DETAIL_OVERLAP = 128  # tiles overlap by this many pixels, more than the largest box a tile reports
# find_on_check adds a face of the check localizer only when it overlaps no face found by this much
# (experiments/2026-12-06-every-face-map, RULE.md round 2)
FIND_ON_CHECK_IOU = 0.3
DETAIL_MAX_REGION = 96.0  # the localizer's max_size in a tile (pixels of the detail canvas)


def tile_origins(length: int, tile: int = DETAIL_TILE, overlap: int = DETAIL_OVERLAP) -> list[int]:
    """Start offsets of tiles of `tile` pixels covering [0, length), overlapping by at least
    `overlap` (the last one flush with the end; one tile when length <= tile)."""
    if length <= tile:
        return [0]
    step = tile - overlap
    return [min(i * step, length - tile) for i in range(math.ceil((length - tile) / step) + 1)]


def detail_tiles(img: np.ndarray, ratio: float) -> tuple[np.ndarray, list[tuple[int, int]], tuple[float, float], tuple[int, int]]:
    """The image (uint8 (h, w, 3)) resized by `ratio` and cut into DETAIL_TILE x DETAIL_TILE
    tiles, zero-padded at the right and bottom where the image ends: tiles (N, T, T, 3), their
    (y0, x0) origins on the resized image, its (ky, kx) = resized / original sides, and its (h, w)."""
    h, w = img.shape[:2]
    nh, nw = max(1, round(h * ratio)), max(1, round(w * ratio))
    small = img if (nh, nw) == (h, w) else resize_image(img, nh, nw)
    origins = [(y0, x0) for y0 in tile_origins(nh) for x0 in tile_origins(nw)]
    tiles = np.zeros((len(origins), DETAIL_TILE, DETAIL_TILE, 3), np.uint8)
    for t, (y0, x0) in enumerate(origins):
        part = small[y0:y0 + DETAIL_TILE, x0:x0 + DETAIL_TILE]
        tiles[t, : part.shape[0], : part.shape[1]] = part
    return tiles, origins, (nh / h, nw / w), (nh, nw)


def wants_detail(image_hw: tuple[int, int], lnet) -> bool:
    """Whether the detail pass adds resolution: the largest of the bundle's scales and zoom-in
    scales shows the image at fewer than lnet.detail_ratio canvas pixels per image pixel (a
    LNetInput `lnet`; False when its detail pass is off)."""
    return lnet.detail_ratio is not None and lnet.detail_ratio > reading_ratio(image_hw, lnet)


def input_for(image_hw: tuple[int, int], lnet) -> tuple[int, int]:
    """LNet's input size (H, W) for an image of `image_hw` (a LNetInput `lnet`): lnet.input_size,
    or, with lnet.wide_canvas = (start, most) and an image whose longer side is at least `start`
    times its shorter (a panorama, a strip of photos), that size lengthened along the image's longer
    side to the image's aspect, at most `most` times, in whole multiples of 32 (LNet's coarsest
    stride). Letterboxed in the square input, a 4:1 panorama keeps a quarter of its height and its
    faces; on the longer canvas (LNet is fully convolutional, its cost its area) they keep their
    size as in a photo of the usual shape. Every scale, the zoom-in's reading and the detail pass's
    ratio follow this size."""
    size = tuple(lnet.input_size)
    wide = lnet.wide_canvas
    if wide is None:
        return size
    h, w = image_hw
    aspect = max(h, w) / max(1, min(h, w))
    if aspect < wide[0]:
        return size
    long_axis = 1 if w >= h else 0
    out = list(size)
    out[long_axis] = int(round(size[long_axis] * min(aspect, wide[1]) / 32)) * 32
    return tuple(out)


def letterbox_fit(image_hw: tuple[int, int], lnet) -> float:
    """Canvas pixels per image pixel at scale 1 (the letterbox fit in input_for's size)."""
    size = input_for(image_hw, lnet)
    return min(size[0] / image_hw[0], size[1] / image_hw[1])


def reading_ratio(image_hw: tuple[int, int], lnet) -> float:
    """LNet's canvas pixels per image pixel at its largest scale (scales and zoom-in) for an image
    of `image_hw` (a LNetInput `lnet`): a face is read this many times its size in pixels."""
    return max((*lnet.scales, *lnet.zoom_in_scales)) * letterbox_fit(image_hw, lnet)


def shrink_factor(image_hw: tuple[int, int], lnet, detail: bool = False) -> float:
    """The factor (<= 1) by which an image can be shrunk once before LNet's canvases are cut from
    it (a LNetInput `lnet`): twice the resolution of its largest canvas (scales and zoom-in;
    area resampling from at least twice the size changes next to nothing); 1 (not shrunk) when
    that is over half the image. A 24 MP photo is resized once instead of once per canvas: ~80 ms
    a canvas on 2 cores. detail: the copy the detail pass cuts its tiles from, at least its ratio.
    The scales' copy does not depend on the detail pass, so that turning it on only adds faces (a
    trial: cut from the detail pass's copy, the scales' canvases differed by a few grey levels, and
    faces found without it were lost)."""
    need = 2 * reading_ratio(image_hw, lnet)
    if detail and lnet.detail_ratio is not None:
        need = max(need, lnet.detail_ratio)
    return need if need <= 0.5 else 1.0


FIT_MARGIN = 8  # "fit": at least this many pixels of padding on each side of the zoomed-out photo


def canvas_size(input_size: tuple[int, int], scale: float, zoom_out: str = "input") -> tuple[int, int]:
    """(H, W) of the canvas at `scale`, in whole multiples of 32 (LNet's coarsest stride):
    LNet's input size, grown by the scale when it is > 1. Below 1, zoom_out "input" keeps the
    input size (the photo padded all round), "fit" shrinks the canvas with the photo to the
    scaled input size plus FIT_MARGIN on each side: LNet being fully convolutional, it costs the
    smaller area (scale 0.45 of 224: a 128 px canvas, a third of the work)."""
    if scale > 1:
        return tuple(int(round(side * scale / 32)) * 32 for side in input_size)
    if zoom_out == "fit":
        return tuple(min(side, math.ceil((side * scale + 2 * FIT_MARGIN) / 32) * 32) for side in input_size)
    return tuple(input_size)


def place(img: np.ndarray, input_size: tuple[int, int], scale: float = 1.0, resize: str = "letterbox",
          zoom_out: str = "input", zoom_in: str = "input") -> tuple[np.ndarray, Placement]:  # fmt: skip
    """The uint8 canvas holding `img` (uint8 RGB (h, w, 3)) at `scale` times the letterbox fit,
    and its Placement. Scale 1 is the plain letterbox (at the top-left, black padding right and
    below) or, with resize="stretch", the image stretched over the canvas; other scales centre
    the image (zoom-out pads it all round; canvas_size says how large the canvas is). Above 1,
    zoom_in "fit" trims the canvas to the photo, rounded up to whole multiples of 32: a 4:3
    photo at scale 2 of 224 gets 352 x 448 instead of 448 x 448 (LNet's cost is its area), so
    canvases then differ with the photo's shape."""
    h_in, w_in = canvas_size(input_size, scale, zoom_out)
    h, w = img.shape[:2]
    if scale > 1 and zoom_in == "fit" and resize != "stretch":
        fit = min(input_size[0] / h, input_size[1] / w) * scale
        h_in = min(h_in, math.ceil(max(1, round(h * fit)) / 32) * 32)
        w_in = min(w_in, math.ceil(max(1, round(w * fit)) / 32) * 32)
    if resize == "stretch":
        if scale != 1:
            raise ValueError("resize='stretch' takes scale 1 only: use letterbox for several scales")
        return resize_image(img, h_in, w_in), Placement(kx=w_in / w, ky=h_in / h, x0=0, y0=0, h_c=h_in, w_c=w_in)
    fit = min(input_size[0] / h, input_size[1] / w) * scale  # of the letterbox fit, whatever the canvas
    nh, nw = min(h_in, max(1, round(h * fit))), min(w_in, max(1, round(w * fit)))
    y0, x0 = (0, 0) if scale == 1 else ((h_in - nh) // 2, (w_in - nw) // 2)
    canvas = np.zeros((h_in, w_in, 3), np.uint8)
    canvas[y0:y0 + nh, x0:x0 + nw] = resize_image(img, nh, nw)
    return canvas, Placement(kx=nw / w, ky=nh / h, x0=x0, y0=y0, h_c=nh, w_c=nw)


def check_evidence(box, readings) -> float:
    """A face's evidence in LNet's check map (LNet's check=True; LNetInput.check_faces): the
    largest map value whose cell centre lies in `box` (x0, y0, x1, y1 image pixels), over
    `readings`, (map (h, w), canvas size (H, W), Placement of the image on that canvas, scale
    read at or None for a detail tile) each; in a reading where the box is narrower or shorter than
    a cell, the cells holding its centre line. 0.0 with no reading (the map is ReLU'd: no evidence)."""
    best = 0.0
    for m, (h_in, w_in), where, _ in readings:
        cell_y, cell_x = h_in / m.shape[0], w_in / m.shape[1]
        x0, x1 = box[0] * where.kx + where.x0, box[2] * where.kx + where.x0
        y0, y1 = box[1] * where.ky + where.y0, box[3] * where.ky + where.y0
        centres_y, centres_x = (np.arange(m.shape[0]) + 0.5) * cell_y, (np.arange(m.shape[1]) + 0.5) * cell_x
        rows, cols = (centres_y >= y0) & (centres_y < y1), (centres_x >= x0) & (centres_x < x1)
        if not rows.any():
            rows = np.arange(m.shape[0]) == int(np.clip((y0 + y1) / 2 / cell_y, 0, m.shape[0] - 1))
        if not cols.any():
            cols = np.arange(m.shape[1]) == int(np.clip((x0 + x1) / 2 / cell_x, 0, m.shape[1] - 1))
        best = max(best, float(m[np.ix_(rows, cols)].max()))
    return best


def faces_on_check(readings, localizer, scales: Sequence[float], image_hw: tuple[int, int],
                   found: Sequence[np.ndarray]) -> list[Detection]:
    """The faces a localizer fitted on LNet's check map finds in an image (LNetInput.find_on_check):
    `localizer` on each of the check map's `readings` (as check_evidence's) read at one of its
    `scales`, the boxes in image pixels ((H, W) image_hw), merged across scales as read_scales
    merges them (merge, further_faces), strongest first; those whose box overlaps one of `found`
    (face boxes (4,) in the same pixels) at IoU >= FIND_ON_CHECK_IOU are left out. Scores are the
    check localizer's (box, score) as photo_fitting.detect reads the fitting photos."""
    wanted = {float(s) for s in scales}
    detections = [(px, float(score)) for m, size, where, scale in readings if scale in wanted
                  for box, score in localizer(m, size) if (px := where.to_image(box, image_hw)) is not None]  # fmt: skip
    faces = further_faces(merge(detections, localizer.nms_iou, localizer.max_faces), localizer, image_hw)
    if not faces or not len(found):
        return faces
    # imported here: torchvision's import costs ~1 s of every command's start
    from torchvision.ops import box_iou

    overlap = box_iou(torch.from_numpy(np.stack([b for b, _ in faces])).double(),
                      torch.from_numpy(np.stack(found)).double()).amax(1)  # fmt: skip
    return [f for f, o in zip(faces, overlap.tolist(), strict=True) if o < FIND_ON_CHECK_IOU]


def same_shape(indices: Iterable[int], shapes: Sequence[tuple] | dict[int, tuple]) -> list[list[int]]:
    """The indices grouped by canvas shape (shapes[k]), in first-seen order: one LNet batch per
    group, as canvases trimmed to their photos (zoom_in "fit") differ in shape."""
    groups: dict[tuple, list[int]] = {}
    for k in indices:
        groups.setdefault(tuple(shapes[k]), []).append(k)
    return list(groups.values())


def wants_zoom_in(boxes: Sequence[np.ndarray], image_hw: tuple[int, int], input_size: tuple[int, int],
                  below: float, lone: bool = True, lone_below: float | None = None) -> bool:  # fmt: skip
    """Whether an image whose base scales found these face boxes (image pixels) is read at the
    zoom-in scales too: when no face was found, or a face's shorter side is under `below` pixels
    on the scale-1 canvas (the letterbox fit): a face that small may stand beside others that
    LNet's map, at that scale, does not separate. lone False: a single face found, whatever its
    size, is left alone (a portrait costs no third pass), unless its shorter side is under
    `lone_below` canvas pixels (None: never; a small lone face, perhaps beside others LNet missed)."""
    if not len(boxes):
        return True
    fit = min(input_size[0] / image_hw[0], input_size[1] / image_hw[1])
    sides = np.array([min(b[2] - b[0], b[3] - b[1]) for b in boxes], np.float64) * fit
    if len(boxes) == 1 and not lone:
        return lone_below is not None and bool(sides[0] < lone_below)
    return bool((sides < below).any())


def read_scales(image_hws: Sequence[tuple[int, int]], detect_at: Callable[[float, list[int]], list[list[Detection]]],
                lnet, localizer, policy=None, arbiter: Callable[[int], Arbiter] | None = None) -> list[list[Detection]]:  # fmt: skip
    """Each image's faces (image pixels, strongest first) by the bundle's scale policy (an
    LNetInput `lnet`): every image at `lnet.scales`; then, at the zoom-in scales, the images
    whose faces want them (wants_zoom_in); then, at the fallback scales, the images with no face
    yet; the faces of all scales merged (merge, with the localizer's nms_iou and max_faces, read
    only then; further_faces then holds the faces after the best to the bar for further faces)
    when more than one scale can be read. detect_at(scale, indices) gives the faces of images[k]
    for k in indices at that scale (one batch in the Predictor, precomputed maps when fitting).
    The detail pass (lnet.detail_ratio) is not read here: the Predictor adds its faces last, to
    the faces decided without it (Predictor._add_detail).
    policy: None, or the localizer whose thresholds decide which images want the zoom-in and
    fallback scales (a bundle's, when `localizer` is the same with thresholds a user changed):
    the faces over its thresholds decide, so that a lower threshold reads the same scales and
    only adds faces (a weak face once kept a photo from the zoom-in scale that finds its faces).
    arbiter: None, or k -> merge's arbiter for images[k] (the final merge's)."""
    found: list[list[Detection]] = [[] for _ in image_hws]
    decide = localizer if policy is None else policy

    def deciding(faces: list[Detection]) -> list[Detection]:  # the faces the policy's threshold reports
        return faces if policy is None else [f for f in faces if f[1] > policy.threshold]

    def read(scale: float, which: list[int]) -> None:
        for k, faces in zip(which, detect_at(scale, which), strict=True):
            found[k] += faces

    for scale in lnet.scales:
        read(scale, list(range(len(image_hws))))
    if lnet.zoom_in_scales:
        wanted = [k for k, hw in enumerate(image_hws)
                  if wants_zoom_in([b for b, _ in _asking(merge(deciding(found[k]), decide.nms_iou, decide.max_faces),
                                                          decide, lnet.zoom_in_weak, hw, lnet.zoom_in_crowd)],
                                   hw, input_for(hw, lnet), lnet.zoom_in_below, lnet.zoom_in_lone, lnet.zoom_in_lone_below)]  # fmt: skip
        for scale in lnet.zoom_in_scales if wanted else ():
            read(scale, wanted)
    empty = [k for k in range(len(image_hws)) if not deciding(found[k])]
    for scale in lnet.fallback_scales if empty else ():  # nothing found anywhere yet
        read(scale, empty)
    if len(lnet.scales) + len(lnet.zoom_in_scales) + len(lnet.fallback_scales) == 1:
        return found
    return [further_faces(merge(faces, localizer.nms_iou, localizer.max_faces, arbiter=arbiter and arbiter(k)), localizer, hw)
            for k, (faces, hw) in enumerate(zip(found, image_hws, strict=True))]


def lone_part(faces: list[Detection], image_hw: tuple[int, int], arbiter: Arbiter) -> list[Detection]:
    """A picture's faces, its only face given the whole picture ([0, 0, W, H], the region LNet
    gives a face that fills it) as its region, its score kept, when that face's region may be a
    part of such a face and arbiter(region, whole picture) says the whole picture is the face.
    It may be a part when its area is under PART_AREA of the picture's and its shorter side at
    least PICTURE_PART of the picture's (image_hw = (H, W)): a grayscale copy of a face-filling
    chip whose whole face LNet no longer finds at any scale, only its lower half
    (experiments/2026-12-05-nested-faces, rule 5: the Predictor asks once its faces are decided, so
    that only a face's region changes, never whether there is one). Several faces are left alone:
    there a whole picture holds several."""
    if len(faces) != 1:
        return faces
    ((region, score),) = faces
    h, w = image_hw
    x0, y0, x1, y1 = np.asarray(region, np.float64)
    if max(x1 - x0, 0) * max(y1 - y0, 0) >= PART_AREA * h * w or min(x1 - x0, y1 - y0) < PICTURE_PART * min(h, w):
        return faces
    whole = np.array([0.0, 0.0, w, h], np.float64)
    return [(whole, score)] if arbiter(np.asarray(region, np.float64), whole) else faces


def further_faces(faces: list[Detection], localizer, image_hw: tuple[int, int] | None = None) -> list[Detection]:
    """A photo's faces (strongest first) with those after its best held to the localizer's bar
    for further faces, its weak_threshold or else its secondary_threshold (none set: all kept);
    with the localizer's `crowd` (share, bar) and the photo's (h, w), its crowd bar when the photo
    is a crowd (Localizer.is_crowd of its best face), as the localizer holds them on a canvas.
    Each scale's canvas has a best of its own, which passes at the lower threshold; merged across
    scales only the photo's best may (a 0.67 blob read at scale 1 beside a portrait's face found
    at scale 0.45 came back as a second face: experiments/2026-12-03-crowd-zoom, section 4)."""
    bar = getattr(localizer, "weak_threshold", None)
    bar = getattr(localizer, "secondary_threshold", None) if bar is None else bar
    if bar is None or len(faces) < 2:
        return faces
    if image_hw is not None and _is_crowd(faces, localizer, image_hw):
        bar = min(bar, localizer.crowd[1])
    return faces[:1] + [f for f in faces[1:] if f[1] > bar]


def _is_crowd(faces: list[Detection], localizer, image_hw: tuple[int, int]) -> bool:
    """Whether a photo (h, w) whose faces are these (strongest first) is a crowd by the
    localizer's `crowd` rule (Localizer.is_crowd; False without the rule)."""
    if getattr(localizer, "crowd", None) is None or not faces:
        return False
    return localizer.is_crowd(faces[0][0], faces[0][1], image_hw)


def _asking(faces: list[Detection], localizer, weak_crowd: int | None = None,
            image_hw: tuple[int, int] | None = None, crowd_asks: bool = True) -> list[Detection]:  # fmt: skip
    """The faces whose size and number decide the zoom-in (wants_zoom_in): all of them, but
    under the localizer's weak_threshold only the best and those over its secondary_threshold (a
    weak face beside a portrait's face does not make it a crowd: experiments/2026-12-03-secondary),
    unless the weak ones after the best number at least `weak_crowd` (LNetInput.zoom_in_weak; a
    crowd: experiments/2026-12-03-crowd-zoom), or the photo (h, w) = image_hw is a crowd by the
    localizer's `crowd` rule (further_faces) and crowd_asks (LNetInput.zoom_in_crowd)."""
    if getattr(localizer, "weak_threshold", None) is None or not faces:  # any object with nms_iou, max_faces
        return faces
    if crowd_asks and image_hw is not None and _is_crowd(faces, localizer, image_hw):
        return faces
    strong = faces[:1] + [f for f in faces[1:] if f[1] > localizer.secondary_threshold]
    if weak_crowd is not None and len(faces) - len(strong) >= weak_crowd:
        return faces
    return strong


CONTAIN = 0.8  # merge: the share of the smaller box inside the other that makes them one face
PART_AREA = 0.3  # merge's arbiter: a kept box under this share of a nesting box's area may be a part of that face
PICTURE_PART = 1 / 3  # lone_part: a part of a face that fills the picture covers whole coarse cells, this share of its side
# Predictor's arbiter: only a nesting region this large (shorter sides) in the picture may be a face
# broken into parts (experiments/2026-12-05-nested-faces: at 0.4, rule 2, crowds lost faces to a person's box)
FILL = 0.8

# merge's arbiter: (the kept box, the larger box nested with it), both regions in image pixels
# -> True when the larger is the face (the face head's judgement, in the Predictor)
Arbiter = Callable[[np.ndarray, np.ndarray], bool]


def merge(detections: Sequence[Detection], iou: float, max_faces: int, contain: float | None = CONTAIN,
          arbiter: Arbiter | None = None) -> list[Detection]:  # fmt: skip
    """One face per place: detections of several scales (image pixels), strongest first, a box
    dropped when it overlaps a stronger one by more than `iou`, or (contain not None) when the
    intersection covers more than `contain` of the smaller of the two (one box nested in the
    other); at most `max_faces`. arbiter (needs contain): when the dropped box is the larger and
    the stronger box has under PART_AREA of its area (perhaps an eye read at scale 1 inside the
    whole face read at 0.45), arbiter(stronger box, larger box) True gives the stronger face the
    larger box, its score kept (each kept face is judged once, against its first such box;
    experiments/2026-12-05-nested-faces); a larger box given to two faces goes to the stronger,
    and the weaker is dropped (the same face twice)."""
    if not detections:
        return []
    boxes = np.stack([np.asarray(b, np.float64) for b, _ in detections])
    keep = nms(boxes, np.array([s for _, s in detections], dtype=np.float64), iou)
    if contain is None or len(keep) < 2:
        return [detections[int(i)] for i in keep[:max_faces]]
    area = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None).prod(1)
    kept: list[int] = []
    box_of: dict[int, int] = {}  # kept face -> the detection whose box it takes (arbiter)
    judged: set[int] = set()
    for i in keep:
        if kept:
            lt = np.maximum(boxes[i, :2], boxes[kept, :2])
            inter = np.clip(np.minimum(boxes[i, 2:], boxes[kept, 2:]) - lt, 0, None).prod(1)
            nested = inter > contain * np.maximum(np.minimum(area[i], area[kept]), 1e-12)
            if nested.any():
                for j in (kept[n] for n in np.flatnonzero(nested)):
                    if arbiter is not None and j not in judged and area[j] < PART_AREA * area[i]:
                        judged.add(j)
                        if arbiter(boxes[j], boxes[i]):
                            box_of[j] = int(i)
                continue
        kept.append(int(i))
    # One face per place: a larger box given to two kept faces (two parts of one face, each judged
    # against it) goes to the stronger; the weaker is that face again and is dropped.
    given: set[int] = set()
    faces = []
    for i in kept:
        if i in box_of:
            if box_of[i] in given:
                continue
            given.add(box_of[i])
        faces.append(i)
    kept = faces
    return [(detections[box_of[i]][0], detections[i][1]) if i in box_of else detections[i] for i in kept[:max_faces]]


def apart_from(kept: list[Detection], added: list[Detection], iou: float, contain: float = CONTAIN) -> list[Detection]:
    """The faces of `added` that lie apart from every face of `kept`, in their order: an added box
    overlapping a kept one by more than `iou` (IoU), or nested with it (their intersection over
    `contain` of the smaller box), is left out. Each added face is judged against the kept faces
    only, so a face left out here is left out by add_apart whatever else is added. Boxes in image
    pixels [x0, y0, x1, y1]."""
    if not added or not kept:
        return list(added)
    a = np.stack([np.asarray(b, np.float64) for b, _ in added])
    k = np.stack([np.asarray(b, np.float64) for b, _ in kept])
    inter = np.clip(np.minimum(a[:, None, 2:], k[None, :, 2:]) - np.maximum(a[:, None, :2], k[None, :, :2]),
                    0, None).prod(2)  # fmt: skip
    area_a, area_k = (np.clip(b[:, 2:] - b[:, :2], 0, None).prod(1) for b in (a, k))
    smaller = np.minimum(area_a[:, None], area_k[None, :])
    union = area_a[:, None] + area_k[None, :] - inter
    near = (inter > iou * np.maximum(union, 1e-12)) | (inter > contain * np.maximum(smaller, 1e-12))
    return [f for f, o in zip(added, near.any(1).tolist(), strict=True) if not o]


def add_apart(kept: list[Detection], added: list[Detection], iou: float, max_faces: int,
              contain: float = CONTAIN) -> list[Detection]:
    """The faces `kept` with those of `added` that lie apart from every kept face (apart_from), the
    rest strongest first, at most `max_faces`. Unlike merge, a kept face is never dropped for an
    added one that scores higher. Boxes in image pixels [x0, y0, x1, y1]
    (Predictor._zoom_in_again: LNetInput.zoom_in_refused_any, zoom_in_lone_p)."""
    if not added:
        return kept
    return sorted([*kept, *apart_from(kept, added, iou, contain)], key=lambda f: -f[1])[:max_faces]


def same_place(box, boxes: Sequence[np.ndarray], iou: float) -> int | None:
    """The index of the first of `boxes` at the same place as `box`: their IoU over `iou`, or the
    centre of either inside the other (a piece of a face, or the face boxed again a little off:
    detail tiles give both at IoU under 0.3; experiments/2026-12-06-detail-adds-only), else None.
    Boxes (x0, y0, x1, y1) in the same pixels."""
    b = np.asarray(box, np.float64)
    for j, other in enumerate(boxes):
        o = np.asarray(other, np.float64)
        inter = float(np.prod(np.clip(np.minimum(b[2:], o[2:]) - np.maximum(b[:2], o[:2]), 0, None)))
        union = float(np.prod(b[2:] - b[:2]) + np.prod(o[2:] - o[:2])) - inter
        if inter > iou * max(union, 1e-12) or _centre_inside(b, o) or _centre_inside(o, b):
            return j
    return None


def _centre_inside(box: np.ndarray, other: np.ndarray) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(other[0] <= cx <= other[2] and other[1] <= cy <= other[3])


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression: indices of boxes (N, 4) (x0, y0, x1, y1) kept, strongest
    first, a box dropped when its IoU with a kept stronger one exceeds `iou` (OpenCV's
    NMSBoxes on (x, y, w, h), scores shifted to be positive: it takes scores >= 0 and uses only
    their order)."""
    if len(boxes) == 0:
        return []
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    order = (scores - scores.min() + 1.0).tolist()
    return [int(i) for i in np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), order, 0.0, float(iou))).reshape(-1)]
