"""Pictures of a prediction (cv2): LNet's response as a heatmap over the photo, the face boxes,
and each face's age, attractiveness and present attributes (the bundle's decisions, as the
record's "present") as text."""

from __future__ import annotations

import functools
import io
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from lnet_anet.inference.predictor import Analysis

BOX_COLOR = (60, 255, 60)  # RGB
FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_SIDE = 256  # pixels: a smaller picture (a 128 px chip) is drawn enlarged, for a panel whose text fits
MAX_SIDE = 2048  # pixels: a larger photo is drawn shrunk to this longer side (a picture to look at, not a copy)
PANEL_BELOW = 320  # pixels: under this (drawn) side, even one face's text goes in the panel, off the face
PAD_GRAY = 32  # the panel's dark gray, also around a picture too thin to draw at MIN_SIDE
PANEL_SHRINK = 0.75  # the panel's text is shrunk to fit its widest row down to this share of the picture's, then wrapped
WRAP_FROM = 6.0  # a picture this many times as long as its short side, or more, is drawn wrapped (wrap_rows)
WRAP_ASPECT = 4.0  # ... in rows about this many times as long as high
WRAP_MOST = 8  # ... at most this many
WRAP_MIN_SIDE = 24  # pixels: a thinner strip is not wrapped (nothing in it to show larger)
WRAP_GAP = 12  # pixels of the panel's gray between the rows
TRACK_SHADES = ((1.0, 1.0), (0.75, 1.0), (0.45, 1.0), (1.0, 0.8))  # (saturation, value) of track_palette's colours
TRACK_PALETTE = 48  # track colours before they repeat
ABSENT_AS = {"Male": "Female"}  # the pictures' and table's name for an attribute decided absent
TINT_SHADE = 0.45  # a video label's box: its track's colour at this share of its brightness, under white text
CAPTION_REACH = 2  # lines a video caption may move from its place above its box to find a free one
COLUMN_CHARS = 40  # the narrowest column of a panel split below a wide picture, in characters ("a" wide)
COLUMN_SHRINK = 0.5  # ... and its text, this share of the picture's (a 1440 px picture's: 15 px letters)
HEAT_LEGEND = "heat: LNet's face response, red highest"  # said along the bottom edge of render's pictures


def overlay_heatmap(image: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The image with `heat` (H, W) drawn over it in the JET colour map, scaled to its own
    maximum (a flat zero map leaves the image unchanged)."""
    if heat.shape != image.shape[:2]:
        raise ValueError(f"heatmap {heat.shape} does not match image {image.shape[:2]}")
    peak = float(heat.max(initial=0.0))
    if peak <= 0:
        return image.copy()
    level = np.clip(heat / peak, 0, 1)
    colours = cv2.applyColorMap((level * 255).astype(np.uint8), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB).astype(np.float32)
    weight = alpha * level[..., None]  # strong where the response is, clear elsewhere
    out = image.astype(np.float32) * (1 - weight) + colours * weight
    return np.clip(out, 0, 255).astype(np.uint8)


def _text(canvas: np.ndarray, text: str, x: int, y: int, scale: float, tint: tuple[int, int, int] | None = None) -> None:
    """White text on a darkened box (readable on any background, a white wall included),
    baseline at y; moved left when it would run off the image's right edge. tint (RGB): the box
    filled with a dark shade of this colour instead (a video track's labels in its colour)."""
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    x = max(0, min(x, canvas.shape[1] - tw - 2))
    pad = max(1, round(scale * 3))
    box = canvas[max(0, y - th - pad):max(0, y + base + pad), max(0, x - pad):max(0, x + tw + pad)]
    if tint is None:
        box[:] = (box.astype(np.float32) * 0.3).astype(np.uint8)
    else:  # dark enough for the white text: the colour at TINT_SHADE of its brightness
        box[:] = (np.asarray(tint, np.float32) * TINT_SHADE).astype(np.uint8)
    cv2.putText(canvas, text, (x, y), FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)


def _below_baseline(scale: float) -> int:
    """Pixels of a line's darkened box below its baseline (_text): a caption above a box has its
    baseline this far (and the box's line width) above the box, or it hides the box's top edge."""
    _, base = cv2.getTextSize("Ag", FONT, scale, max(1, round(scale * 2)))
    return base + max(1, round(scale * 3))


def _line_height(scale: float) -> int:
    (_, th), base = cv2.getTextSize("Ag", FONT, scale, max(1, round(scale * 2)))
    return th + base + 3


def top_attributes(face: dict[str, Any], k: int = 3) -> list[tuple[str, float]]:
    """The k most probable attributes of a face record, most probable first, decided present or
    not (the pictures and predict's table show present_attributes)."""
    ranked = sorted(face["attributes"].items(), key=lambda kv: kv[1], reverse=True)
    return ranked[:k]


def present_attributes(face: dict[str, Any], k: int = 3) -> tuple[list[tuple[str, float]], int]:
    """The attributes decided present on a face record (or a track of one), most probable first:
    the first k as (name, probability), and how many more are present. Present: the record's
    "present" list, the bundle's decisions at its per-attribute thresholds (what README tells a
    user to read for yes / no); for a record without one (written by other code), p >= 0.5.
    The face's sex comes first, as an age leads the caption: Male when present, else "Female" at
    1 - p(Male) (ABSENT_AS: CelebA has no Female attribute, and a woman's sex was never shown, ranked
    under attributes at 1.00 when it was Male)."""
    probabilities = face.get("attributes") or {}
    present = face.get("present")
    names = present if present is not None else [n for n, p in probabilities.items() if p >= 0.5]
    ranked = sorted(((n, float(probabilities.get(n, float("nan")))) for n in names), key=lambda kv: -kv[1])
    for name, opposite in ABSENT_AS.items():  # first, whichever way it was decided
        if name in probabilities:
            shown = (name, float(probabilities[name])) if name in names else (opposite, 1.0 - float(probabilities[name]))
            ranked = [shown, *(kv for kv in ranked if kv[0] != name)]
    return ranked[:k], max(0, len(ranked) - k)


def attribute_texts(face: dict[str, Any], k: int = 3) -> list[str]:
    """present_attributes as the pictures write them: "Smiling 0.93" each, then "+2 more present"
    when more are, or ["no attribute present"]."""
    shown, more = present_attributes(face, k)
    texts = [f"{name} {p:.2f}" for name, p in shown] + ([f"+{more} more present"] if more else [])
    return texts or ["no attribute present"]


def _plus_minus(value: dict[str, Any], digits: int) -> str:
    """A {"mean", "std"} estimate as "31+/-4" (Hershey fonts have no plus-minus sign)."""
    return f"{value['mean']:.{digits}f}+/-{value['std']:.{digits}f}"


def face_caption(face: dict[str, Any], index: int) -> str:
    """A face's caption: "#1 score 3.20  age 31+/-4" (its place in the record's faces, its
    localization score, its age's mean +/- one std)."""
    parts = [f"#{index} score {face['score']:.2f}" if face.get("score") is not None else f"#{index}"]
    if face.get("age") is not None:
        parts.append(f"age {_plus_minus(face['age'], 0)}")
    return "  ".join(parts)


def attractiveness_line(face: dict[str, Any]) -> str | None:
    """The face's attractiveness (1-5, SCUT-FBP5500's scale, mean +/- one std) as one line, or None."""
    score = face.get("attractiveness")
    return None if score is None else f"attractiveness {_plus_minus(score, 1)} /5"


def legend_lines(faces: list[dict[str, Any]], top_k: int = 3) -> list[str]:
    """The text of each face, two lines per face (caption; attractiveness and "present: " the
    present attributes, the bundle's decisions: trial 82 read "Wearing_Hat 0.18" as odd without
    it), for the panel under a picture of several faces, whose labels beside the boxes would
    overlap."""
    lines = []
    for n, face in enumerate(faces, start=1):
        lines += [face_caption(face, n), "   " + ", ".join(_detail_lines(face, top_k))]
    return lines


def _detail_lines(face: dict[str, Any], top_k: int) -> list[str]:
    """A face's attractiveness (when scored), then attribute_texts: its present attributes (up to
    top_k) with their probabilities, the first marked "present: " (the bundle's decisions)."""
    lines = attribute_texts(face, top_k)
    if present_attributes(face, 0)[1]:
        lines[0] = f"present: {lines[0]}"
    score = attractiveness_line(face)
    return lines if score is None else [score, *lines]


def render(analysis: Analysis, top_k: int = 3) -> np.ndarray:
    """RGB uint8 picture of one analysed image: LNet's response as a heatmap, each face's box.
    One face: its caption above the box (face_caption), its attractiveness and present attributes
    below (attribute_texts: the record's "present", the bundle's decisions). Several faces, a picture under
    PANEL_BELOW pixels a side, or a face whose text does not fit above and below its box: "#n"
    at each box and the text in a panel under the image (legend_lines), so that no label covers
    another or the face. A face found in the contrast-stretched copy of a dark or over-exposed
    image (Analysis.read_as) is drawn on that copy, marked "contrast stretched"; a face under the
    threshold that the face head kept (the record's "rescued") is marked "rescued" with its
    P(face), "rescued (whole picture)" for the frame try (short enough for a 128 px chip); faces
    read at a quarter turn (--rotations, the record's "rotation") are marked "read turned N deg ccw"
    (picture_note: along the bottom edge, inside the picture).
    An image under MIN_SIDE pixels a side is drawn enlarged by a whole factor (its pixels as
    blocks), so that the text stays legible; one over MAX_SIDE pixels on its longer side is drawn
    shrunk to MAX_SIDE (a 48 MP photo's picture in a second, not a 19 MB PNG in ten); the boxes
    are scaled with it. A thin image, whose short side stays under MIN_SIDE when its long side
    reaches MAX_SIDE, is drawn so and padded with the panel's gray below it (a tall one: on its
    right) up to MIN_SIDE, so that the picture and its text stay usable: a strip 1 pixel high and
    5000 wide is drawn 2048 wide and 256 high, not 1. A strip at least WRAP_FROM times as long as
    high (a panorama of several photos) is drawn larger and cut into rows, a tall one into columns
    (wrap_rows, _wrapped), each up to MAX_SIDE long. The text grows with the picture (a 2048 x 1365 picture's is as
    legible as a 700 px one's). When LNet responded anywhere, the bottom line also says what the
    heat is (HEAT_LEGEND), or the foot of the panel where there is one."""
    if analysis.image is None:
        raise ValueError(f"{analysis.source}: nothing to draw ({analysis.record['error']})")
    # A dark or over-exposed photo whose faces were found in its contrast-stretched copy: draw that copy.
    shown = analysis.read_as if analysis.read_as is not None else analysis.image
    rows = wrap_rows(shown.shape[:2])  # a long strip: drawn as that many rows (columns), each up to MAX_SIDE
    shrink = min(1.0, MAX_SIDE * rows / max(shown.shape[:2]))
    if shrink < 1:
        size = (max(1, round(shown.shape[1] * shrink)), max(1, round(shown.shape[0] * shrink)))
        shown = cv2.resize(shown, size, interpolation=cv2.INTER_AREA)
    heat = analysis.heatmap(shown.shape[:2])
    canvas = overlay_heatmap(shown, heat)
    zoom = max(1, -(-MIN_SIDE // min(canvas.shape[:2])))  # ceil
    zoom = max(1, min(zoom, MAX_SIDE * rows // max(canvas.shape[:2])))  # a thin picture: not past MAX_SIDE
    if zoom > 1:
        canvas = cv2.resize(canvas, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    if min(canvas.shape[:2]) < MIN_SIDE:  # still thin (a 1 x 5000 strip): padded below or right, as the panel is
        pad = ((0, max(0, MIN_SIDE - canvas.shape[0])), (0, max(0, MIN_SIDE - canvas.shape[1])), (0, 0))
        canvas = np.pad(canvas, pad, constant_values=PAD_GRAY)
    zoom *= shrink  # image pixels -> picture pixels
    h, w = canvas.shape[:2]
    scale = float(np.clip(min(h, w) / 700, 0.35, 8.0))
    line = max(1, round(min(h, w) / 250))
    step = _line_height(scale)
    faces = analysis.record["faces"]
    lift = _below_baseline(scale) + line  # a caption's baseline above its box's top edge
    in_panel = len(faces) > 1 or (faces and (min(h, w) < PANEL_BELOW
                                             or not _fits_around(faces[0], zoom, h, step, lift, top_k)))  # fmt: skip
    boxes = [tuple(int(round(v * zoom)) for v in face["box"]) for face in faces]
    tags = tag_places(boxes, (h, w), scale, lift) if in_panel else []
    for n, (face, (x0, y0, x1, y1)) in enumerate(zip(faces, boxes, strict=True), start=1):
        cv2.rectangle(canvas, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), BOX_COLOR, line)
        if in_panel:  # "#n", its text in the panel
            _text(canvas, f"#{n}", *tags[n - 1], scale)
            continue
        tx = int(np.clip(x0 + 2, 0, max(0, w - 10)))
        # Out of the panel, the caption fits above the box and the attributes below it (_fits_around).
        _text(canvas, face_caption(face, n), tx, _caption_baseline(y0, y1, h, lift, step), scale)
        y = y1 + step
        details = _detail_lines(face, top_k)
        # one left edge for the lines, moved left as far as the widest needs (near the right edge)
        x = min([tx, *(w - _text_width(text, scale) - 2 for text in details)])
        for text in details:
            _text(canvas, text, max(0, x), y, scale)
            y += step
    canvas = _wrapped(canvas, rows)  # a long strip in rows: the notes go along the bottom of the last
    h, w = canvas.shape[:2]
    if not faces:
        _text(canvas, "no face found", 4, step, scale)
    # what the colours are, where LNet responded (a trial read the blobs as faces found): along the
    # bottom edge, or, where the text has a panel, at the panel's foot, off the faces (trial 82)
    legend = HEAT_LEGEND if float(heat.max(initial=0.0)) > 0 else ""
    note = "; ".join(filter(None, [picture_note(analysis), "" if in_panel else legend]))
    if note:  # along the bottom edge, its descenders ("g") and darkened box inside the picture
        fitted = _scale_to_fit(note, w - 8, scale)
        _text(canvas, note, 4, h - _below_baseline(fitted), fitted)
    if in_panel:
        canvas = _with_panel(canvas, legend_lines(faces, top_k), scale)
        if legend:
            canvas = np.concatenate([canvas, _panel([legend], canvas.shape[1], PANEL_SHRINK * scale)])
    return canvas


def wrap_rows(hw: tuple[int, int]) -> int:
    """How many rows render draws a picture of `hw` (height, width) pixels in: 1, or for a strip at
    least WRAP_FROM times as long as its short side (of WRAP_MIN_SIDE pixels or more: a thinner
    one has nothing to show larger) about one row per WRAP_ASPECT of its length, at most
    WRAP_MOST. Drawn in one row, a 23:1 strip of faces was 2048 x 88 px, its tags over its faces
    (trial 84); a tall strip is drawn in columns alike."""
    short, long = sorted(hw)
    if short < WRAP_MIN_SIDE or long < WRAP_FROM * short:
        return 1
    return int(min(WRAP_MOST, np.ceil(long / (WRAP_ASPECT * short))))


def _wrapped(canvas: np.ndarray, rows: int) -> np.ndarray:
    """A drawn strip cut into `rows` equal lengths along its long side, stacked along its short side
    (a wide strip's rows top to bottom, a tall one's columns left to right) with WRAP_GAP pixels
    of the panel's gray between them (the last piece padded with it to the others' length)."""
    if rows <= 1:
        return canvas
    tall = canvas.shape[0] > canvas.shape[1]
    strip = canvas.transpose(1, 0, 2) if tall else canvas
    length = -(-strip.shape[1] // rows)  # ceil
    strip = np.pad(strip, ((0, 0), (0, length * rows - strip.shape[1]), (0, 0)), constant_values=PAD_GRAY)
    gap = np.full((WRAP_GAP, length, 3), PAD_GRAY, np.uint8)
    pieces = [strip[:, k * length : (k + 1) * length] for k in range(rows)]
    stacked = np.concatenate([p for piece in pieces for p in (piece, gap)][:-1])
    return np.ascontiguousarray(stacked.transpose(1, 0, 2) if tall else stacked)


def _with_panel(canvas: np.ndarray, rows: list[str], scale: float) -> np.ndarray:
    """The picture with its faces' text (legend_lines' rows, two per face): in a panel below it,
    or, where that panel would be taller than the picture (a group photo: trial 80 got a 480 x 2068
    picture, the photo a thumbnail atop a long strip of text), in columns of the picture's width
    beside it, as many as keep the whole within MAX_SIDE wide (the picture padded below with the
    panel's gray when the columns are taller); a picture too wide for that gets the panel below,
    its text at COLUMN_SHRINK of the picture's, in as many columns of at least COLUMN_CHARS
    characters as its width holds; a strip (at least twice as wide as high: a panorama) gets it
    below too, at its own text size. A face's rows are never split."""
    h, w = canvas.shape[:2]
    below = _panel_height(rows, w, scale)
    if below <= h:  # short enough
        return np.concatenate([canvas, _panel(rows, w, scale)])
    faces = [rows[k : k + 2] for k in range(0, len(rows), 2)]
    gap = max(2, w // 100)
    strip = w >= 2 * h  # a panorama: beside it, a column as wide left the picture mostly empty
    if MAX_SIDE // w >= 2 and not strip:  # room beside: columns of the picture's width
        columns = max(1, min(MAX_SIDE // w - 1, -(-below // h)))
        parts = _split_columns(faces, [_panel_height(face, w, scale) for face in faces], columns)
        return _side_by_side([canvas, *(_panel(part, w, scale) for part in parts)], gap)
    # a wide picture: the panel below it, its text smaller, in as many columns as its width holds
    # (trial 82: 45 faces on a 2048 px photo gave a 2048 x 8054 picture, one column over half its width)
    # the text a picture this wide is read at, zoomed in anyway; a strip's is small already (its height sets it)
    small = scale if strip else max(0.3, COLUMN_SHRINK * scale)
    width = _text_width("a" * COLUMN_CHARS, small)
    columns = max(1, min(len(faces), (w + gap) // (width + gap)))
    each = (w - gap * (columns - 1)) // columns
    parts = _split_columns(faces, [_panel_height(face, each, small) for face in faces], columns)
    text = _side_by_side([_panel(part, each, small) for part in parts], gap)
    text = np.pad(text, ((0, 0), (0, w - text.shape[1]), (0, 0)), constant_values=PAD_GRAY)
    return np.concatenate([canvas, text])


def _side_by_side(pictures: list[np.ndarray], gap: int) -> np.ndarray:
    """`pictures` left to right, `gap` pixels of the panel's gray between them, each padded below
    with it to the tallest."""
    tall = max(p.shape[0] for p in pictures)
    pieces = []
    for k, picture in enumerate(pictures):
        if k:
            pieces.append(np.full((tall, gap, 3), PAD_GRAY, np.uint8))
        pieces.append(np.pad(picture, ((0, tall - picture.shape[0]), (0, 0), (0, 0)), constant_values=PAD_GRAY))
    return np.concatenate(pieces, axis=1)


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A track's colour (RGB), by its id: the id-th colour of track_palette(), repeating every
    TRACK_PALETTE ids. Id 0 is green, as a photo's boxes."""
    palette = track_palette()
    return palette[int(track_id) % len(palette)]


@functools.lru_cache(maxsize=1)
def track_palette() -> tuple[tuple[int, int, int], ...]:
    """TRACK_PALETTE bright colours (RGB), each as far as can be from all before it: among hues 8
    degrees apart at the TRACK_SHADES (saturation, value), the one whose nearer CIELAB distance to
    every colour taken, as a box line or as the dark shade under a label's white text
    (TINT_SHADE), is largest (farthest-point sampling). The first 12 differ by 24 or more, the
    first 24 by 15. Hues a golden-ratio turn apart gave near greens to ids 0, 8, 13 and 21 (trials
    82 and 86), a fixed palette of 8 gave ids 1 and 9 one colour (trial 81)."""
    import colorsys

    colours = sorted({tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue / 360, sat, val))
                      for hue in range(0, 360, 8) for sat, val in TRACK_SHADES})  # fmt: skip
    first = tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(0.33, 0.75, 1.0))
    rgb = np.asarray([first, *colours], np.float32)

    def lab(a: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(a[None] / 255.0, cv2.COLOR_RGB2Lab)[0]

    box, label = lab(rgb), lab(np.floor(rgb * TINT_SHADE))

    def distance(k: int) -> np.ndarray:
        return np.minimum(np.linalg.norm(box - box[k], axis=1), np.linalg.norm(label - label[k], axis=1))

    taken, nearest = [0], distance(0)
    while len(taken) < TRACK_PALETTE:
        k = int(np.argmax(nearest))
        taken.append(k)
        nearest = np.minimum(nearest, distance(k))
    return tuple(tuple(int(v) for v in rgb[k]) for k in taken)  # type: ignore[return-value]


def track_caption(face: dict[str, Any], index: int) -> str:
    """A video face's caption: "id 3  age 31+/-4", its track's id and age (FaceTracker's "track"),
    or face_caption's "#n" line for a face with no track."""
    track = face.get("track")
    if track is None:
        return face_caption(face, index)
    age = track.get("age")
    return f"id {track['id']}" + ("" if age is None else f"  age {_plus_minus(age, 0)}")


def render_tracks(image: np.ndarray, record: dict[str, Any], top_k: int = 3) -> np.ndarray:
    """A copy of a video frame, RGB uint8 (H, W, 3) (no heatmap: it would flicker), with each face
    of its record (FaceTracker.update's) drawn: its box in its track's colour (track_colour;
    at least 2 px wide), track_caption above it and the track's present attributes below it
    (attribute_texts of the track's "present", decided on its mean probabilities; the face's own
    without a track), each label on a dark shade of the same colour, so that a label names its box;
    placed by track_labels: inside the frame, off each other's labels and off the other faces.
    A frame under MIN_SIDE pixels a side is drawn enlarged by a whole factor (its pixels as
    blocks; a 96 x 96 frame 288 x 288), as render draws a small photo, so that the text fits; else
    it keeps its size. Boxes are the record's [x0, y0, x1, y1] in the frame's pixels. Text grows
    with the frame as render's does. Raises ValueError when `image` is not the record's width x
    height."""
    h, w = image.shape[:2]
    if record.get("width") is not None and (record["width"], record["height"]) != (w, h):
        raise ValueError(f"frame {w}x{h} does not match the record's {record['width']}x{record['height']}")
    zoom = max(1, min(-(-MIN_SIDE // max(1, min(h, w))), MAX_SIDE // max(1, h, w)))  # ceil; not past MAX_SIDE
    canvas = np.ascontiguousarray(image, dtype=np.uint8)
    canvas = (cv2.resize(canvas, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST) if zoom > 1
              else canvas.copy())  # fmt: skip
    h, w = canvas.shape[:2]
    scale = float(np.clip(min(h, w) / 700, 0.35, 8.0))
    line = max(2, round(min(h, w) / 250))  # a trial could hardly see 1 px lines on a 640 x 360 frame
    faces = record.get("faces") or []
    colours = [track_colour(f["track"]["id"]) if f.get("track") else BOX_COLOR for f in faces]
    for face, colour in zip(faces, colours, strict=True):
        x0, y0, x1, y1 = (int(round(v * zoom)) for v in face["box"])
        cv2.rectangle(canvas, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colour, line)
    for text, x, y, n in track_labels(faces, (h, w), zoom, scale, line, top_k):
        _text(canvas, text, x, y, scale, tint=colours[n])
    return canvas


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two [x0, y0, x1, y1] rectangles (exclusive ends) share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _slid(y: int, step: int, reach: int) -> list[int]:
    """Baselines from `y` outwards, a line (`step`) at a time, down first: y, y + step, y - step,
    ... at most `reach` lines away; the nearest free one is a label's place (track_labels, tag_places)."""
    return [y + (k + 1) // 2 * step * (1 if k % 2 else -1) for k in range(2 * reach + 1)]


def _line_box(text: str, x: int, y: int, scale: float) -> tuple[int, int, int, int]:
    """The [x0, y0, x1, y1] a line of _text at baseline y covers, its darkened box included."""
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, FONT, scale, thick)
    pad = max(1, round(scale * 3))
    return x - pad, y - th - pad, x + tw + pad, y + base + pad


def _shortened(text: str, width: int, scale: float) -> str:
    """`text`, cut with '..' until it is at most `width` pixels wide (at least 4 characters)."""
    while len(text) > 4 and _text_width(text, scale) > width:
        text = text[:-3] + ".."
    return text


def track_labels(faces: list[dict[str, Any]], size: tuple[int, int], zoom: float, scale: float, line: int,
                 top_k: int = 3) -> list[tuple[str, int, int, int]]:  # fmt: skip
    """Where render_tracks writes each face's text on a picture of `size` (height, width) pixels
    (the frame drawn `zoom` times its size): (text, x, baseline y, the face's index in `faces`)
    per line. A face's caption goes above its box (under it at the frame's top edge, where it hid
    the brow, as render's tags: _caption_baseline), its attribute lines below it; a block that
    would leave the picture, cover another face's text already placed (faces in record order) or
    cover a face's box (a caption: another face's) slides down, then up, a line at a time, to the
    nearest free place within CAPTION_REACH lines for a caption, within as many lines as the block
    has (and 2 more) for attribute lines, so that text stays by its face (a trial saw blocks drawn
    150 px from theirs); attribute lines that find none are redone with one attribute fewer, the
    rest counted ("+3 more present"; at last "5 attributes present"), until one fits (trial 81:
    dropped lines had taken the count with them); the count, where it fits nowhere off the faces,
    goes to the nearest place over its own face, off the other faces and labels (a face filling the
    frame lost its attribute lines); a caption that
    finds none goes to the nearest place off the other labels (over a face), else stays at its
    place, inside the picture. Lines wider than the picture are shortened with '..'.
    Every line stays inside the picture."""
    h, w = size
    step = _line_height(scale)
    lift = _below_baseline(scale) + line  # a caption's baseline above its box's top edge
    placed: list[tuple[int, int, int, int]] = []
    out: list[tuple[str, int, int, int]] = []
    boxes = [tuple(int(round(v * zoom)) for v in face["box"]) for face in faces]
    others: list[tuple[int, ...]] = []  # the boxes of the faces other than the one being labelled

    def block(lines: list[str], x: int, y: int) -> list[tuple[int, int, int, int]]:
        return [_line_box(text, x, y + k * step, scale) for k, text in enumerate(lines)]

    def inside(boxes) -> bool:
        return all(b[1] >= 0 and b[3] <= h for b in boxes)

    def free(rects) -> bool:
        return not any(_overlap(b, p) for b in rects for p in (*placed, *others))

    def place(lines: list[str], x0: int, y: int, reach: int) -> int | None:
        """The baseline nearest `y` (a line's step at a time, at most `reach` lines away) where
        `lines` fit, or None."""
        width = max(_text_width(text, scale) for text in lines)
        x = int(np.clip(x0, 0, max(0, w - width - 2)))
        for at in _slid(y, step, min(reach, h // step + 2)):
            if inside(block(lines, x, at)) and free(block(lines, x, at)):
                return at
        return None

    for n, face in enumerate(faces):
        track = face.get("track")
        x0, y0, x1, y1 = boxes[n]
        others[:] = boxes[:n] + boxes[n + 1 :]
        caption = _shortened(track_caption(face, n + 1), w - 8, scale)
        tx = x0 + 2
        y = _caption_baseline(y0, y1, h, lift, step)  # under a box at the top edge, as render's tags
        at = place([caption], tx, y, CAPTION_REACH)
        if at is None:  # none near it off the other faces: the nearest off the other labels
            others.clear()
            at = place([caption], tx, y, h)
        if at is None:  # no free place: at its own, kept inside the picture
            at = int(np.clip(y, step, h - _below_baseline(scale)))
        width = _text_width(caption, scale)
        x = int(np.clip(tx, 0, max(0, w - width - 2)))
        out.append((caption, x, at, n))
        placed.extend(block([caption], x, at))
        read = track if track and track.get("attributes") else face
        present = present_attributes(read, 0)[1]  # how many, none shown
        others[:] = boxes  # the lines hide no face, their own included
        for shown in range(top_k, -1, -1):  # fewer attributes where they do not fit, the rest counted
            texts = (attribute_texts(read, shown) if shown or not present
                     else [f"{present} attribute{'s' if present > 1 else ''} present"])  # fmt: skip
            lines = [_shortened(text, w - 8, scale) for text in texts]
            at = place(lines, tx, y1 + step, len(lines) + 2)
            if at is None and shown == 0:  # no room off the faces even for the count: over its own face
                others[:] = boxes[:n] + boxes[n + 1 :]
                at = place(lines, tx, y1 + step, h)
            if at is not None:
                width = max(_text_width(text, scale) for text in lines)
                x = int(np.clip(tx, 0, max(0, w - width - 2)))
                out += [(text, x, at + k * step, n) for k, text in enumerate(lines)]
                placed.extend(block(lines, x, at))
                break
    return out


def picture_note(analysis: Analysis) -> str:
    """The line render() writes along a picture's bottom edge: how its faces were read ("contrast
    stretched", "rescued: P(face) 0.71", "read turned 270 deg ccw", "read on a long canvas,
    1344x224"), "" when read plainly."""
    faces = analysis.record["faces"]
    notes = []
    if analysis.read_as is not None:
        notes.append("contrast stretched")
    elif analysis.record.get("rescued"):  # a face the face head vouched for: say which, and how much
        which = [(n, f) for n, f in enumerate(faces, 1) if "face_probability" in f]
        n, face = which[0] if which else (1, faces[0] if faces else {})
        chance = face.get("face_probability")
        frame = " (whole picture)" if face.get("frame") else ""
        mark = "rescued" if n == 1 else f"#{n} rescued"  # --detail added stronger faces
        notes.append(mark + frame + (f": P(face) {chance:.2f}" if chance is not None else ""))
    if analysis.record.get("rotation"):  # --rotations: the faces were read at this turn (boxes in the file's pixels)
        notes.append(f"read turned {analysis.record['rotation']} deg ccw")  # as predict's table says it
    if analysis.record.get("canvas"):  # a panorama (wide_canvas), as predict's table says it
        notes.append("read on a long canvas, {}x{}".format(*analysis.record["canvas"]))
    return "; ".join(notes)


def _text_width(text: str, scale: float) -> int:
    return cv2.getTextSize(text, FONT, scale, max(1, round(scale * 2)))[0][0]


def _scale_to_fit(text: str, width: int, scale: float) -> float:
    """`scale`, or less (down to 0.3) so that `text` is at most `width` pixels wide."""
    if _text_width(text, scale) <= width:
        return scale
    fitted = scale * width / _text_width(text, scale)
    while fitted > 0.3 and _text_width(text, fitted) > width:  # the width is not quite linear in the scale
        fitted *= 0.97
    return max(0.3, fitted)


def tag_places(boxes: list[tuple[int, int, int, int]], size: tuple[int, int], scale: float, lift: int) -> list[tuple[int, int]]:
    """Where render writes each face's "#n" tag (x, baseline y), boxes (x0, y0, x1, y1) in picture
    pixels, strongest face first, on a picture of `size` (height, width): at its place
    (_caption_baseline: above the box, under it at the top edge), or, where that tag would cover
    one placed before, the nearest free place within CAPTION_REACH lines up or down, at the box's
    left or right end (trial 82: in a crowd 8 of 45 tags lay over or under others); with none
    free, at its place. Every tag lies inside the picture."""
    h, w = size
    step = _line_height(scale)
    placed: list[tuple[int, int, int, int]] = []
    out = []
    for n, (x0, y0, x1, y1) in enumerate(boxes, start=1):
        text, width = f"#{n}", _text_width(f"#{n}", scale)
        y = _caption_baseline(y0, y1, h, lift, step)
        lefts = dict.fromkeys(int(np.clip(x, 0, max(0, w - width - 2))) for x in (x0 + 2, x1 - width - 2))
        tries = [(x, at) for at in _slid(y, step, CAPTION_REACH) for x in lefts]
        fits = [(x, at) for x, at in tries if (b := _line_box(text, x, at, scale))[1] >= 0 and b[3] <= h
                and not any(_overlap(b, p) for p in placed)]  # fmt: skip
        x, at = fits[0] if fits else tries[0]
        out.append((x, at))
        placed.append(_line_box(text, x, at, scale))
    return out


def _caption_baseline(y0: int, y1: int, height: int, lift: int, step: int) -> int:
    """The baseline of a box's caption (picture pixels, the box's rows y0..y1): above the box; a box
    at the picture's top edge, under it when there is room (a tag inside the box hid the face's
    brow: trial 82); else just inside its top."""
    if y0 - lift >= step:
        return y0 - lift
    return y1 + step if y1 + step <= height - 2 else y0 + step


def _fits_around(face: dict[str, Any], zoom: float, height: int, step: int, lift: int, top_k: int) -> bool:
    """Whether a lone face's caption fits above its box (its baseline `lift` pixels above the
    box) and its detail lines below it, on a picture `height` pixels high (else they would be
    drawn over the face)."""
    y0, y1 = face["box"][1] * zoom, face["box"][3] * zoom
    return y0 - lift >= step and y1 + step * len(_detail_lines(face, top_k)) <= height - 2


def _split_columns(faces: list[list[str]], heights: list[int], columns: int) -> list[list[str]]:
    """Each face's rows (`faces`, in order) into at most `columns` columns of about equal height
    (`heights`: each face's rows drawn, pixels), in order, no face's rows split: the rows of each
    column."""
    goal = sum(heights) / max(1, columns)
    parts: list[list[str]] = [[]]
    filled = 0.0
    for face, height in zip(faces, heights, strict=True):  # a new column once this one holds its share
        if parts[-1] and filled + height / 2 > goal * len(parts) and len(parts) < columns:
            parts.append([])
        parts[-1] += face
        filled += height
    return parts


def _panel(rows: list[str], width: int, scale: float) -> np.ndarray:
    """A dark strip `width` pixels wide holding `rows`, laid out by _panel_lines, _panel_height
    pixels high."""
    lines, scale = _panel_lines(rows, width, scale)
    step = _line_height(scale)
    panel = np.full((step * len(lines) + 8, width, 3), PAD_GRAY, np.uint8)
    for k, row in enumerate(lines):
        _text(panel, row, 4, step * (k + 1), scale)
    return panel


def _panel_height(rows: list[str], width: int, scale: float) -> int:
    """The height in pixels of _panel(rows, width, scale), measured without drawing it."""
    lines, scale = _panel_lines(rows, width, scale)
    return _line_height(scale) * len(lines) + 8


def _panel_lines(rows: list[str], width: int, scale: float) -> tuple[list[str], float]:
    """_panel's lines and text scale: the text shrunk so that the longest row fits `width`, but
    not under PANEL_SHRINK of the picture's `scale` (nor 0.3), where glyphs would be far smaller
    than the "#n" at the boxes; a row still too long is wrapped between its comma-separated items
    (at spaces inside an item too long for a line; continuation lines indented), and a single word
    too long for the width is cut with '..'."""
    widest = max(_text_width(r, scale) for r in rows)
    scale = max(0.3, PANEL_SHRINK * scale, min(scale, scale * (width - 8) / max(widest, 1)))

    def fits(text: str) -> bool:
        return _text_width(text, scale) <= width - 8

    wrapped = []
    for row in rows:
        indent = row[: len(row) - len(row.lstrip())]
        items = row.strip().split(", ")
        # Whole items (with their commas), or the words of an item too long for a line of its own.
        pieces = [item + ("," if n < len(items) - 1 else "") for n, item in enumerate(items)]
        tokens = [t for piece in pieces for t in ([piece] if fits(f"{indent}   {piece}") else piece.split(" "))]
        line = ""
        for token in tokens:  # greedy: each line as full as fits, continuation lines indented
            joined = f"{line} {token}" if line else f"{indent}{token}"
            if line and not fits(joined):
                wrapped.append(line)
                joined = f"{indent}   {token}"
            line = joined
        wrapped.append(line)
    fitted = []
    for line in wrapped:
        while len(line) > 4 and not fits(line):
            line = line[:-3] + ".."
        fitted.append(line)
    return fitted, scale


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB uint8 (H, W, 3) image as a PNG at `path` (any file name the system allows,
    undecodable bytes included: encoded in memory, written through Python's own file API, to a
    temporary file renamed into place). Raises OSError naming the path when it cannot be
    written (a read-only folder, a full disk, a path through a file)."""
    path = Path(path)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buffer, format="PNG")
    tmp = path.with_name(f".{path.name[:200]}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buffer.getvalue())
        os.replace(tmp, path)
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise OSError(e.errno, f"{path}: could not write the PNG ({e.strerror or e})") from None
    return path


__all__ = ["attractiveness_line", "attribute_texts", "face_caption", "overlay_heatmap", "picture_note",
           "present_attributes", "render", "render_tracks", "save_png", "top_attributes", "track_caption",
           "track_colour", "track_labels"]
