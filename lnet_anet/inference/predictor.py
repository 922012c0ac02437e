"""Face boxes, 40 attributes, age and attractiveness for photos, from one model bundle.

Per image: one LNet pass per scale of the bundle on the image letterboxed (or stretched) to LNet's
input size, or placed smaller or larger on the canvas (lnet_anet.lnet.multiscale), plus a pass at
the zoom-in scales when the faces found are small or none was found -> averaged response maps ->
Localizer -> boxes, mapped back to the original pixels and merged across scales. Faces:
the canonical crops of ALL faces of a batch go through ANet's dense forward together (as
ANet.patch_features does for one) -> the SVM head's score averaged over each face's patches ->
Platt probabilities; the age and attractiveness networks run on the faces' crops at once too.
When such a net is ANet-based and reads the same crop (the default bundle's attractiveness net;
its age nets read a crop of their own), the trunk stages it shares with ANet (frozen ImageNet
stages, identical weights) run once for both.
The networks run as inference copies with BatchNorm folded into the convolutions
(lnet_anet.inference.fuse), grouped into graphs (lnet_anet.inference.graphs: LNet, LNet_s when
the bundle has a cascade, and one face graph for ANet and the heads) that run in ONNX Runtime on
the CPU (exported once per bundle and cached) or in torch (backend="torch"; lnet_anet.inference.
runtime); predict_many decodes the next images in a thread pool while the networks run.

    predictor = Predictor.load()                  # lnet_anet/assets/default.lnetanet
    predictor.predict("photo.jpg")                # -> the JSON-ready record below
    for record in predictor.predict_many(items):  # paths, PIL images, numpy arrays, mixed
        ...

Inputs (lnet_anet.inference.inputs has the exact conversion rules): a path (any format Pillow
decodes; EXIF orientation applied, so boxes are in the displayed image's pixels; at most
`Predictor.max_pixels` pixels, checked from the header), a PIL.Image of any mode, or a numpy
array (H, W) / (H, W, 1) gray, (H, W, 3) RGB, (H, W, 4) RGBA of uint8, uint16 or float in
[0, 1]; channel_order="bgr" for OpenCV arrays. Every item that cannot be read or converted, or
whose analysis fails, gets an error record; the other items go on.

Record: {"image": path or None, "width", "height", "faces": [{"box": [x0, y0, x1, y1]
(the face box, as WIDER FACE labels faces, when the bundle's localizer has a face_box; pixels
of the displayed image, origin top-left, exclusive ends; clipped to the image for the faces LNet
finds, as given for analyse_boxes' own boxes), "score", "attributes": {name:
probability}, "present": [the names whose probability reaches the bundle's tuned threshold,
Predictor.decision_thresholds], "age": {"mean", "std"} (years) or None, "attractiveness": {"mean",
"std"} (1-5) or None}], "error": None or a message naming the item}, and, with
Predictor.rotations on, "rotation": the turn the faces were read at (degrees counterclockwise;
absent from an error record), and with descriptor heads set, "descriptor_heads": the outputs
they mixed into, e.g. ["attractiveness"] (absent from an error record), and, when the faces were
found only in a copy of a dark or over-exposed image with its contrast stretched (the bundle's
preprocessing.lnet.retry_exposure), "exposure": "stretched" (the heads read that copy), and
with mirror views (Predictor.mirror), "mirror": true, and with jittered views of each face's
region (Predictor.box_jitter), "box_jitter": true, and when the face head kept a candidate under
the threshold (Predictor.rescue), "rescued": true and that face's "face_probability" (its
P(face)), and "frame": true on a face whose box started as the whole picture (the frame try,
preprocessing.lnet.rescue_frame: its score is rescue_faces[0], its crop padded beyond the
picture, so its attributes are less sure: a black band above the picture can read as a hat);
"rescue": false / "refine_boxes": false when the bundle's rescue / box head was turned
off, and "face_head" / "box_head" / "crowd_box_head" / "upright_head": the digest of a head other than the shipped one
(Predictor.custom_heads), and "settings": the localization settings changed from the bundle's
(Predictor.reading_settings, e.g. {"threshold": 2.0}, and with rotations an upright_bar or
upright_margin set; absent when none is), and "canvas": [width, height], LNet's input size at
scale 1 for a photo read on a longer canvas than the bundle's input size (a panorama:
preprocessing.lnet.wide_canvas; absent otherwise), and "bundle": the
bundle file's identity (Bundle.identity: its tensors and config; in an error record too, absent
for a bundle made in memory), and "model": that identity with the heads in use and the package
version (Predictor.model_identity: what to quote beside a published figure). "image" is
the path as a str (os.fsdecode: bytes a file name cannot decode become surrogates, which json.dumps escapes). Rounding: boxes to 0.1 px, scores to 5
decimals, probabilities to 4, ages and attractiveness to 3.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import numbers
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np
import torch
from PIL import Image

from lnet_anet.data.errors import ImageReadError
from lnet_anet.data.images import DEFAULT_MAX_PIXELS
from lnet_anet.data.preprocess import (
    BOX_JITTER,
    ANetInput,
    HeadInput,
    LNetInput,
    flat_share,
    jitter_box,
    mean_luma,
    stretch_contrast,
)
from lnet_anet.data.transforms import AreaPyramid, face_region, leaves_picture, soften_sharp
from lnet_anet.data.transforms import resize as resize_image
from lnet_anet.inference.box_head import NAMED_BOX_HEADS, BoxHead
from lnet_anet.inference.bundle import Bundle, load_bundle
from lnet_anet.inference.face_head import FaceHead
from lnet_anet.inference.fuse import fold_batchnorm, shared_trunk_stages
from lnet_anet.inference.graphs import FaceGraph, LNetGraph, RegionGraph
from lnet_anet.inference.inputs import (
    InputError,
    channel_order_of,
    describe,
    is_stream,
    source_of,
    to_rgb8,
)
from lnet_anet.inference.runtime import OrtGraph, TorchGraph, graph_key, op_threads, resolve_backend
from lnet_anet.inference.shipped import DEFAULT_BUNDLE
from lnet_anet.inference.upright import UprightHead, choose_turn
from lnet_anet.lnet.multiscale import (
    DETAIL_MAX_REGION,
    FILL,
    PART_AREA,
    Placement,
    add_apart,
    apart_from,
    check_evidence,
    detail_tiles,
    faces_on_check,
    input_for,
    lone_part,
    merge,
    place,
    read_scales,
    same_place,
    same_shape,
    shrink_factor,
    wants_detail,
)

HEAD_KEYS = {"age": "age", "attractiveness": "attractiveness"}  # bundle part -> record key
# The networks each graph is built from (their tensors and nets config key its ONNX cache entry), and
# the LNet input settings its graphs read (the rest act on their outputs: Predictor._graph_settings).
GRAPH_PARTS = {"lnet": ("lnet",), "regions": ("lnet",), "faces": ("anet", "age", "attractiveness"), "anet_only": ("anet",)}
LNET_GRAPH_SETTINGS = ("input_size", "resize", "mean", "std")
# The face, box and upright heads judge a region on its crop filled so outside the picture,
# whatever the bundle's pad: they learnt crops filled black, and where a region leaves the picture
# (the frame try's candidate mostly) that fill is part of what they judge. Only the reading
# (attributes, age, attractiveness) takes the bundle's pad, so that a bundle's pad moves no box
# (experiments/2026-12-03-crop-pad, rounds 3-4).
JUDGE_PAD = "black"
# The crowd box head a bundle with preprocessing.lnet.crowd_box_head uses unless given another:
# the MLP head (experiments/2026-12-06-crowd-box-head)
CROWD_BOX_HEAD = NAMED_BOX_HEADS["mlp"]
SHIPPED_FILES = {"crowd_box_head": CROWD_BOX_HEAD}  # custom_heads' shipped head where it is not its kind's default
BOX_KINDS = ("face", "region")  # analyse_boxes / locate_many: face boxes, or the regions the heads crop
MAX_BOX_SIDE = 64  # analyse_boxes refuses a box whose side is more than this many times the image's longer side
# The frame try (rescue_frame) skips a picture more than this share flat (flat_share): a blank or
# one-colour picture, a page of text, to which the face head gave P(face) ~1; no face on the tune
# sets, as shipped, x0.15 or x3, is over it (experiments/2026-12-03-crowd-zoom, "Blank pictures").
FRAME_MAX_FLAT = 0.95
DETAIL_BATCH = 1  # detail tiles per LNet run: a 768 px tile costs the same alone, and batches cost memory
FACE_CHUNK = 16  # faces per ANet / head forward: bounds the trunk maps' memory (2 views each)
# rotations: each turn's P(upright) is the mean over its strongest faces, up to this many (chosen
# on tune parts: experiments/2026-12-01-upright/choose_rule.json)
UPRIGHT_FACES = 3
# rotations: a turn other than the stored one wins only over this P(upright) (upright.choose_turn's
# bar; None: none; experiments/2026-12-06-rotations-upright-bar)
UPRIGHT_BAR: float | None = None
UPRIGHT_MARGIN: float | None = None  # experiments/2026-12-07-rotations-upright-margin
DECODE_WORKERS = 2  # threads decoding ahead of the networks in predict_many
# predict --closeups: a lone face spanning this share of the picture's sides is not read again at
# the zoom-in scales (chosen on tune parts: experiments/2026-12-07-lone-zoom-room, round 1)
CLOSEUP_SKIP_SHARE = 0.6
ImageInput = str | bytes | Path | BinaryIO | np.ndarray | Image.Image


def _on_op_threads(method):
    """Run a pipeline stage with torch and BLAS on the Predictor's `op_threads` (runtime.op_threads)."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with op_threads(self.op_threads):
            return method(self, *args, **kwargs)

    return run


class UnreadableImageWarning(UserWarning):
    """locate_many met an item it could not read (its list of faces is empty)."""


# ANet's feature of each region read during one _detect call on this thread (see _memo_features).
_FEATURES = threading.local()


def _once_per_pass(key: tuple, image: np.ndarray, make: Callable[[], Any]) -> Any:
    """make(), for `image` under `key`, computed once within one detection pass (_memo_features'
    memo; every time outside one). The memo keeps the image, so its id stays its own."""
    memo = getattr(_FEATURES, "memo", None)
    if memo is None:
        return make()
    full = (*key, id(image))
    if full not in memo:
        memo[full] = (image, make())
    return memo[full][1]


def _memo_features(method):
    """Within one call of `method` (a detection pass), ANet's feature of a region is computed once
    however often it is asked for: the nested-face arbiter, the face filter and the rescue often
    judge the same region (a 640x480 grid of 12 faces asked for 34 regions, 13 of them distinct).
    ONNX Runtime gives each crop the same feature whatever its batch, so the answers are the same.
    The memo holds each image it saw, so no id is reused while it lives; it ends with the call."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        outer = getattr(_FEATURES, "memo", None)
        _FEATURES.memo = {} if outer is None else outer
        try:
            return method(self, *args, **kwargs)
        finally:
            _FEATURES.memo = outer

    return run


@dataclass
class Analysis:
    """One image's record plus what a visualisation needs: the decoded image and LNet's
    averaged response map at each scale it was read at (`maps`: the response, the canvas's
    (H, W) and the Placement of the image on it)."""

    record: dict[str, Any]
    image: np.ndarray | None = None
    maps: list[tuple[np.ndarray, tuple[int, int], Placement]] = field(default_factory=list)
    source: str | None = None  # the path as given, or None for an array
    faces_px: list[np.ndarray] = field(default_factory=list)  # unrounded face boxes ("box")
    read_as: np.ndarray | None = None  # the copy the faces were found in and are cut from, when not `image`
    maps_turn: int = 0  # rotations: the quarter turns (np.rot90's k) of the image the maps were read on

    def heatmap(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """LNet's response on the original image's pixels, float32 (H, W): at each pixel the
        largest of the scales' maps, so a face found at any scale shows; size (h, w): on the image
        resized to that many pixels instead. With rotations, the response of the turn whose faces
        the record gives, turned back. Raises ValueError when there is no image or map."""
        if self.image is None or not self.maps:
            raise ValueError(f"{self.source}: no image or response map to draw")
        h, w = self.image.shape[:2] if size is None else size
        if self.maps_turn % 2:  # the maps are of the turned image: (w, h)
            h, w = w, h
        heat = np.zeros((h, w), np.float32)
        for response, (h_in, w_in), p in self.maps:
            canvas = cv2.resize(response.astype(np.float32), (w_in, h_in), interpolation=cv2.INTER_LINEAR)
            on_image = canvas[p.y0:p.y0 + p.h_c, p.x0:p.x0 + p.w_c]
            np.maximum(heat, cv2.resize(on_image, (w, h), interpolation=cv2.INTER_LINEAR), out=heat)
        return np.ascontiguousarray(np.rot90(heat, -self.maps_turn)) if self.maps_turn else heat


class Predictor:
    """The whole pipeline around a loaded Bundle. `localizer` is public: change its threshold
    (or other settings) to trade recall for false alarms; `max_pixels` (None: no cap) is the
    largest image file or PIL image it decodes (width * height, from the header). `rotations`
    (default False): also look for faces in the image turned by 90, 180 and 270 degrees and keep
    the turn whose strongest faces (up to UPRIGHT_FACES) `upright_head` finds most likely
    upright (for photos stored sideways without an EXIF orientation; four times LNet's work and
    up to 12 face crops through ANet): faces are read upright, their boxes given in the image's
    own pixels, and the record's "rotation" says the turn used (degrees counterclockwise, 0
    when upright). `detail_ratio` (default: the bundle's preprocessing.lnet.detail_ratio, None:
    off): also read a large photo at this many pixels per photo pixel, in tiles, for faces too
    small for the whole-photo canvases (a 100 px face in a 6000 x 4000 photo;
    lnet_anet.lnet.multiscale); ValueError outside [0.05, 1]. `op_threads` (default 1 on ONNX
    Runtime, None with backend="torch"): the thread count of torch's and numpy's BLAS ops while
    a call made from the main thread runs, None to leave them (runtime.op_threads: restored after
    each call; calls from other threads leave them). `arbitrate_nested` (default: whether the
    bundle sets preprocessing.lnet.arbitrate_nested): when the faces of several scales are merged
    and a stronger box is nested in a weaker one of over 1 / multiscale.PART_AREA its area (an
    eye read at scale 1 inside the whole face read at 0.45), the face head (needs the bundle's
    rescue_faces) judges which is the face (multiscale.merge's arbiter); with `arbitrate_fill`
    (default: the bundle's share, else multiscale.FILL; None: always) only when the larger
    region's shorter side is at least that share of the picture's, a face that fills it
    (experiments/2026-12-05-nested-faces). With it, `arbitrate_picture` (default: the bundle's
    preprocessing.lnet.arbitrate_picture): once the picture's faces are decided (check, filter,
    rescue), its only face, when its region may be a part of a face that fills the picture, is
    judged against the whole picture the same way (multiscale.lone_part). The embedded bundle sets
    both (0.8). Records say either under "settings" where it differs from the bundle's
    (reading_settings; predict --arbitrate on / off)."""

    def __init__(self, bundle: Bundle, max_pixels: int | None = DEFAULT_MAX_PIXELS, _own_bundle: bool = False,
                 backend: str = "auto", face_head: FaceHead | str | Path | None = None,
                 box_head: BoxHead | str | Path | None = None,
                 crowd_box_head: BoxHead | str | Path | None = None, upright_head: UprightHead | str | Path | None = None,
                 rotations: bool = False):  # fmt: skip
        self.bundle = bundle
        self.max_pixels = max_pixels
        self._rotations = False
        self._upright_head: UprightHead | None = None
        self._patches: dict[str, str] = {}  # Predictor.load(patches=...): the bundle's config says them too
        self.device = bundle.device
        self.backend = resolve_backend(backend, self.device)
        # On ONNX Runtime the networks are not torch's: the Predictor's own small ops run best on one thread.
        self.op_threads: int | None = 1 if self.backend == "onnxruntime" else None
        self.localizer = bundle.localizer()
        # Whose thresholds decide which scales a picture is read at (zoom-in, fallback): the bundle's,
        # whatever the user sets on self.localizer. Trying thresholds as a new bundle would hold them
        # (tuning) means setting both: a bundle built with them reads its scales by them.
        self.scale_policy = bundle.localizer()
        # (Localizer, scales) fitted on LNet's check map: LNetInput.find_on_check (the loader checks it is there)
        self.check_localizer = bundle.check_localizer()
        self.cascade = bundle.cascade()  # None: one stage
        self.attributes = bundle.attributes
        prep = bundle.preprocessing  # checked by the loader: these cannot fail
        self._lnet = LNetInput.from_dict(prep["lnet"])
        self._anet = ANetInput.from_dict(prep["anet"])
        self._heads = {name: HeadInput.from_dict(prep[name], name) for name in HEAD_KEYS if bundle.has(name)}
        # Each head's std scale (nets.<head>.std_scale), which the face graph's std already carries.
        self._std_scales = {name: float(bundle.config["nets"][name].get("std_scale") or 1.0) for name in self._heads}
        self._descriptor_heads: dict[str, Any] = {}
        self._descriptor_pool: ThreadPoolExecutor | None = None  # made when a descriptor head first runs
        self._face_head: FaceHead | None = None
        self._rescue_on = self._lnet.rescue_faces is not None
        self._box_head: BoxHead | None = None
        # A head not given is the bundle's embedded one of its name (build_bundle --box-head ...), else the shipped one.
        embedded = {name: bundle.head(name) for name in bundle.head_names}  # each built once
        self._embedded = {name: head.digest for name, head in embedded.items()}
        if self._lnet.refine_boxes:  # loaded now: a head that does not fit this bundle stops here
            box_head = box_head if box_head is not None else embedded.get("box_head")
            self.box_head = box_head if isinstance(box_head, BoxHead) else BoxHead.load(box_head)
        elif box_head is not None:
            raise ValueError("a box head was given, but this bundle does not refine boxes "
                             "(preprocessing.lnet.refine_boxes is not set)")
        self._refine_on = self._box_head is not None
        self._crowd_box_head: BoxHead | None = None
        if self._lnet.crowd_box_head is not None:  # likewise; the bundle's crowd head, else the shipped one, unless one is given
            given = next(h for h in (crowd_box_head, embedded.get("crowd_box_head"), CROWD_BOX_HEAD) if h is not None)
            self.crowd_box_head = given if isinstance(given, BoxHead) else BoxHead.load(given)
        elif crowd_box_head is not None:
            raise ValueError("a crowd box head was given, but this bundle has none (preprocessing.lnet.crowd_box_head "
                             "is not set)")  # fmt: skip
        # The class docstring, the bundle's preprocessing.lnet.arbitrate_nested / arbitrate_picture;
        # experiments/2026-12-05-nested-faces: rules 2 (0.4), 3 (FILL), None rule 1; rules 4-5 add the picture.
        self.arbitrate_nested = self._lnet.arbitrate_nested is not None
        self.arbitrate_fill: float | None = FILL if self._lnet.arbitrate_nested is None else self._lnet.arbitrate_nested
        self.arbitrate_picture = self._lnet.arbitrate_picture
        if self._lnet.rescue_faces is not None:  # loaded now: a head that does not fit this bundle stops here
            face_head = face_head if face_head is not None else embedded.get("face_head")
            self.face_head = face_head if isinstance(face_head, FaceHead) else FaceHead.load(face_head)
        elif face_head is not None:
            raise ValueError("a face head was given, but this bundle does not rescue faces "
                             "(preprocessing.lnet.rescue_faces is not set)")
        if upright_head is not None:
            self.upright_head = upright_head if isinstance(upright_head, UprightHead) else UprightHead.load(upright_head)
        self.rotations = rotations
        self.upright_bar = UPRIGHT_BAR  # rotations: choose_turn's bar for a turn other than the stored one
        self.upright_margin = UPRIGHT_MARGIN  # and its margin over the stored reading
        # The graphs last: a head that does not fit this bundle is refused before minutes of export.
        names = ("lnet", "faces", "regions") if self.cascade is not None else ("lnet", "faces")
        self._run: dict[str, TorchGraph | OrtGraph] = {}
        # The file's checksum names the graphs only when the Predictor loaded the bundle itself:
        # a Bundle handed in may have had its networks changed in memory since.
        self._digest = bundle.digest if _own_bundle else None
        for name in names:  # graphs exported before
            graph = self._cached_graph(name)
            if graph is not None:
                self._run[name] = graph
        missing = [name for name in names if name not in self._run]
        if missing:
            graphs = self._graphs(copy_first=not _own_bundle)
            for name in missing:
                self._run[name] = self._runner(name, graphs[name])
        self._face_inputs = self._run["faces"].input_names

    @property
    def mirror(self) -> bool:
        """Whether each face's mirror image is read too (Predictor.load's mirror, or the bundle's
        preprocessing.anet.mirror); records then say "mirror": true."""
        return self._anet.mirror

    @mirror.setter
    def mirror(self, on: bool) -> None:
        raise AttributeError(f"mirror is chosen when the Predictor is built: Predictor.load(mirror={on!r}) (its face "
                             "graph reads the mirror images in the same batch)")  # fmt: skip

    @property
    def descriptor_heads(self) -> list[str]:
        """The outputs a descriptor head mixes into, sorted (what records say as "descriptor_heads")."""
        return sorted(self._descriptor_heads)

    @property
    def box_jitter(self) -> bool:
        """Whether each face is read through several views of its region (Predictor.load's
        box_jitter, or the bundle's preprocessing.anet.views) and the answers averaged; records
        then say "box_jitter": true. Setting it True reads the standard views
        (lnet_anet.data.preprocess.BOX_JITTER), False the region alone; ValueError for a non-bool."""
        return bool(self._anet.views)

    @box_jitter.setter
    def box_jitter(self, on: bool) -> None:
        self._anet = dataclasses.replace(self._anet, views=BOX_JITTER if _on_off("box_jitter", on) else ())

    @property
    def _face_chunk(self) -> int:
        """Faces per face-graph run: FACE_CHUNK crops' worth, whatever the views per face."""
        return max(1, FACE_CHUNK // max(1, len(self._anet.views)))

    @property
    def rotations(self) -> bool:
        """Whether quarter turns are tried (class doc). Turning it on loads upright_head, so a
        missing head or one of another ANet fails here (FileNotFoundError, ValueError), not
        once per image."""
        return self._rotations

    @rotations.setter
    def rotations(self, on: bool) -> None:
        if _on_off("rotations", on):
            _ = self.upright_head
        self._rotations = bool(on)

    @property
    def upright_bar(self) -> float | None:
        """rotations: a turn other than the stored one wins only over this P(upright)
        (upright.choose_turn's bar; None, the default: no bar). ValueError unless None or a
        number in [0, 1]. Records say one other than the default under "settings"."""
        return self._upright_bar

    @upright_bar.setter
    def upright_bar(self, value: float | None) -> None:
        self._upright_bar = _share_or_none("upright_bar", value)

    @property
    def upright_margin(self) -> float | None:
        """rotations: when the faces were found as stored, a turn wins only by more than this
        over the stored reading's P(upright) (upright.choose_turn's margin; default
        UPRIGHT_MARGIN). ValueError unless None or a number in [0, 1]. Records say one other than
        the default under "settings"."""
        return self._upright_margin

    @upright_margin.setter
    def upright_margin(self, value: float | None) -> None:
        self._upright_margin = _share_or_none("upright_margin", value)

    @property
    def upright_head(self) -> UprightHead:
        """The UprightHead that picks the quarter turn when `rotations` is on (default: the
        shipped one, lnet_anet.inference.upright.DEFAULT_UPRIGHT_HEAD, loaded when first needed).
        Setting one fitted on another ANet's feature than this bundle's raises ValueError."""
        if self._upright_head is None:
            self.upright_head = self.bundle.head("upright_head") or UprightHead.load()
        return self._upright_head

    @upright_head.setter
    def upright_head(self, head: UprightHead) -> None:
        if not head.fits(self.bundle):
            raise ValueError("this upright head (what rotations / predict --rotations turn photos by) was fitted on the "
                             "feature of another ANet than this bundle's; fit one on this bundle (python -m "
                             "lnet_anet.cli.fit_upright --bundle ...) and pass it (Predictor.load(upright_head=...), "
                             "predict --upright-head)")  # fmt: skip
        self._upright_head = head

    @property
    def rescue(self) -> bool:
        """Whether a photo with no face found is rescued by the face head (lnet_anet.inference.
        face_head): on by default when the bundle sets preprocessing.lnet.rescue_faces (the
        embedded one does); False turns it off (predict --no-rescue). Turning it on for a bundle
        without rescue_faces raises ValueError."""
        return self._rescue_on

    @rescue.setter
    def rescue(self, on: bool) -> None:
        if _on_off("rescue", on) and self._lnet.rescue_faces is None:
            raise ValueError("this bundle does not rescue faces (preprocessing.lnet.rescue_faces is not set; "
                             "build_bundle --lnet-input '{\"rescue_faces\": [0.0, 0.7]}' sets it)")  # fmt: skip
        self._rescue_on = bool(on)

    @property
    def refine_boxes(self) -> bool:
        """Whether the reported face boxes are the box head's (on by default when the bundle sets
        preprocessing.lnet.refine_boxes; the embedded one does). False reports the fixed face
        box, the one analyse_boxes maps back to the region exactly. Turning it on for a bundle
        without refine_boxes raises ValueError."""
        return self._refine_on

    @refine_boxes.setter
    def refine_boxes(self, on: bool) -> None:
        if _on_off("refine_boxes", on) and self._box_head is None:
            raise ValueError("this bundle does not refine boxes (preprocessing.lnet.refine_boxes is not set; "
                             "build_bundle --lnet-input '{\"refine_boxes\": true}' sets it)")  # fmt: skip
        self._refine_on = bool(on)

    @property
    def box_head(self) -> BoxHead | None:
        """The BoxHead that places each face box from ANet's feature of its region
        (lnet_anet.inference.box_head), when the bundle's preprocessing.lnet.refine_boxes is set
        (default: the bundle's embedded one, else the shipped one, DEFAULT_BOX_HEAD); None otherwise. locate_many and
        analyse_boxes' face boxes do not use it (no ANet there; the given boxes). Setting one
        fitted on another ANet's feature than this bundle's raises ValueError."""
        return self._box_head

    @box_head.setter
    def box_head(self, head: BoxHead) -> None:
        self._box_head = _fitting(head, self.bundle, "refines its face boxes", "refine_boxes", "box_head")

    @property
    def crowd_box_head(self) -> BoxHead | None:
        """The BoxHead that places the faces of a picture where the bundle's
        preprocessing.lnet.crowd_box_head or more faces were found (the others keep box_head's
        box), when the bundle sets it (default: the bundle's embedded one, else the shipped MLP head, NAMED_BOX_HEADS["mlp"]: on
        val it finds more of the faces of crowds and grids, but its box moves more with the
        exposure of a one-face picture; experiments/2026-12-06-crowd-box-head); None otherwise.
        Setting one fitted on another ANet's feature than this bundle's raises ValueError."""
        return self._crowd_box_head

    @crowd_box_head.setter
    def crowd_box_head(self, head: BoxHead) -> None:
        self._crowd_box_head = _fitting(head, self.bundle, "places the faces of crowds", "crowd_box_head",
                                        "crowd_box_head", fit="box_head")  # fmt: skip

    @property
    def face_head(self) -> FaceHead | None:
        """The FaceHead that rescues a photo with no face found (lnet_anet.inference.face_head),
        when the bundle's preprocessing.lnet.rescue_faces is set (default: the bundle's embedded one, else the shipped one,
        DEFAULT_FACE_HEAD); None otherwise. Setting one fitted on another ANet's feature than
        this bundle's raises ValueError."""
        return self._face_head

    @face_head.setter
    def face_head(self, head: FaceHead) -> None:
        self._face_head = _fitting(head, self.bundle, "rescues faces", "rescue_faces", "face_head")

    @property
    def custom_heads(self) -> dict[str, str]:
        """{"face_head" / "box_head" / "crowd_box_head" / "upright_head": its digest} for each of the
        heads in use (rescue / refine_boxes / rotations on) that is neither the bundle's embedded one
        nor, where it embeds none, the shipped one (a head of your
        own: Predictor.load(face_head= / box_head= / crowd_box_head=), the upright_head setter,
        predict --face-head / --box-head / --crowd-box-head / --upright-head). Records read so say it
        under the same keys, so that `predict --resume` refuses to mix them with records read otherwise."""
        return {name: digest for name, (head, digest) in self._heads_in_use().items()  # the bundle's own: its identity
                if digest != self._embedded.get(name, _shipped_digest(type(head), SHIPPED_FILES.get(name)))}  # fmt: skip

    def _heads_in_use(self) -> dict[str, tuple[Any, str]]:
        """{name: (head, its digest)} of the face, box, crowd box and upright heads this Predictor reads with."""
        heads = {"face_head": self._face_head if self.rescue or self._lnet.verify_faces is not None else None,
                 "box_head": self._box_head if self.refine_boxes else None,
                 "crowd_box_head": self._crowd_box_head if self.refine_boxes else None,
                 "upright_head": self._upright_head if self.rotations else None}  # fmt: skip
        return {name: (head, head.digest) for name, head in heads.items() if head is not None}

    @property
    def model_identity(self) -> str | None:
        """12 hex digits naming everything that makes a record's numbers: the bundle's identity,
        the digest of each head in use (embedded, shipped beside the bundle or the user's own) and
        the package's version; None for a bundle made in memory. Records say it as "model": the
        bundle's identity alone stays the same when a shipped head file changes (a trial: boxes
        moved 1.3 px under the same "bundle"), so `predict --resume` compares this too."""
        if self.bundle.identity is None:
            return None
        from lnet_anet import __version__

        heads = sorted((name, digest) for name, (_, digest) in self._heads_in_use().items())
        return hashlib.sha1(json.dumps([self.bundle.identity, heads, __version__]).encode()).hexdigest()[:12]

    @property
    def reading_settings(self) -> dict[str, Any]:
        """The settings this Predictor reads with where they differ from its bundle's (empty: as
        the bundle says): the localizer's "threshold", "secondary_threshold", "weak_threshold" and
        "crowd" (predict --threshold / --secondary-threshold), "detail_ratio" (--detail),
        "zoom_in_lone_skip_share" (lone_skip_share, --closeups), "patches" ({head:
        "grid" or "centre"}, Predictor.load(patches=), --attractiveness-patches) and "arbitrate_nested"
        (the share, None: off) with "arbitrate_picture" (--arbitrate). Records say them
        under "settings", so that `predict --resume` refuses to mix records read otherwise."""
        arbitrate = (self.arbitrate_fill if self.arbitrate_nested else None, bool(self.arbitrate_nested and self.arbitrate_picture))
        return reading_settings_of(self.bundle.preprocessing,  # its settings as stored: no Localizer built per batch
                                   {key: getattr(self.localizer, key) for key in LOCALIZER_SETTINGS if hasattr(self.localizer, key)},
                                   self._lnet.detail_ratio, self._patches, arbitrate,
                                   self._lnet.zoom_in_lone_skip_share)  # fmt: skip

    @property
    def arbitrate(self) -> bool:
        """Whether the face head judges nested faces and a lone part (arbitrate_nested and
        arbitrate_picture, the class docstring; predict --arbitrate on / off). Setting True turns
        both on, at the bundle's share or multiscale.FILL; ValueError for a bundle without a face
        head (preprocessing.lnet.rescue_faces)."""
        return self.arbitrate_nested and self.arbitrate_picture

    @arbitrate.setter
    def arbitrate(self, on: bool) -> None:
        if _on_off("arbitrate", on) and self._lnet.rescue_faces is None:
            raise ValueError("this bundle has no face head to judge nested faces (preprocessing.lnet.rescue_faces is not set)")
        self.arbitrate_nested = self.arbitrate_picture = bool(on)
        if on and self.arbitrate_fill is None:
            self.arbitrate_fill = FILL

    @property
    def descriptor_head(self):
        """Opt-in (default None): a lnet_anet.dldl.descriptor.DescriptorHead whose score, from
        dlib's face-recognition network run on each face box (its descriptor, and its last map
        for a head that reads it), is mixed into the attractiveness mean (the network int8 on
        ONNX Runtime, on a worker thread beside the face graph: a few ms per face on 2 CPU
        cores); the std is the bundle head's times the descriptor head's std_scale. Setting it
        raises as set_descriptor_head."""
        return self._descriptor_heads.get("attractiveness")

    @descriptor_head.setter
    def descriptor_head(self, head) -> None:
        self.set_descriptor_head("attractiveness", head)

    @property
    def age_descriptor_head(self):
        """Opt-in (default None): descriptor_head's counterpart for the age mean (years)."""
        return self._descriptor_heads.get("age")

    @age_descriptor_head.setter
    def age_descriptor_head(self, head) -> None:
        self.set_descriptor_head("age", head)

    def set_descriptor_head(self, name: str, head) -> None:
        """Mix `head` (a DescriptorHead; None: none) into the bundle head `name`'s mean. The faces'
        descriptors are computed once for all heads of the same descriptor settings. Raises
        ValueError when the bundle has no such head, `head` predicts another target, or a joint
        head was fitted on the feature of another ANet than this bundle's; ImportError (naming the
        packages) when `head` has no describer yet and dlib or its models are missing: said here,
        not by every later predict's error record."""
        if head is None:
            self._descriptor_heads.pop(name, None)
            return
        if name not in self._heads:
            raise ValueError(f"a descriptor head mixes into the {name} head, which this bundle lacks")
        if getattr(head, "target", name) != name:
            raise ValueError(f"this descriptor head predicts {head.target}, not {name}")
        if getattr(head, "anet", None) not in (None, self.bundle.part_digest("anet")):
            raise ValueError("this descriptor head was fitted on the feature of another ANet than this bundle's; "
                             "fit one on this bundle (python -m lnet_anet.cli.fit_descriptor_head --bundle ...)")  # fmt: skip
        if getattr(head, "describer", False) is None:  # a DescriptorHead's network, made now (dlib)
            from lnet_anet.dldl.descriptor import FaceDescriptor

            head.describer = FaceDescriptor(**head.settings)
        self._descriptor_heads[name] = head

    @property
    def detail_ratio(self) -> float | None:
        return self._lnet.detail_ratio

    @detail_ratio.setter
    def detail_ratio(self, ratio: float | None) -> None:
        self._lnet = LNetInput.from_dict({**self._lnet.to_dict(), "detail_ratio": ratio})

    @property
    def lone_skip_share(self) -> float | None:
        """A picture left with one face is read again at the zoom-in scales (for smaller faces
        beside it) unless that face's region spans at least this share of the picture's width and
        height (LNetInput.zoom_in_lone_skip_share; None: always read again). predict --closeups
        sets CLOSEUP_SKIP_SHARE: about half the time per close-up file; a second face cut by the
        picture's edge beside a close-up can be missed (experiments/2026-12-07-lone-zoom-room)."""
        return self._lnet.zoom_in_lone_skip_share

    @lone_skip_share.setter
    def lone_skip_share(self, share: float | None) -> None:
        """ValueError (lnet_anet.data.preprocess.PreprocessError) for a share outside (0, 1], or a
        bundle that does not read lone faces again (no zoom_in_lone_p)."""
        self._lnet = LNetInput.from_dict({**self._lnet.to_dict(), "zoom_in_lone_skip_share": share})

    def _graphs(self, copy_first: bool) -> dict[str, torch.nn.Module]:
        """The networks as the graphs the Predictor runs (inference.graphs): inference copies
        with BatchNorm folded into the convs, channels-last (faster on the CPU,
        benchmarks/bench_speed.py). The bundle's own networks stay as loaded, unless the
        Predictor loaded the bundle itself (copy_first False; same outputs either way)."""
        b = self.bundle
        # Trunk stages each head that reads a crop shares with ANet (0: it reads its own crop).
        self._shared_stages = {n: shared_trunk_stages(b.anet, self._anet, b.net(n), h) for n, h in self._heads.items()
                               if not h.reads_anet_features}  # fmt: skip
        for name, k in self._shared_stages.items():
            if k and self._heads[name].soften != 1:  # it reads ANet's crop, never a crop of its own
                raise ValueError(f"{self.bundle.path}: preprocessing.{name}.soften is set, but the {name} head "
                                 "shares ANet's stages and reads ANet's crop: only a head that reads its own crop "
                                 "can soften it")  # fmt: skip
        lnet = fold_batchnorm(b.lnet, copy_first)
        heads = {name: (fold_batchnorm(b.net(name), copy_first), h) for name, h in self._heads.items()}
        graphs = {"lnet": LNetGraph(lnet, self._lnet.normalize),
                  "faces": FaceGraph(fold_batchnorm(b.anet, copy_first), self._anet, heads, self._shared_stages)}  # fmt: skip
        if self.cascade is not None:
            graphs["regions"] = RegionGraph(lnet, self.cascade.input_size, self._lnet.normalize)
        return graphs

    def _graph_settings(self, name: str) -> str:
        """What graph `name` is built from besides its networks' tensors: their config and the
        settings it reads (GRAPH_PARTS). The localizer's and the detection steps' settings act on
        the graphs' outputs, so a bundle that changes only them (or embeds a head) reuses the
        cached graphs; the views of a face's region are cut before the graph, likewise."""
        prep, nets = self.bundle.preprocessing, self.bundle.config["nets"]
        if name in ("faces", "anet_only"):
            settings = {"anet": {k: v for k, v in prep["anet"].items() if k != "views"},
                        **{head: prep[head] for head in HEAD_KEYS if head in prep and name == "faces"}}  # fmt: skip
        else:  # LNet's graphs: its input's normalisation and size, and LNet_s's
            settings = {"lnet": {k: prep["lnet"][k] for k in LNET_GRAPH_SETTINGS if k in prep["lnet"]},
                        "cascade": prep.get("cascade")}  # fmt: skip
        return json.dumps({"graph": name, "preprocessing": settings,
                           "nets": {part: nets[part] for part in GRAPH_PARTS[name] if part in nets}}, sort_keys=True)  # fmt: skip

    def _graph_digest(self, name: str) -> str | None:
        """The digests of the networks graph `name` is built from (Bundle.part_digest), for a
        bundle the Predictor loaded from its file; None otherwise (graph_key then hashes the graph)."""
        if self._digest is None:
            return None
        return "|".join(f"{part}:{self.bundle.part_digest(part)}" for part in GRAPH_PARTS[name] if self.bundle.has(part))

    def _cached_graph(self, name: str) -> OrtGraph | None:
        """Graph `name` as exported before, read from the cache without building a torch network;
        None on the torch backend, for a bundle not loaded from its file, or when not cached yet."""
        if self.backend != "onnxruntime" or self._digest is None:
            return None
        return OrtGraph.cached(graph_key(self._graph_settings(name), self._graph_digest(name)))

    def _runner(self, name: str, graph: torch.nn.Module) -> TorchGraph | OrtGraph:
        """The graph in torch, or exported for ONNX Runtime (inference.runtime; cached)."""
        if self.backend == "torch":
            return TorchGraph(graph, self.device)
        h, w = self._lnet.input_size
        if name == "lnet":
            examples = [torch.zeros(2, h, w, 3, dtype=torch.uint8)]
            dynamic = {"canvases": {0: "n", 1: "h", 2: "w"}} | {o: {0: "n", 1: "y", 2: "x"} for o in graph.output_names}
        elif name == "regions":
            rois = torch.tensor([[0, 8, 8, w / 2, h / 2], [0, 0, 0, w, h]], dtype=torch.float32)
            examples = [torch.zeros(1, h, w, 3, dtype=torch.uint8), rois]
            dynamic = {"canvases": {0: "n", 1: "h", 2: "w"}, "rois": {0: "k"}, "response": {0: "k"}}
        else:
            sizes = [self._anet.canonical_size] + [self._heads[i.removesuffix("_crops")].image_size
                                                   for i in graph.input_names[1:]]  # fmt: skip
            examples = [torch.zeros(2, z, z, 3, dtype=torch.uint8) for z in sizes]
            dynamic = {io: {0: "n"} for io in (*graph.input_names, *graph.output_names)}
        key = graph_key(self._graph_settings(name), self._graph_digest(name), None if self._digest else graph)
        return OrtGraph.from_module(graph, examples, key, dynamic, label=f"{type(graph).__name__} '{name}'")

    @property
    def decision_thresholds(self) -> dict[str, float]:
        """Each attribute's decision threshold on its probability (the bundle's SVM head: chosen
        on a tune split to trade accuracy against balanced accuracy; 0.5 where none was tuned).
        A face's "present" list holds the attributes whose probability reaches it."""
        return {n: round(float(t), 4) for n, t in zip(self.attributes, self.bundle.svm.threshold, strict=True)}

    @classmethod
    def load(cls, path: str | Path | None = None, device: torch.device | str = "cpu",
             max_pixels: int | None = DEFAULT_MAX_PIXELS, backend: str = "auto",
             patches: dict[str, str] | None = None, mirror: bool | None = None,
             box_jitter: bool | None = None, face_head: FaceHead | str | Path | None = None,
             box_head: BoxHead | str | Path | None = None,
             crowd_box_head: BoxHead | str | Path | None = None, upright_head: UprightHead | str | Path | None = None,
             rotations: bool = False) -> Predictor:  # fmt: skip
        """Load a bundle (default: lnet_anet/assets/default.lnetanet) onto `device`. backend:
        "torch", "onnxruntime" (CPU; the networks exported once and cached, see
        lnet_anet.inference.runtime) or "auto" (ONNX Runtime on the CPU when installed).
        patches: {head: "grid" or "centre"}, the patches a head on ANet's layers (anet_dldl)
        scores a face from: its 3 x 3 grid, as trained and bundled, or the centre one alone, a
        ninth of its cost (e.g. {"attractiveness": "centre"}: its branch of the face graph takes
        0.8 instead of 2.0 ms; the setting the descriptor head's figures are measured with;
        experiments/2026-12-01-attractiveness-cost, sections 8-9).
        mirror: True reads each face's mirror image too (test-time averaging: ANet's patch
        features, every head on ANet's layers and every head reading its own crop average both;
        the bundled ANet and heads were trained with mirror views), False reads the crop alone,
        None as the bundle says (the embedded bundle: off). On 2 CPU cores it adds about 10-25 ms per
        face with the embedded bundle, whose age nets read a crop of their own (a head reading its
        own crop costs twice its own time; 5-7 ms with the age head before);
        end to end on val, the accuracy is unchanged and 10-20% fewer attribute decisions flip
        when the file is re-saved, shifted, rescaled or re-exposed
        (experiments/2026-12-02-mirror-views).
        box_jitter: True reads each face through 7 views of its region (BOX_JITTER: shifted by
        2% each way, scaled by 0.93 and 1.07) and averages ANet's features and the heads'
        answers (test-time averaging over the box LNet found), False the region alone, None as
        the bundle says (preprocessing.anet.views; the embedded bundle: off); its gain and cost:
        experiments/2026-12-02-box-jitter.
        face_head: the FaceHead (or its file) that rescues photos with no face found, for a
        bundle whose preprocessing.lnet.rescue_faces is set (default: the bundle's embedded one, else the shipped one; see the
        face_head property). box_head: likewise the BoxHead (or its file) that places the face
        boxes, for a bundle whose preprocessing.lnet.refine_boxes is set (box_head property);
        crowd_box_head: the one for the faces of crowds, for a bundle whose
        preprocessing.lnet.crowd_box_head is set (crowd_box_head property); upright_head: the
        UprightHead (or its file) that picks the quarter turn (upright_head property); rotations:
        whether quarter turns are tried (rotations property: loads the upright head). Every head
        is loaded and checked against the bundle before any graph is exported: one of another ANet
        is refused in a second, not after minutes of export.
        Raises FileNotFoundError (no bundle, no face or box head file), BundleError (a bad bundle),
        RuntimeError (no CUDA) or ValueError (a backend that cannot run here; a head the bundle
        lacks or that is not on ANet's layers, an unknown patch set, a mirror or box_jitter that
        is not a bool or None; a face or box head for a bundle without rescue_faces /
        refine_boxes, or a head fitted on another ANet)."""
        if path is None:
            if not DEFAULT_BUNDLE.is_file():
                raise FileNotFoundError(
                    f"no model bundle yet: {DEFAULT_BUNDLE} does not exist. Build one with "
                    "`python -m lnet_anet.cli.build_bundle --lnet RUN --anet RUN [--age RUN] "
                    "[--attractiveness RUN]` or pass a bundle path."
                )
            path = DEFAULT_BUNDLE
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device 'cuda' was asked for, but torch sees no CUDA GPU")
        # ONNX Runtime with cached graphs needs no torch network: they are built only if needed.
        bundle = load_bundle(path, device, build_nets=False)
        for name, which in (patches or {}).items():  # before any graph is made: its cache key holds the nets' config
            _score_patches(bundle, name, which)
        if mirror is not None:
            if not isinstance(mirror, bool):
                raise ValueError(f"mirror must be True, False or None, not {mirror!r}")
            _mirror_views(bundle, mirror)
        if box_jitter is not None:
            if not isinstance(box_jitter, bool):
                raise ValueError(f"box_jitter must be True, False or None, not {box_jitter!r}")
            bundle.preprocessing["anet"]["views"] = [list(v) for v in BOX_JITTER] if box_jitter else []
        predictor = cls(bundle, max_pixels, _own_bundle=True, backend=backend, face_head=face_head, box_head=box_head,
                        crowd_box_head=crowd_box_head, upright_head=upright_head, rotations=rotations)  # fmt: skip
        predictor._patches = dict(patches or {})
        return predictor

    # -- public API --------------------------------------------------------------------------
    def predict(self, image: ImageInput, channel_order: str = "rgb") -> dict[str, Any]:
        """The record (module docstring) of one image: a path, an open binary file or stream
        (io.BytesIO), a PIL.Image or a numpy array (channel_order "bgr" for OpenCV's arrays; files
        and PIL images carry their own order, so it does not apply to them). Never raises for a bad
        image: its record has "faces": [] and an "error" naming it. Raises ValueError for a bad
        channel_order."""
        return self.analyse(image, channel_order).record

    def analyse(self, image: ImageInput, channel_order: str = "rgb") -> Analysis:
        """predict's Analysis: the record plus the decoded image and response map."""
        channel_order = channel_order_of(channel_order)
        return self._process([image], channel_order)[0]

    def analyse_boxes(self, image: ImageInput, boxes, channel_order: str = "rgb",
                      kind: str = "face") -> list[dict[str, Any]]:  # fmt: skip
        """The face records of the given boxes, LNet skipped: ANet, the SVMs and the heads read
        each box's crop as they read a found face's. boxes: (N, 4) (x0, y0, x1, y1) pixels of
        the image as displayed (EXIF orientation applied, never shrunk), exclusive ends; kind
        "face": face boxes as the records give them and face detectors draw them (a box from
        another detector), read through the region the localizer's face_box maps them from;
        "region": the regions the heads crop (lnet_boxes' boxes, or a fixed framing in a
        benchmark). Each record's "box" is the face box; its "score" is null. A record's box
        that predict clipped at the image's edge maps back to a smaller region than the one the
        face was read through, so its answers can differ a little from predict's; so do those of
        a box the box head placed (refine_boxes): its region is centred on the box head's face
        box, not on LNet's region (refine_boxes = False reports boxes that map back exactly). Raises
        ImageReadError / InputError for an unreadable image, ValueError for a box that is not
        finite, has no area, lies wholly outside the image, has a side over MAX_BOX_SIDE times the
        image's longer side or is not (N, 4), or another kind.
        Does not turn the image (`rotations` is for found faces): give boxes of the image as
        displayed."""
        channel_order = channel_order_of(channel_order)
        faces = self._box_faces(to_rgb8(image, channel_order, None), boxes, kind)
        self._analyse_all(faces)
        return [face for *_, face in faces]

    @torch.inference_mode()
    def anet_features(self, image: ImageInput, boxes, kind: str = "face", channel_order: str = "rgb",
                      pad: str | None = None) -> np.ndarray:  # fmt: skip
        """ANet's feature of each box, (N, D): its patch features averaged over the patches (and
        the views of box_jitter when it is on; without the mirror images' patches). pad: how the
        crops are filled outside the picture (data.transforms.PAD_MODES); None: the bundle's, as
        the attribute SVMs and the descriptor heads read them; JUDGE_PAD: as the face, box and
        upright heads judge them. image, boxes, kind and the errors raised as analyse_boxes."""
        channel_order = channel_order_of(channel_order)
        faces = self._box_faces(to_rgb8(image, channel_order, None), boxes, kind)
        if not faces:
            return np.zeros((0, self.bundle.svm.feature_dim), np.float32)
        return self._mean_features(faces, pad)

    def _box_faces(self, img: np.ndarray, boxes, kind: str) -> list[tuple[np.ndarray, np.ndarray, float, dict]]:
        """analyse_boxes' faces: (image, region, 0, record) per box of `kind`."""
        if kind not in BOX_KINDS:
            raise ValueError(f"kind must be one of {BOX_KINDS}, got {kind!r}")
        try:
            table = np.asarray(boxes, np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"boxes must be numbers, (N, 4) x0, y0, x1, y1: {e}") from None
        if table.size == 0:
            table = table.reshape(0, 4)
        if table.ndim == 1 and table.shape[0] == 4:
            table = table[None]  # one box
        if table.ndim != 2 or table.shape[1] != 4:
            raise ValueError(f"boxes must be (N, 4) x0, y0, x1, y1, got shape {table.shape} "
                             "(a detector's (N, 5) with scores: pass boxes[:, :4])")  # fmt: skip
        h, w = img.shape[:2]
        faces = []
        for k, box in enumerate(table):
            x0, y0, x1, y1 = box
            if not (np.isfinite(box).all() and x1 > x0 and y1 > y0):
                raise ValueError(f"box {k} {box.tolist()}: need finite x0 < x1 and y0 < y1")
            if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
                raise ValueError(f"box {k} {box.tolist()} lies wholly outside the {w}x{h} image")
            if max(x1 - x0, y1 - y0) > MAX_BOX_SIDE * max(w, h):  # its crop would be padding, and huge
                raise ValueError(f"box {k} {box.tolist()} is over {MAX_BOX_SIDE}x the {w}x{h} image's longer side")
            region = self.localizer.to_region(box) if kind == "face" else box
            face = box if kind == "face" else self.localizer.to_face_box(box)
            faces.append((img, region, 0.0, {**_face_record(face, 0.0), "score": None}))
        return faces

    def predict_many(self, images: Iterable[ImageInput], batch_size: int = 8,
                     channel_order: str = "rgb") -> Iterator[dict]:  # fmt: skip
        """Records in input order, one per item; bad items give error records and the rest go
        on. Items are read ahead (batch_size + DECODE_WORKERS); a numpy item is copied when taken,
        so a generator may reuse one frame buffer. Raises ValueError (at the call) for a batch_size
        not an int >= 1 or a bad channel_order, TypeError for a single path or bytes (an iterable of images is
        wanted: predict takes one). An error the iterable itself raises (a camera unplugged) is
        raised after the records of the items taken before it."""
        return (a.record for a in self.analyse_many(images, batch_size, channel_order))

    def analyse_many(self, images: Iterable[ImageInput], batch_size: int = 8,
                     channel_order: str = "rgb") -> Iterator[Analysis]:  # fmt: skip
        """Analyses in input order, `batch_size` images per LNet pass."""
        batch_size = _batch_size(batch_size)  # checked here, not at the generator's first step
        if _one_image(images):
            raise TypeError(f"predict_many takes an iterable of images, not one {type(images).__name__} "
                            "(use predict for a single image, or a list)")  # fmt: skip
        channel_order = channel_order_of(channel_order)
        return self._batches(images, batch_size, channel_order)

    def _batches(self, images: Iterable[ImageInput], batch_size: int,
                 channel_order: str) -> Iterator[Analysis]:  # fmt: skip
        """Batches of decoded items, decoded by DECODE_WORKERS threads while the networks run
        (decoding and resizing release the GIL): the next batch's first DECODE_WORKERS items are
        decoded ahead, no more, so that a batch of huge photos is not held twice in memory. The
        first batch is one image: its record, and a progress bar's first estimate, come after one
        image's time, not batch_size images'."""
        items = iter(images)
        pending: deque = deque()  # (item, future of its _read)
        pool = ThreadPoolExecutor(DECODE_WORKERS, thread_name_prefix="lnet_anet-decode")
        size = 1
        failed: Exception | None = None  # the input iterator's error: raised once the items taken are analysed
        try:
            while True:
                while failed is None and len(pending) < batch_size + DECODE_WORKERS:
                    taken, failed = _take(items, 1)
                    if not taken:
                        break
                    pending.append((taken[0], pool.submit(self._read, taken[0], channel_order)))
                if not pending:
                    if failed is not None:
                        raise failed
                    return
                batch = [pending.popleft() for _ in range(min(size, len(pending)))]
                size = batch_size
                read = [future.result() for _, future in batch]
                yield from self._analyse_safely(read, [item for item, _ in batch])
        finally:
            for _, future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    def locate_many(self, images: Iterable[ImageInput], batch_size: int = 8,
                    kind: str = "face") -> Iterator[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """Localization (LNet, the localizer at every scale, the cascade, and the bundle's
        face-finding steps: the check map, the face filter and the rescue read ANet's feature of
        each doubtful face with the face head; no attributes, age, attractiveness or box heads):
        per item, in order, its faces as (box (x0, y0, x1, y1) in the displayed image's
        pixels, score), strongest first; [] for a face-free or unreadable item (an unreadable
        one also warns, UnreadableImageWarning, naming it and why). kind "face": the
        localizer's fixed face box of each face (face_box; no box head, which reads ANet, so
        not the box a record gives where the bundle has a box head); "region": the regions the
        heads crop (analyse_boxes' kind). Reads `images` as it goes, batch_size at a time, so a
        generator may be endless. Raises ValueError for a batch_size not an int >= 1 or another kind,
        TypeError for one image given alone: at the call, as predict_many does, not when the
        iterator is first read."""
        batch_size = _batch_size(batch_size)
        if kind not in BOX_KINDS:
            raise ValueError(f"kind must be one of {BOX_KINDS}, got {kind!r}")
        if _one_image(images):
            raise TypeError(f"locate_many takes an iterable of images, not one {type(images).__name__} "
                            "(a list of one, e.g. locate_many([path]))")  # fmt: skip
        return self._locate_batches(iter(images), batch_size, kind)

    def _locate_batches(self, items: Iterator[ImageInput], batch_size: int, kind: str
                        ) -> Iterator[list[tuple[np.ndarray, float]]]:  # fmt: skip
        failed: Exception | None = None  # the input iterator's error: raised once the items taken are located
        while failed is None:
            batch, failed = _take(items, batch_size)
            if not batch:
                break
            read = [self._read(item, "rgb") for item in batch]
            good = [img for img, _, _ in read if img is not None]
            found = iter(self._detect(good, [Analysis({}) for _ in good]) if good else [])
            for img, source, error in read:
                if img is None:  # said, so that an unreadable file is not taken for a photo with no face
                    warnings.warn(error if source is None or source in error else f"{source}: {error}",
                                  UnreadableImageWarning, stacklevel=2)  # fmt: skip
                faces = next(found) if img is not None else []
                yield faces if kind == "region" else [(self.face_box(b, img.shape[:2]), s) for b, s in faces]
        if failed is not None:
            raise failed

    # -- pipeline ----------------------------------------------------------------------------
    def _read(self, item: ImageInput, channel_order: str) -> tuple[Any, str | None, str | None]:
        """(uint8 RGB image or None, source, error or None)."""
        source = source_of(item)
        try:
            return to_rgb8(item, channel_order, self.max_pixels), source, None
        except (ImageReadError, InputError) as e:
            return None, source, str(e)
        except Exception as e:  # noqa: BLE001 - one bad item never drops the others
            return None, source, f"{describe(item)}: cannot read ({type(e).__name__}: {e})"

    def _process(self, items: list[ImageInput], channel_order: str = "rgb") -> list[Analysis]:
        """The batch's analyses; when the batch's analysis fails (say, memory for a huge image),
        each image is analysed alone, and an image whose analysis fails gets an error record."""
        read = [self._read(item, channel_order) for item in items]
        return self._analyse_safely(read, items)

    def _analyse_safely(self, read: list[tuple], items: list[ImageInput]) -> list[Analysis]:
        try:
            return self._analyse_batch(read)
        except Exception as e:  # noqa: BLE001
            if len(read) > 1:
                return [a for one, item in zip(read, items, strict=True)
                        for a in self._analyse_safely([one], [item])]  # fmt: skip
            _, source, _ = read[0]
            name = source if source is not None else describe(items[0])
            error = f"{name}: analysis failed ({type(e).__name__}: {e})"
            return [Analysis(self._error_record(source, error), source=source)]

    def _error_record(self, source: str | None, error: str) -> dict[str, Any]:
        """The record of an image that could not be read or analysed; it names the bundle as
        every record does (a --resume retries it with the same bundle only)."""
        record = {"image": source, "width": None, "height": None, "faces": [], "error": error}
        if self.bundle.identity is not None:
            record["bundle"], record["model"] = self.bundle.identity, self.model_identity
        return record

    @torch.inference_mode()
    def _analyse_batch(self, read: list[tuple]) -> list[Analysis]:
        good = [i for i, (img, _, _) in enumerate(read) if img is not None]
        out: list[Analysis] = []
        for img, source, error in read:
            if img is None:
                out.append(Analysis(self._error_record(source, error), source=source))
                continue
            record = {"image": source, "width": int(img.shape[1]), "height": int(img.shape[0]), "faces": [],
                      "error": None}  # fmt: skip
            out.append(Analysis(record, img, source=source))
        if not good:
            return out
        analyses = [out[i] for i in good]
        # the settings the records name, taken before the work: another thread may change them during
        # it (a trial: 72 of 809 records named a threshold set while their faces were being found)
        custom, settings, model = self.custom_heads, self.reading_settings, self.model_identity
        if self.rotations:  # the turn rule, where it is not the default
            settings |= {key: value for key, value, default in (("upright_bar", self.upright_bar, UPRIGHT_BAR),
                         ("upright_margin", self.upright_margin, UPRIGHT_MARGIN)) if value != default}  # fmt: skip
        found = self._detect([a.image for a in analyses], analyses)
        images = [a.read_as if a.read_as is not None else a.image for a in analyses]  # what the faces are cut from
        turns = [0] * len(images)
        cut_from = images
        if self.rotations:
            found, turns, cut_from = self._upright(images, found, analyses)
        faces: list[tuple[np.ndarray, np.ndarray, float, dict]] = []  # (image read, box in it, score, record)
        shown_in: list[tuple[Analysis, int, int]] = []  # per face: its Analysis, index in faces_px, turn
        for k, i in enumerate(good):
            a = out[i]
            turned = cut_from[k]
            if self.rotations:
                a.record["rotation"] = 90 * turns[k]
            read_size = input_for(turned.shape[:2], self._lnet)
            if read_size != tuple(self._lnet.input_size):  # a panorama, read on a longer canvas (wide_canvas)
                a.record["canvas"] = [read_size[1], read_size[0]]  # a 2.99:1 and a 3:1 crop read so differently (trial 84)
            if self._descriptor_heads:  # which outputs a descriptor head mixed into, so records tell the modes apart
                a.record["descriptor_heads"] = self.descriptor_heads
            if self.mirror:  # likewise for the mirror views (Predictor.load(mirror=True), --mirror)
                a.record["mirror"] = True
            if self.box_jitter:  # and for the jittered views (Predictor.load(box_jitter=True), --box-jitter)
                a.record["box_jitter"] = True
            if any(isinstance(f, _Rescued) for f in found[k]):  # of the turn read, when rotations chose one
                a.record["rescued"] = True  # a face the face head kept (the detail pass may add others)
            if self._face_head is not None and not self.rescue:  # the bundle's rescue turned off (--no-rescue)
                a.record["rescue"] = False
            if self._box_head is not None and not self.refine_boxes:  # likewise its box head (--no-refine-boxes)
                a.record["refine_boxes"] = False
            a.record.update(custom)  # a face or box head of the user's own: its digest
            if settings:  # localization settings other than the bundle's (reading_settings)
                a.record["settings"] = settings
            if self.bundle.identity is not None:  # which bundle file read it (Bundle.identity), with which heads
                a.record["bundle"], a.record["model"] = self.bundle.identity, model
            for found_face in found[k]:  # box: the face's region, which the heads crop
                box, score = found_face
                shown = _turn_back(self.face_box(box, turned.shape[:2]), turns[k], a.image.shape[:2])
                face = _face_record(shown, score)
                if isinstance(found_face, _Rescued):  # the face head's P(face), which kept it
                    face["face_probability"] = round(found_face.probability, 4)
                    if found_face.frame:  # the whole picture as its face box (rescue_frame)
                        face["frame"] = True
                a.record["faces"].append(face)
                a.faces_px.append(shown)
                faces.append((turned, box, score, face))
                shown_in.append((a, len(a.faces_px) - 1, turns[k]))
        features = self._analyse_all(faces)
        if self._refine_on and faces:
            self._refine_boxes(faces, self._judged(faces, features), shown_in)
        return out

    def _judged(self, faces: list, features: np.ndarray) -> np.ndarray:
        """What the box head reads of the faces: the reading's features (_analyse_all's, (N, D)),
        those of the faces whose ANet crop leaves the picture read again filled JUDGE_PAD when the
        bundle fills otherwise (a crop inside the picture is the same whatever the fill)."""
        p = self._anet
        if p.pad == JUDGE_PAD:
            return features
        views = p.views or ((0.0, 0.0, 1.0),)
        redo = [k for k, (img, box, *_) in enumerate(faces)
                if any(leaves_picture(img.shape[:2], face_region(jitter_box(box, v), p.enlarge)) for v in views)]  # fmt: skip
        if not redo:
            return features
        judged = features.copy()
        judged[redo] = self._judge_features([faces[k] for k in redo])
        return judged

    def _judge_features(self, faces: list) -> np.ndarray:
        """ANet's feature of each face's region (N, D), the patch average, every crop filled
        JUDGE_PAD outside the picture: what the face, box and upright heads learnt on."""
        chunk = self._face_chunk
        return np.concatenate([self._face_features(faces[s : s + chunk], JUDGE_PAD, False)[0].mean(1)
                               for s in range(0, len(faces), chunk)])  # fmt: skip

    def _refine_boxes(self, faces: list, features: np.ndarray, shown_in: list[tuple[Analysis, int, int]]) -> None:
        """The box head's face boxes (refine_boxes): each face box moved and resized from ANet's
        feature of its region, in the pixels of the image read (turned, for rotations), clipped to
        it, then turned back; the record's "box" and the Analysis' faces_px become them. The faces
        of a picture with crowd_box_head's number of faces or more (and, with crowd_box_small, a
        face whose box is that small in its picture) are placed by that head, crowd_box_steps
        times, each step from ANet's feature of the region of the box it placed last."""
        fixed = np.stack([self.face_box(region, img.shape[:2]) for img, region, *_ in faces])
        boxes = self._box_head.correct(fixed, features)
        if self._crowd_box_head is not None:
            in_picture = Counter(id(a) for a, *_ in shown_in)
            crowd = [in_picture[id(a)] >= self._lnet.crowd_box_head for a, *_ in shown_in]
            crowd = np.flatnonzero(np.logical_or(crowd, self._small_in_picture(fixed, [img for img, *_ in faces])))
            if len(crowd):
                boxes[crowd] = self._crowd_steps([faces[k][0] for k in crowd], fixed[crowd], features[crowd])
        for (img, _, _, face), (a, j, turn), box in zip(faces, shown_in, boxes, strict=True):
            h, w = img.shape[:2]
            shown = _turn_back(np.clip(box, 0, [w, h, w, h]), turn, a.image.shape[:2])
            face["box"] = [round(float(v), 1) for v in shown]
            a.faces_px[j] = shown

    def _crowd_steps(self, images: list[np.ndarray], fixed: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The crowd box head's boxes (N, 4) of faces in `images` from their fixed face boxes (N, 4)
        and ANet's features of their regions (N, D): crowd_box_steps corrections, each after the
        first from ANet's feature of the region of the box placed last."""
        placed = self._crowd_box_head.correct(fixed, features)
        for _ in range(self._lnet.crowd_box_steps - 1):
            regions = [(img, self.localizer.to_region(box)) for img, box in zip(images, placed, strict=True)]
            placed = self._crowd_box_head.correct(placed, self._judge_features(regions))
        return placed

    def _small_in_picture(self, fixed: np.ndarray, images: list[np.ndarray]) -> np.ndarray:
        """(N,) bool: face boxes `fixed` (N, 4) whose shorter side is at most crowd_box_small of
        their image's shorter side, placed by the crowd head whatever the count (all False when
        crowd_box_small is not set)."""
        if self._lnet.crowd_box_small is None:
            return np.zeros(len(fixed), bool)
        sides = np.minimum(fixed[:, 2] - fixed[:, 0], fixed[:, 3] - fixed[:, 1])
        return sides <= self._lnet.crowd_box_small * np.array([min(img.shape[:2]) for img in images])

    def _lone_face_box(self, image: np.ndarray, region: np.ndarray) -> np.ndarray:
        """The face box (4,) that _refine_boxes gives a picture's only face found at `region`: the
        crowd head's steps when crowd_box_small makes it a crowd face, else the box head's
        correction, else (refine_boxes off) the localizer's face box; image pixels, unclipped."""
        fixed = self.face_box(region, image.shape[:2])
        if not self._refine_on:
            return fixed
        features = self._mean_features([(image, region, 0.0, {})])
        crowd = self._crowd_box_head is not None and (
            self._lnet.crowd_box_head <= 1 or bool(self._small_in_picture(fixed[None], [image])[0]))
        return (self._crowd_steps([image], fixed[None], features) if crowd else self._box_head.correct(fixed[None], features))[0]

    def face_box(self, region: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        """The face box reported for a region the localizer found in an (h, w) image (the
        localizer's face_box), clipped to the image."""
        return np.clip(self.localizer.to_face_box(region), 0, [hw[1], hw[0], hw[1], hw[0]])

    def _upright(self, images: list[np.ndarray], found: list[list[tuple[np.ndarray, float]]],
                 analyses: list[Analysis]) -> tuple[list[list[tuple[np.ndarray, float]]], list[int], list[np.ndarray]]:  # fmt: skip
        """Per image, the faces of the quarter turn (np.rot90's k, counterclockwise) that
        _choose_turns picks, boxes in the turned image's pixels; k; and the turned copy
        they are cut from (the exposure retry's, when that turn's reading took it). found: the
        faces of the unturned images (`images`, each analyses[i]'s copy read). analyses[i] of an
        image read at another turn takes that turn's maps (maps_turn), its read_as turned back
        and its record's "exposure"."""
        candidates = [{0: (img, faces)} for img, faces in zip(images, found, strict=True)]
        readings: dict[int, list[Analysis]] = {}  # each turn's reading of each image: its maps and copy read
        for k in (1, 2, 3):
            turned = [np.ascontiguousarray(np.rot90(img, k)) for img in images]
            readings[k] = [Analysis({}, img) for img in turned]
            for i, faces in enumerate(self._detect(turned, readings[k])):
                candidates[i][k] = (turned[i], faces)
        turns = self._choose_turns(candidates)
        cut_from = list(images)
        for i, k in enumerate(turns):
            if k:
                reading, a = readings[k][i], analyses[i]
                cut_from[i] = reading.read_as if reading.read_as is not None else reading.image
                a.maps, a.maps_turn = reading.maps, k
                a.read_as = None if reading.read_as is None else np.ascontiguousarray(np.rot90(reading.read_as, -k))
                a.record.pop("exposure", None)
                a.record.update((key, v) for key, v in reading.record.items() if key == "exposure")
        return [candidates[i][k][1] for i, k in enumerate(turns)], turns, cut_from

    def _choose_turns(self, candidates: list[dict[int, tuple[np.ndarray, list]]]) -> list[int]:
        """Per image ({turn k: (turned image, its faces strongest first)}), the turn to read:
        upright.choose_turn of _turn_chances. (Preferring turns with a face found at the threshold
        over rescued ones passed tune but not val: experiments/2026-12-04-rotations-found-first.)"""
        return [choose_turn(chances, self.upright_bar, self.upright_margin)
                for chances in self._turn_chances(candidates)]  # fmt: skip

    def _turn_chances(self, candidates: list[dict[int, tuple[np.ndarray, list]]]) -> list[dict[int, float]]:
        """Per image ({turn k: (turned image, its faces strongest first)}), each turn's mean
        P(upright) (upright_head) over its UPRIGHT_FACES strongest faces; turns without a face
        are left out."""
        return [{k: float(np.mean(self.upright_head.probability(f))) for k, f in turns.items()}
                for turns in self._turn_features(candidates, UPRIGHT_FACES)]  # fmt: skip

    def _turn_features(self, candidates: list[dict[int, tuple[np.ndarray, list]]], faces: int
                       ) -> list[dict[int, np.ndarray]]:  # fmt: skip
        """Per image ({turn k: (turned image, its faces strongest first)}), ANet's features of
        each turn's `faces` strongest faces, {k: (n, D)}; turns without a face are left out. All
        the crops go through the face graph together."""
        crops = [(i, k, (img, box, score, {})) for i, turns in enumerate(candidates)
                 for k, (img, found) in turns.items() for box, score in found[:faces]]  # fmt: skip
        by_turn: list[dict[int, list[np.ndarray]]] = [{} for _ in candidates]
        if crops:
            for (i, k, _), feature in zip(crops, self._mean_features([c for *_, c in crops]), strict=True):
                by_turn[i].setdefault(k, []).append(feature)
        return [{k: np.stack(v) for k, v in turns.items()} for turns in by_turn]

    @_on_op_threads
    def _mean_features(self, faces: list, pad: str | None = JUDGE_PAD) -> np.ndarray:
        """ANet's feature of each face (image, region, score, record), the patch average: (N, D).
        With mirror views on, the average of the crop's own patches (of each view's, with
        box_jitter): what the face, box and upright heads read, fitted on crops read alone (the
        mirror images' patches in it made --mirror drop rescued faces). pad: _face_features'
        (JUDGE_PAD, what those heads judge, unless told)."""
        memo = getattr(_FEATURES, "memo", None)
        if memo is None:
            return self._compute_mean_features(faces, pad)
        keys = [(id(self), id(img), np.asarray(box, np.float64).tobytes(), pad) for img, box, *_ in faces]
        todo = {key: face for key, face in zip(keys, faces, strict=True) if key not in memo}
        if todo:
            for (key, face), feature in zip(todo.items(), self._compute_mean_features(list(todo.values()), pad), strict=True):
                memo[key] = (face[0], feature)  # the image kept: its id stays its own while the memo lives
        return np.stack([memo[key][1] for key in keys])

    def _compute_mean_features(self, faces: list, pad: str | None) -> np.ndarray:
        chunk = self._face_chunk
        return np.concatenate([self._crop_patches(self._face_features(faces[s : s + chunk], pad, False)[0]).mean(1)
                               for s in range(0, len(faces), chunk)])  # fmt: skip

    def _crop_patches(self, features: np.ndarray) -> np.ndarray:
        """_face_features' patch features (N, M, D) without the mirror images' when mirror views
        are on (per view, FaceGraph gives the crop's patches, then its mirror image's)."""
        if not self.mirror:
            return features
        n, m, d = features.shape
        views = max(1, len(self._anet.views))
        return features.reshape(n, views, 2, m // (2 * views), d)[:, :, 0].reshape(n, -1, d)

    def _turns(self, image: ImageInput, channel_order: str) -> dict[int, tuple[np.ndarray, list]]:
        """{k: (the image turned by k quarter turns, its faces strongest first)} for k = 0..3."""
        channel_order = channel_order_of(channel_order)
        img = to_rgb8(image, channel_order, self.max_pixels)
        turned = [np.ascontiguousarray(np.rot90(img, k)) for k in range(4)]
        return dict(enumerate(zip(turned, self._detect(turned, None), strict=True)))

    @torch.inference_mode()
    def turn_features(self, image: ImageInput, channel_order: str = "rgb", faces: int = UPRIGHT_FACES
                      ) -> dict[int, np.ndarray]:  # fmt: skip
        """For each quarter turn of the image (np.rot90's k, counterclockwise) in which LNet finds
        a face: ANet's features of its strongest faces (up to `faces`, the ones `rotations`
        reads), {k: (n, D) float32}: what UprightHead.fit learns from (fit_upright). image and
        errors as `predict`."""
        return self._turn_features([self._turns(image, channel_order)], faces)[0]

    @torch.inference_mode()
    def upright_chances(self, image: ImageInput, channel_order: str = "rgb") -> dict[int, float]:
        """What `rotations` decides by: for each quarter turn of the image (np.rot90's k) in
        which LNet finds a face, upright_head's mean P(upright) of its UPRIGHT_FACES strongest
        faces, {k: p}; upright.choose_turn takes the highest. image and errors as `predict`."""
        return self._turn_chances([self._turns(image, channel_order)])[0]

    @_on_op_threads
    @torch.inference_mode()
    def candidates(self, image: ImageInput, min_score: float = -float("inf"), channel_order: str = "rgb"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """The localizer's candidate faces in an image down to `min_score` (its threshold lowered;
        up to 100, strongest first, read at the bundle's scales) with ANet's feature of each:
        regions (k, 4) [x0, y0, x1, y1] in image pixels (the crops the heads read; face_box maps
        them to face boxes), LNet scores (k,), features (k, D). What a face head is fitted on
        (python -m lnet_anet.cli.fit_face_head). image and errors as analyse_boxes."""
        img = to_rgb8(image, channel_order_of(channel_order), None)
        opened = dataclasses.replace(self.localizer, threshold=min_score, min_relative_score=0.0, max_faces=100,
                                     max_peaks=200)  # fmt: skip
        (faces,) = self._read_scales([img], None, opened)
        if not faces:
            return np.zeros((0, 4)), np.zeros(0), np.zeros((0, self.bundle.svm.feature_dim), np.float32)
        features = self._mean_features([(img, box, score, {}) for box, score in faces])
        return np.stack([box for box, _ in faces]), np.array([score for _, score in faces]), features

    @_on_op_threads
    @_memo_features
    @torch.inference_mode()
    def _detect(self, images: list[np.ndarray], analyses: list[Analysis] | None) -> list[list[tuple[np.ndarray, float]]]:
        """Each image's faces (box in its pixels, score), strongest first: LNet on the image at
        each of the bundle's scales (one batch per scale), then at its zoom-in scales for the
        images that want them (multiscale.wants_zoom_in), then at its fallback scales for the
        images with no face yet; the localizer and the cascade on each canvas, the boxes mapped
        back to the image (those wholly in the padding dropped), then merged across scales
        (multiscale.merge). Each scale's map goes to the Analysis (its `maps`). A large image is
        shrunk once first (multiscale.shrink_factor), and the canvases are cut from that copy.
        An image with no face (or only weak ones) whose exposure the bundle retries
        (LNetInput.retry_exposure, retry_weaker_than) is read again with its contrast stretched;
        when that reading's best face scores higher, its faces are the image's, and the copy goes
        to the Analysis (`read_as`, for the heads' crops) with the record's "exposure": "stretched".
        An image still without a face may then be rescued (LNetInput.rescue_faces, _rescue).
        Last, with LNetInput.detail_ratio, a large image's detail pass adds the faces it finds
        where none was found (_add_detail)."""
        # LNet's maps of this call and the localizer's candidates in them, which the rescue reads again
        maps: dict | None = {} if self.rescue else None
        # The check map's readings of each image read (id -> [(map, canvas size, Placement, scale)]):
        # a face without evidence >= check_faces in them is dropped (LNetInput.check_faces).
        checks: dict | None = {} if self._lnet.check_faces is not None else None
        read_at: dict[int, set[float]] = {}  # id(image) -> the scales LNet read it at (zoom_in_refused)
        read = list(images)  # the copy each image's faces come from (the exposure retry may swap it)
        found = self._read_scales(images, analyses, maps=maps, checks=checks, read_at=read_at)
        # A photo shot in the dark or over-exposed: read again with its contrast stretched, and
        # kept when that reading's best face scores higher. Compared before the check: compared
        # after it, darkened face-free crops kept more false faces (experiments/2026-12-05-retry-check).
        again = [k for k, faces in enumerate(found)
                 if self._lnet.wants_exposure_retry(images[k], faces[0][1] if faces else None)]  # fmt: skip
        if again:
            stretched = [stretch_contrast(images[k]) for k in again]
            others = [analyses[k] for k in again] if analyses is not None else None
            for k, image, faces in zip(again, stretched, self._read_scales(stretched, others, checks=checks, read_at=read_at),
                                       strict=True):  # fmt: skip
                if faces and (not found[k] or faces[0][1] > found[k][0][1]):
                    found[k], read[k] = faces, image
                    if analyses is not None:
                        analyses[k].read_as = image
                        analyses[k].record["exposure"] = "stretched"
        if checks is not None:  # before the rescue, whose faces the face head checks
            found = [self._pass_check(faces, checks.get(id(read[k]), ())) for k, faces in enumerate(found)]
        if self._lnet.find_on_check:  # its faces are verified below like any other
            found = [self._find_on_check(faces, checks.get(id(read[k]), ()), read[k].shape[:2])
                     for k, faces in enumerate(found)]  # fmt: skip
        refused: set[int] = set()  # the pictures where the face filter refused a face (zoom_in_refused_any)
        if self._lnet.verify_faces is not None:  # before the rescue too: a picture left with no face goes on to it
            candidates = [len(faces) for faces in found]
            found = self._verify(read, found, images)
            refused = {k for k, faces in enumerate(found) if len(faces) < candidates[k]}
        if self._lnet.zoom_in_refused or self._lnet.zoom_in_lone_p is not None:  # before the rescue: checked and verified
            found = self._zoom_in_again(read, found, images, analyses, read_at, maps, checks,
                                        refused if self._lnet.zoom_in_refused_any else set())  # fmt: skip
        if maps is not None:
            self._rescue(images, found, maps, checks if self._lnet.check_rescue else None)
        if self.arbitrate_nested and self.arbitrate_picture:  # it may change a face's region, not whether it is one
            found = [self._whole_picture(read[k], faces) for k, faces in enumerate(found)]
        if self._lnet.detail_ratio is not None:  # last: it only adds faces to those decided without it
            found = self._add_detail(read, found, images, checks)
        return found

    def _add_detail(self, read: list[np.ndarray], found: list[list[tuple[np.ndarray, float]]],
                    originals: list[np.ndarray], checks: dict | None) -> list[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """The detail pass (LNetInput.detail_ratio) of each image it adds resolution to
        (multiscale.wants_detail), read from read[k] (the copy its faces come from): its faces
        merged (multiscale.merge), through the check and the face filter like the first reading's,
        then added to found[k], strongest first, where no face lies at the same place
        (multiscale.same_place: overlapping, or either's centre inside the other), up to the
        localizer's max_faces; in a picture where no face passed the localizer (none, or the
        rescue's), only when the strongest beats the localizer's threshold, which alone decides
        whether a picture has a face. A detail face at the place of a face of found[k] that has under
        PART_AREA of its region's area and that the face head prefers to that region (_preferred)
        is the same face read tighter when its centre lies inside the face box the user is given
        for that face (_inside_face): it gives the face its region, the face's score kept (a rescued
        face is replaced by it, its score and all: it passed the localizer); outside
        it, it is another face in that face's hair or shoulders, added beside it (a trial). Any
        other detail face at a face's place is that face again or a piece of it: a face larger than
        the tiles' region limit (DETAIL_MAX_REGION) comes out of them as its eyes or nose, which
        once replaced the face or kept the picture from the zoom-in that finds it
        (experiments/2026-12-06-detail-adds-only). Every face found without the detail pass stays,
        with its score; with more faces in a picture, the box heads may place them otherwise
        (crowd_box_head)."""
        lnet, loc = self._lnet, self.localizer
        out = list(found)
        for k, image in enumerate(read):
            if not wants_detail(image.shape[:2], lnet):
                continue
            faces = merge(self._detect_detail(image, self._work_copy(image, detail=True), checks), loc.nms_iou, loc.max_faces)
            if checks is not None:
                faces = self._pass_check(faces, checks.get(id(image), ()))
            if lnet.verify_faces is not None:
                (faces,) = self._verify([image], [faces], [originals[k]])
            if faces and faces[0][1] <= loc.threshold and all(isinstance(f, _Rescued) for f in found[k]):
                faces = []  # the threshold alone decides whether a picture has a face (a trial: --threshold 20)
            kept, decided = list(found[k]), len(found[k])
            for face in faces:
                j = same_place(face[0], [box for box, _ in kept], loc.nms_iou)
                if j is None or j >= decided or not self._preferred(image, face, kept[j]):
                    if j is None and len(kept) < loc.max_faces:
                        kept.append(face)
                elif self._inside_face(image, face[0], kept[j][0]):  # the same face read tighter: its region
                    # a rescued face becomes the detail face, score and all: it passed the localizer
                    kept[j] = face if isinstance(kept[j], _Rescued) else _with_region(kept[j], face[0])
                elif len(kept) < loc.max_faces:  # another face in that face's hair or shoulders
                    kept.append(face)
            out[k] = sorted(kept, key=lambda f: -f[1])
        return out

    def _preferred(self, image: np.ndarray, face: tuple[np.ndarray, float], found: tuple[np.ndarray, float]) -> bool:
        """_add_detail: whether a detail `face` at the place of a `found` face is under PART_AREA
        of its region's area and the face head gives it the higher P(face) (False without one)."""
        box, region = np.asarray(face[0], np.float64), np.asarray(found[0], np.float64)
        if self.face_head is None or np.prod(box[2:] - box[:2]) >= PART_AREA * np.prod(region[2:] - region[:2]):
            return False
        inner, outer = self._face_chances(image, box, region)
        return inner > outer

    def _inside_face(self, image: np.ndarray, box: np.ndarray, region: np.ndarray) -> bool:
        """_add_detail: whether `box`'s centre lies inside the face box the user is given for a lone
        face at `region` (_lone_face_box). The localizer's fixed face box sits too high under a
        small face above a large one, and the box head's is not the crowd head's that places a
        small lone face: the large face then lost its region to the small one (a trial;
        experiments/2026-12-06-detail-adds-only, rounds 5-7)."""
        x0, y0, x1, y1 = self._lone_face_box(image, np.asarray(region, np.float64))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return bool(x0 <= cx <= x1 and y0 <= cy <= y1)

    def _face_chances(self, image: np.ndarray, first: np.ndarray, second: np.ndarray) -> tuple[float, float]:
        """The face head's P(face) of regions `first` and `second` of `image`, in that order
        (ANet's feature of each, _mean_features: computed once per detection pass)."""
        chances = self.face_head.probability(self._mean_features([(image, first, 0.0, {}), (image, second, 0.0, {})]))
        return float(chances[0]), float(chances[1])

    def _whole_picture(self, image: np.ndarray, faces: list) -> list:
        """multiscale.lone_part of an image's decided faces, judged by _nested_arbiter; a rescued
        face stays marked so (experiments/2026-12-05-nested-faces, rule 5)."""
        judged = lone_part(faces, image.shape[:2], self._nested_arbiter(image))
        if judged is faces or not isinstance(faces[0], _Rescued):
            return judged
        return [_Rescued(judged[0], faces[0].probability, faces[0].frame)]

    def _pass_check(self, faces: list[tuple[np.ndarray, float]], readings) -> list[tuple[np.ndarray, float]]:
        """The faces whose region holds check evidence >= check_faces in the check map's
        `readings` of their image (multiscale.check_evidence), in their order."""
        return [f for f in faces if check_evidence(f[0], readings) >= self._lnet.check_faces]

    def _find_on_check(self, faces: list[tuple[np.ndarray, float]], readings, image_hw: tuple[int, int]
                       ) -> list[tuple[np.ndarray, float]]:  # fmt: skip
        """An image's faces with those the check localizer finds where none was found
        (LNetInput.find_on_check, multiscale.faces_on_check), strongest first. An added face's
        region is its face box through Localizer.to_region (the region the heads read for a face
        of the localizer), and its score is put on the localizer's scale: the bundle's threshold
        where the check localizer's lies, so it ranks among the faces found near their threshold
        (a threshold the user raised, predict --threshold, holds it too)."""
        check, scales = self.check_localizer
        found = [self.localizer.to_face_box(region) for region, _ in faces]
        added = [(self.localizer.to_region(box), self.scale_policy.threshold + score - check.threshold)
                 for box, score in faces_on_check(readings, check, scales, image_hw, found)]  # fmt: skip
        added = [f for f in added if f[1] > self.localizer.threshold]
        return faces if not added else sorted([*faces, *added], key=lambda f: -f[1])

    def _zoom_in_again(self, read: list[np.ndarray], found: list[list[tuple[np.ndarray, float]]],
                       originals: list[np.ndarray], analyses: list[Analysis] | None, read_at: dict[int, set[float]],
                       maps: dict | None, checks: dict | None, refused: set[int] = frozenset()
                       ) -> list[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """Pictures the check and the face filter left with few faces, not read at the zoom-in
        scales (`read_at`: id(image) -> the scales read), read at them now, in one batch; their
        faces there go through the check and the filter, and those apart from the kept faces are
        added (multiscale.add_apart).
        - LNetInput.zoom_in_refused: a picture left with no face (the filter with zoom_in_refused_p
          as its bar, when set). A blob LNet made of several small faces at the base scales is one
          face too large to ask for the zoom-in (multiscale.wants_zoom_in), and the filter refuses
          it: the zoom-in reading is where those faces are found
          (experiments/2026-12-06-filter-small-faces). refused (zoom_in_refused_any): the pictures
          where the filter refused a face; those that kept faces are read too.
        - LNetInput.zoom_in_lone_p: a picture left with one face (not read for the above); the face
          head must give a face of its zoom-in reading P(face) > zoom_in_lone_p, whatever its LNet
          score (experiments/2026-12-06-small-lone-face-zoom, round 3); not when its region spans
          LNetInput.zoom_in_lone_skip_share of the picture's width and height (_leaves_room)."""
        lnet, zoom = self._lnet, set(self._lnet.zoom_in_scales)
        bars: dict[int, tuple[float | None, bool]] = {}  # picture -> (the filter's bar, whatever the score)
        for k, faces in enumerate(found):
            if zoom <= read_at.get(id(read[k]), set()):
                continue
            if lnet.zoom_in_refused and (not faces or k in refused):
                bars[k] = (lnet.zoom_in_refused_p, False)
            elif lnet.zoom_in_lone_p is not None and len(faces) == 1 and _leaves_room(faces[0][0], read[k].shape[:2],
                                                                                      lnet.zoom_in_lone_skip_share):
                bars[k] = (lnet.zoom_in_lone_p, True)
        if not bars:
            return found
        wanted = list(bars)
        zoomed = dataclasses.replace(lnet, scales=lnet.zoom_in_scales, zoom_in_scales=(), fallback_scales=(), detail_ratio=None)
        again = self._read_scales([read[k] for k in wanted], [analyses[k] for k in wanted] if analyses is not None else None,
                                  maps=maps, checks=checks, read_at=read_at, lnet=zoomed)  # fmt: skip
        if checks is not None:
            again = [self._pass_check(faces, checks.get(id(read[k]), ())) for k, faces in zip(wanted, again, strict=True)]
        # faces at a kept face's place are not added whatever the face head says: not judged (a lone
        # face's zoom-in mostly finds that face again, and judging it cost ~5 ms a picture)
        again = [apart_from(found[k], faces, self.localizer.nms_iou) for k, faces in zip(wanted, again, strict=True)]
        if lnet.verify_faces is not None:
            judged = dict(zip(wanted, again, strict=True))
            for bar in set(bars.values()):
                group = [k for k in wanted if bars[k] == bar]
                kept = self._verify([read[k] for k in group], [judged[k] for k in group], [originals[k] for k in group],
                                    bar[0], every=bar[1])  # fmt: skip
                judged.update(zip(group, kept, strict=True))
            again = [judged[k] for k in wanted]
        found = list(found)
        for k, faces in zip(wanted, again, strict=True):
            found[k] = add_apart(found[k], faces, self.localizer.nms_iou, self.localizer.max_faces)
        return found

    def _verify(self, images: list[np.ndarray], found: list[list[tuple[np.ndarray, float]]], originals: list[np.ndarray],
                p_min: float | None = None, every: bool = False) -> list[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """The faces of each image that pass verify_faces = (s_high, p_min): LNet's score >= s_high,
        or the face head's P(face) > p_min on ANet's feature of the face's region in `images[k]`
        (the copy its faces were read from), in their order (experiments/2026-12-03-face-filter).
        verify_luma: only the images whose `originals[k]` (as given) has its mean luma within
        those levels are verified; the others keep their faces. p_min: the bar instead of
        verify_faces' own. every: every face is judged by the face head, whatever its score and
        the image's luma."""
        s_high, own = self._lnet.verify_faces
        p_min = own if p_min is None else p_min
        levels = self._lnet.verify_luma
        verified = [every or levels is None or levels[0] <= mean_luma(image) <= levels[1] for image in originals]
        weak = [(k, j) for k, faces in enumerate(found) if verified[k]
                for j, (_, score) in enumerate(faces) if every or score < s_high]  # fmt: skip
        if not weak:
            return found
        features = self._mean_features([(images[k], *found[k][j], {}) for k, j in weak])
        refused = {kj for kj, chance in zip(weak, self.face_head.probability(features), strict=True) if chance <= p_min}
        return [[face for j, face in enumerate(faces) if (k, j) not in refused] for k, faces in enumerate(found)]

    def _rescue(self, images: list[np.ndarray], found: list[list[tuple[np.ndarray, float]]], maps: dict,
                checks: dict | None = None) -> None:  # fmt: skip
        """An image still without a face is read again with the localizer's threshold lowered to
        rescue_faces[0] (from LNet's maps of the first reading, `maps`, where it made them); its
        strongest candidate becomes its face when the face head gives it P(face) >
        rescue_faces[1], marked _Rescued (found is updated in place; the record then says
        "rescued": true; experiments/2026-12-02-face-verifier). checks (check_rescue): the check
        map's readings (_detect); only candidates that pass the check are tried. rescue_frame: an
        image still without a face then tries the whole picture as its face box (frame_region);
        frame_read "picture": a frame kept is then read through the picture itself."""
        lost = [k for k, faces in enumerate(found) if not faces]
        if not lost:
            return
        min_score, min_probability = self._lnet.rescue_faces
        lowered = dataclasses.replace(self.localizer, threshold=min_score)
        again = self._read_scales([images[k] for k in lost], None, lowered, maps)
        if checks is not None:  # check_rescue: only candidates that pass the check too
            again = [self._pass_check(faces, checks.get(id(images[k]), ())) for k, faces in zip(lost, again, strict=True)]
        tries = [(k, faces[0]) for k, faces in zip(lost, again, strict=True) if faces]
        self._keep_likely_faces(images, found, tries, min_probability)
        if self._lnet.rescue_frame is not None:  # the last try: the whole picture as the face box, scored min_score
            frames = [(k, (self.frame_region(images[k].shape[:2]), min_score)) for k in lost
                      if not found[k] and flat_share(images[k]) <= FRAME_MAX_FLAT]  # fmt: skip
            self._keep_likely_faces(images, found, frames, self._lnet.rescue_frame, frame=True)
            if self._lnet.frame_read == "picture":  # decided on the padded region; read from the picture itself
                for k, _ in frames:
                    if found[k]:
                        (kept,) = found[k]
                        h, w = images[k].shape[:2]
                        found[k] = [_Rescued((np.array([0.0, 0.0, w, h]), kept[1]), kept.probability, frame=True)]

    def frame_region(self, shape: tuple[int, int]) -> np.ndarray:
        """The region box (x0, y0, x1, y1, image pixels of an (H, W) image) whose face box is the
        whole picture: rescue_frame's candidate (Localizer.to_region)."""
        return self.localizer.to_region(np.array([0.0, 0.0, shape[1], shape[0]], np.float64))

    def frame_feature(self, image: ImageInput, channel_order: str = "rgb") -> np.ndarray:
        """ANet's feature (D,) of an image's frame candidate (frame_region), its crop filled black
        outside the picture whatever the bundle's pad (JUDGE_PAD): what the face head judges in the
        frame try, and what fit_face_head --frames learns from. image and errors as candidates."""
        img = to_rgb8(image, channel_order_of(channel_order), None)
        return self._mean_features([(img, self.frame_region(img.shape[:2]), 0.0, {})])[0]

    def _keep_likely_faces(self, images: list[np.ndarray], found: list, tries: list[tuple[int, tuple]],
                           min_probability: float, frame: bool = False) -> None:  # fmt: skip
        """found[k] = [that face, _Rescued] for each (k, (region, score)) in `tries` whose face head
        P(face) > min_probability (frame: they are frame tries)."""
        if not tries:
            return
        features = self._mean_features([(images[k], box, score, {}) for k, (box, score) in tries])
        for (k, face), chance in zip(tries, self.face_head.probability(features), strict=True):
            if chance > min_probability:
                found[k] = [_Rescued(face, float(chance), frame)]

    def _read_scales(self, images: list[np.ndarray], analyses: list[Analysis] | None, localizer=None,
                     maps: dict | None = None, checks: dict | None = None, read_at: dict | None = None,
                     lnet: LNetInput | None = None) -> list[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """_detect's faces of each image by the bundle's scale policy (multiscale.read_scales),
        found by `localizer` (default: the Predictor's). maps: LNet's map of each (image, scale)
        read and the localizer's candidates in it, kept and reused (keyed by the image object's
        id: valid while the images live; the localizers that share them differ only in their
        thresholds: Localizer.candidates). checks: where the check map's readings go (_detect).
        read_at: id(image) -> the scales it was read at, added to. lnet: the scale policy (default:
        the bundle's LNetInput).
        The Predictor's own reading (localizer None) reads the scales its bundle's thresholds ask
        for, whatever thresholds the user set (predict --threshold, --secondary-threshold), so
        that a lower one only adds faces (multiscale.read_scales' policy). Only that reading's
        merge asks the face head about nested faces (arbitrate_nested): the rescue's candidates are
        judged on their own regions (experiments/2026-12-05-nested-faces, rule 5)."""
        policy, own = None, localizer is None
        if localizer is None:
            localizer = self.localizer
            if type(localizer) is type(self.scale_policy) and localizer != self.scale_policy:  # not a stand-in
                policy = self.scale_policy
        works = [self._work_copy(img) for img in images]
        return read_scales([img.shape[:2] for img in images],
                           lambda scale, which: self._detect_at(scale, images, works, which, analyses, localizer, maps,
                                                                checks, read_at),
                           lnet or self._lnet, localizer, policy=policy,
                           arbiter=(lambda k: self._nested_arbiter(images[k])) if self.arbitrate_nested and own else None)  # fmt: skip

    def _work_copy(self, image: np.ndarray, detail: bool = False) -> np.ndarray:
        """The image shrunk once for LNet's canvases (multiscale.shrink_factor; detail: the detail
        pass's tiles), made once per detection pass (_once_per_pass): the exposure retry and the
        rescue read the same photo again, and each shrink of a 24 MP photo costs ~70 ms on 2 cores."""
        factor = shrink_factor(image.shape[:2], self._lnet, detail)
        return image if factor >= 1.0 else _once_per_pass(("work", factor), image, lambda: _shrunk(image, factor))

    def _nested_arbiter(self, image: np.ndarray):
        """multiscale.merge's arbiter for faces of `image`: the larger of two nested regions is
        the face when the face head gives it the higher P(face) (ANet's feature filled JUDGE_PAD)."""

        def larger_is_face(kept: np.ndarray, larger: np.ndarray) -> bool:
            fill = self.arbitrate_fill
            if fill is not None and min(larger[2] - larger[0], larger[3] - larger[1]) < fill * min(image.shape[:2]):
                return False  # not a face that fills the picture: in a crowd a larger box is mostly several faces
            inner, outer = self._face_chances(image, kept, larger)
            return outer > inner

        return larger_is_face

    def _detect_at(self, scale: float, images: list[np.ndarray], works: list[np.ndarray], which: list[int],
                   analyses: list[Analysis] | None, localizer, maps: dict | None = None, checks: dict | None = None,
                   read_at: dict | None = None) -> list[list[tuple[np.ndarray, float]]]:  # fmt: skip
        """LNet, the localizer and the cascade at one scale on images[k] for k in `which` (their
        canvases cut from works[k], the image or its shrunk copy), one batch: their faces in
        image pixels, in `which`'s order; the map goes to analyses[k], and with the localizer's
        candidates to `maps` (neither LNet nor the candidates are computed again for a batch whose
        maps are all there); the scale to read_at[id(images[k])]."""
        lnet = self._lnet
        for k in which if read_at is not None else ():
            read_at.setdefault(id(images[k]), set()).add(scale)
        placed = {}
        for k in which:
            canvas, where = place(works[k], input_for(images[k].shape[:2], lnet), scale, lnet.resize, lnet.zoom_out_canvas,
                                  lnet.zoom_in_canvas)  # fmt: skip
            (h, w), (hw, ww) = images[k].shape[:2], works[k].shape[:2]
            placed[k] = (canvas, where.of_original(ww / w, hw / h))
        faces = {}
        for group in same_shape(which, {k: c.shape for k, (c, _) in placed.items()}):  # one LNet batch each
            x = np.stack([placed[k][0] for k in group])  # uint8 (N, H, W, 3): the graph normalises
            size = tuple(x.shape[1:3])
            keys = [(id(images[k]), scale) for k in group]
            if maps is None:
                responses, *check = self._run["lnet"](x)
                found = [localizer(r, size) for r in responses]  # in canvas pixels
            else:
                check = []
                if not all(key in maps for key in keys):  # else read before: LNet's maps and their candidates
                    responses, *check = self._run["lnet"](x)
                    maps.update((key, (r, localizer.candidates(r, size))) for key, r in zip(keys, responses, strict=True))
                responses = np.stack([maps[key][0] for key in keys])
                found = [localizer(maps[key][0], size, maps[key][1]) for key in keys]
            if self.cascade is not None:  # LNet_s places each box again from its region
                found = self.cascade.refine(None, torch.from_numpy(x), found, [size] * len(found),
                                            region_maps=self._region_maps)  # fmt: skip
            for i, k in enumerate(group):
                where = placed[k][1]
                if checks is not None and check:
                    checks.setdefault(id(images[k]), []).append((check[0][i], size, where, scale))
                faces[k] = [(px, float(score)) for box, score in found[i]
                            if (px := where.to_image(box, images[k].shape[:2])) is not None]  # fmt: skip
                if analyses is not None:
                    analyses[k].maps.append((responses[i], size, where))
        return [faces[k] for k in which]

    def _detect_detail(self, image: np.ndarray, work: np.ndarray, checks: dict | None = None
                       ) -> list[tuple[np.ndarray, float]]:  # fmt: skip
        """The detail pass of one image (multiscale module docstring): LNet on its tiles at
        detail_ratio (cut from `work`, the image or its shrunk copy), DETAIL_BATCH tiles per run;
        in each tile the faces whose box is at most DETAIL_MAX_REGION pixels and that beat the
        localizer's secondary threshold (its threshold when it has none), in image pixels. The
        LNet_s cascade is not run on them. The check map's readings of the tiles go to `checks`
        (_detect). Read once per detection pass, last (_add_detail)."""
        faces, readings = self._read_detail(image, work)
        if checks is not None:
            checks.setdefault(id(image), []).extend(readings)
        return faces

    def _read_detail(self, image: np.ndarray, work: np.ndarray) -> tuple[list[tuple[np.ndarray, float]], list]:
        """_detect_detail's faces, read, and the check map's readings of the tiles."""
        readings = []
        shrink = work.shape[1] / image.shape[1]
        tiles, origins, (ky, kx), (nh, nw) = detail_tiles(work, min(1.0, self._lnet.detail_ratio / shrink))
        ky, kx = ky * work.shape[0] / image.shape[0], kx * shrink  # tile pixels per image pixel
        loc = self.localizer
        threshold = loc.secondary_threshold if loc.secondary_threshold is not None else loc.threshold
        loc = dataclasses.replace(loc, max_size=max(DETAIL_MAX_REGION, loc.min_size), threshold=threshold,
                                  secondary_threshold=None, weak_threshold=None, crowd=None,
                                  min_relative_score=0.0)  # fmt: skip
        h, w = image.shape[:2]
        faces = []
        for start in range(0, len(tiles), DETAIL_BATCH):
            responses, *check = self._run["lnet"](tiles[start:start + DETAIL_BATCH])
            for i, (r, (y0, x0)) in enumerate(zip(responses, origins[start:start + DETAIL_BATCH], strict=True)):
                if check:  # the tile's map: tile x = image x * kx - x0
                    where = Placement(kx=kx, ky=ky, x0=-x0, y0=-y0, h_c=tiles.shape[1], w_c=tiles.shape[2])
                    readings.append((check[0][i], tiles.shape[1:3], where, None))
                for box, score in loc(r, tiles.shape[1:3]):
                    b = np.asarray(box, np.float64) + [x0, y0, x0, y0]
                    b = np.clip(b, 0, [nw, nh, nw, nh]) / [kx, ky, kx, ky]  # off the padding, in image pixels
                    if b[2] > b[0] and b[3] > b[1]:
                        faces.append((np.clip(b, 0, [w, h, w, h]), float(score)))
        return sorted(faces, key=lambda f: -f[1]), readings

    def _region_maps(self, canvases: torch.Tensor, rois: torch.Tensor) -> np.ndarray:
        """LNet_s's maps of the regions (Cascade.refine's region_maps)."""
        return self._run["regions"](canvases.numpy(), rois.numpy())[0]

    @_on_op_threads
    @torch.inference_mode()
    def _analyse_all(self, faces: list[tuple[np.ndarray, np.ndarray, float, dict]]) -> np.ndarray:
        """_analyse_faces on _face_chunk faces at a time (bounds the face graph's batch); ANet's
        feature of each face (N, D), the patch average."""
        chunk = self._face_chunk
        features = [self._analyse_faces(faces[start : start + chunk]) for start in range(0, len(faces), chunk)]
        return np.concatenate(features) if features else np.zeros((0, self.bundle.svm.feature_dim), np.float32)

    def _analyse_faces(self, faces: list[tuple[np.ndarray, np.ndarray, float, dict]]) -> np.ndarray:
        """Attributes, age and attractiveness of several faces: one FaceGraph run on all. The
        descriptor heads' descriptors (dlib's landmarks, chip and network, on one thread) are
        computed on a worker thread meanwhile: the face graph leaves part of the second core idle
        (experiments/2026-12-01-attractiveness-cost, section 6)."""
        pending = self._start_descriptors(faces)
        features, *heads = self._face_features(faces)
        probs = self.bundle.svm.average_over_patches(features)  # SVM scores averaged over patches
        # decided on the probabilities as the record prints them (4 decimals): a p printed at its
        # threshold is present (a trial saw one printed exactly at it)
        decide = self.bundle.svm.decide(np.round(probs, 4))
        for (*_, face), p, d in zip(faces, probs, decide, strict=True):
            face["attributes"] = {n: round(float(q), 4) for n, q in zip(self.attributes, p, strict=True)}
            # The bundle's decisions: p >= each attribute's threshold, tuned on a tune split
            # (Predictor.decision_thresholds); "attributes" keeps the calibrated probabilities.
            face["present"] = [n for n, yes in zip(self.attributes, d, strict=True) if yes]
        prepared = {name: part for job in pending.values() for name, part in job.result().items()}  # raises as the job did
        for k, name in enumerate(self._heads):  # each head's (mean, std) outputs
            means, stds, head = heads[2 * k], heads[2 * k + 1], self._descriptor_heads.get(name)
            if head is not None:
                joint = getattr(head, "anet", None) is not None
                means = head.mix(means, prepared[name], features.mean(1) if joint else None)
                # The descriptor head's std_scale was fitted on the head's std as predicted: undo
                # the bundle's own scale (nets.<head>.std_scale) first, so that the two don't stack.
                stds = head.scale_std(stds / self._std_scales[name])
            for (*_, face), mean, std in zip(faces, means.tolist(), stds.tolist(), strict=True):
                face[HEAD_KEYS[name]] = {"mean": round(mean, 3), "std": round(std, 3)}
        return features.mean(1)

    def _start_descriptors(self, faces: list) -> dict[str, Any]:
        """Futures of the descriptor heads' prepared inputs of `faces` ({head name:
        DescriptorHead.prepare of the faces' descriptors}), one per descriptor setting (heads of
        the same settings share the descriptors), on the worker thread."""
        by_settings: dict[str, dict[str, Any]] = {}
        for name in self._heads:
            head = self._descriptor_heads.get(name)
            if head is not None:
                by_settings.setdefault(_settings_key(head), {})[name] = head
        if by_settings and self._descriptor_pool is None:
            self._descriptor_pool = ThreadPoolExecutor(1, thread_name_prefix="lnet_anet-descriptor")
        return {key: self._descriptor_pool.submit(self._prepared, faces, heads) for key, heads in by_settings.items()}

    def _prepared(self, faces: list, heads: dict[str, Any]) -> dict[str, Any]:
        """{name: head.prepare(the faces' descriptors)} for heads of the same settings."""
        outputs = self._descriptors(faces, next(iter(heads.values())))
        return {name: head.prepare(outputs) for name, head in heads.items()}

    def _descriptors(self, faces: list, head) -> np.ndarray:
        """The descriptor head's descriptors of the faces' boxes (N, D), one call per image."""
        by_image: dict[int, tuple[np.ndarray, list[int]]] = {}
        for k, (img, *_) in enumerate(faces):
            by_image.setdefault(id(img), (img, []))[1].append(k)
        found = {}
        for img, ks in by_image.values():
            boxes = [self.face_box(faces[k][1], img.shape[:2]) for k in ks]
            found.update(zip(ks, head.describe(img, boxes), strict=True))
        return np.stack([found[k] for k in range(len(faces))])

    def _anet_only(self) -> TorchGraph | OrtGraph:
        """ANet's graph without the heads (a FaceGraph of ANet alone: features only), built on
        first use: the face, box and upright heads read ANet's feature of a region, and the age
        and attractiveness nets in the face graph cost most of its time (the face filter judges
        every face LNet returns; experiments/2026-12-05-face-head-v2, speed)."""
        if "anet_only" not in self._run:
            # an exported graph is read without building ANet in torch (timm's import: ~1.5 s; a trial)
            self._run["anet_only"] = self._cached_graph("anet_only") or self._runner(
                "anet_only", FaceGraph(fold_batchnorm(self.bundle.anet, True), self._anet, {}))
        return self._run["anet_only"]

    def _face_features(self, faces: list, pad: str | None = None, with_heads: bool = True) -> list[np.ndarray]:
        """The FaceGraph's outputs for the faces: ANet's patch features (N, patches [x2
        mirrored] [x views], D), then each head's mean and std (N,). With box_jitter, every view
        of each face's region is read: the views' patches are the face's patches, and each head's
        answer is the mixture of its views' (the mean of the means; the std of the mixture,
        sqrt(mean(std**2 + mean**2) - mean**2)). pad: every crop filled so outside the picture
        (None: as the bundle says). with_heads False: ANet's patch features alone, [(N, ..., D)],
        from ANet's graph without the heads (_anet_only): what the face, box and upright heads read."""
        p = self._anet
        if p.views:
            faces = [(img, jitter_box(box, view), *rest) for img, box, *rest in faces for view in p.views]
        pyramids: dict[int, AreaPyramid] = {}  # each picture's shrunk copies, shared by the crops of every net
        crops = [_crops(faces, p.enlarge, p.canonical_size, pad or p.pad, pyramids)]
        if not with_heads:
            outputs = self._anet_only()(*crops)
        else:
            for name in self._face_inputs[1:]:  # heads that read a crop of their own
                prep = self._heads[name.removesuffix("_crops")]
                head_crops = _crops(faces, prep.enlarge, prep.image_size, pad or prep.pad, pyramids)
                if prep.soften != 1:  # sharper crops than the net learnt from, read with less detail
                    head_crops = np.stack([soften_sharp(c, prep.soften, prep.soften_above) for c in head_crops])
                crops.append(head_crops)
            outputs = self._run["faces"](*crops)
        if not p.views:
            return outputs
        k = len(p.views)
        features, *heads = outputs
        combined = [features.reshape(len(features) // k, k * features.shape[1], features.shape[2])]
        for means, stds in zip(heads[0::2], heads[1::2], strict=True):
            means, stds = means.reshape(-1, k), stds.reshape(-1, k)
            mean = means.mean(1)
            combined += [mean, np.sqrt(np.maximum((stds**2 + means**2).mean(1) - mean**2, 0.0))]
        return combined


# The localizer's settings a user may change (predict --threshold, --secondary-threshold), said under a record's "settings"
LOCALIZER_SETTINGS = ("threshold", "secondary_threshold", "weak_threshold", "crowd")


def reading_settings_of(prep: dict[str, Any], localizer: dict[str, Any], detail_ratio: float | None,
                        patches: dict[str, str] | None, arbitrate: tuple[float | None, bool],
                        lone_skip_share: float | None) -> dict[str, Any]:  # fmt: skip
    """Predictor.reading_settings of a Predictor whose bundle's preprocessing (as its config stores
    it) is `prep`, reading with the localizer's `localizer` values (LOCALIZER_SETTINGS; one absent:
    the bundle's), `detail_ratio`, its heads' `patches` ({head: "grid" or "centre"}, or None),
    `arbitrate` = (arbitrate_nested's share or None, arbitrate_picture) and `lone_skip_share`
    (zoom_in_lone_skip_share): those that differ from the bundle's. predict --resume asks it
    before any Predictor is loaded, from the arguments."""
    own, lnet = prep["localizer"], prep["lnet"]
    out: dict[str, Any] = {}
    for key in LOCALIZER_SETTINGS:
        value = localizer.get(key, own.get(key))
        if _as_json(value) != _as_json(own.get(key)):  # a bundle's crowd is a list, the localizer's a tuple
            out[key] = _as_json(value)
    if detail_ratio != lnet.get("detail_ratio"):
        out["detail_ratio"] = detail_ratio
    if lone_skip_share != lnet.get("zoom_in_lone_skip_share"):
        out["zoom_in_lone_skip_share"] = lone_skip_share
    if patches:
        out["patches"] = dict(sorted(patches.items()))
    if arbitrate != (lnet.get("arbitrate_nested"), bool(lnet.get("arbitrate_picture"))):
        out |= {"arbitrate_nested": arbitrate[0], "arbitrate_picture": arbitrate[1]}
    return out


def _as_json(value: Any) -> Any:
    """A setting as JSON gives it back (tuples as lists), so that stored and live settings compare."""
    return [_as_json(v) for v in value] if isinstance(value, (tuple, list)) else value


def _on_off(name: str, on: Any) -> bool:
    """A switch's value as a bool; ValueError naming the switch for anything but True or False
    (a string such as "no" would read as on)."""
    if not isinstance(on, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, not {on!r}")
    return bool(on)


def _share_or_none(name: str, value: Any) -> float | None:
    """None, or `value` as a float in [0, 1]; ValueError naming the setting for anything else."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be None or a number in [0, 1], not {value!r}")
    if not 0 <= float(value) <= 1:  # NaN fails too
        raise ValueError(f"{name} must be None or a number in [0, 1], got {value!r}")
    return float(value)


def _owned(item: ImageInput) -> ImageInput:
    """A numpy item copied when it is pulled from an iterable: predict_many and locate_many read
    ahead, and a capture loop that writes each frame into one buffer gave a trial 23 of 24 records
    of a later frame. Other items are taken as they are."""
    return item.copy() if isinstance(item, np.ndarray) else item


def _take(items: Iterator[ImageInput], n: int) -> tuple[list[ImageInput], Exception | None]:
    """Up to n items pulled from `items`, each _owned as it is taken (a capture loop may write its
    next frame into the last one's buffer), and the error the iterator raised, if it did: the
    items taken before it still get their records (a trial lost a camera loop's last frames when
    the camera was unplugged), then the caller raises it."""
    taken: list[ImageInput] = []
    try:
        for item in itertools.islice(items, n):
            taken.append(_owned(item))
    except Exception as e:  # noqa: BLE001 - raised again by the caller, after the items taken
        return taken, e
    return taken, None


def _batch_size(value: Any) -> int:
    """`value` as the many-image calls' batch_size: an int >= 1 (a numpy integer too), else
    ValueError naming batch_size (trial 85: 2.5 gave one record, then a TypeError mid-iteration;
    "4" a TypeError that named nothing)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"batch_size must be an int >= 1, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"batch_size must be >= 1, got {value}")
    return int(value)


def _one_image(images) -> bool:
    """Whether predict_many / locate_many were handed one image instead of an iterable of them: a
    path, an open file, a PIL image, or an array of one picture's (H, W) or (H, W, C) pixels (iterating over it
    would read it row by row)."""
    return (isinstance(images, (str, bytes, Path, Image.Image)) or is_stream(images)
            or (isinstance(images, np.ndarray) and images.ndim <= 3))  # fmt: skip


def _fitting(head, bundle: Bundle, does: str, setting: str, name: str, fit: str | None = None):
    """`head` (a FaceHead or BoxHead: `name`) when it reads this bundle's ANet feature; else the
    ValueError that says how to get one (python -m lnet_anet.cli.fit_<fit, default name>), for a
    bundle that `does` so by preprocessing.lnet.<setting>."""
    if not head.fits(bundle):
        kind, option = name.replace("_", " "), name.replace("_", "-")
        raise ValueError(f"this bundle {does} (preprocessing.lnet.{setting}) with a {kind}, and this one was fitted on "
                         f"the feature of another ANet than the bundle's; fit one on this bundle (python -m "
                         f"lnet_anet.cli.fit_{fit or name} --bundle ...) and pass it (Predictor.load({name}=...), "
                         f"predict --{option}), or build the bundle without {setting}")  # fmt: skip
    return head


def _leaves_room(region: np.ndarray, hw: tuple[int, int], skip_share: float | None) -> bool:
    """Whether a lone face's region [x0, y0, x1, y1] (picture pixels) leaves room in a picture of
    hw = (height, width) for another face: False when, clipped to the picture, it spans at least
    skip_share of the width and of the height (LNetInput.zoom_in_lone_skip_share; None: always
    True)."""
    if skip_share is None:
        return True
    h, w = hw
    x0, y0, x1, y1 = (float(v) for v in region)
    return min((min(x1, w) - max(x0, 0.0)) / w, (min(y1, h) - max(y0, 0.0)) / h) < skip_share


def _with_region(face: tuple[np.ndarray, float], region: np.ndarray) -> tuple[np.ndarray, float]:
    """`face` (box, score) with `region` as its box, its score kept (a _Rescued stays one)."""
    if isinstance(face, _Rescued):
        return _Rescued((region, face[1]), face.probability, face.frame)
    return (region, face[1])


class _Rescued(tuple):
    """A face (box, score) that the face head rescued (Predictor._rescue), with the face head's
    P(face) (`probability`) and whether it is the frame try's (`frame`): the record says so once
    the photo's turn is chosen."""

    def __new__(cls, face: tuple[np.ndarray, float], probability: float, frame: bool = False):
        made = super().__new__(cls, face)
        made.probability, made.frame = probability, frame
        return made


@functools.cache
def _shipped_digest(kind: type, path: Path | None = None) -> str | None:
    """The digest of the shipped head of this kind (FaceHead, BoxHead, UprightHead; the file at
    `path` when a kind ships more than one), None when none ships."""
    try:
        return kind.load(path).digest
    except FileNotFoundError:
        return None


_END = object()


def _shrunk(img: np.ndarray, factor: float) -> np.ndarray:
    """The image resized by factor (< 1), or itself (factor 1)."""
    if factor >= 1.0:
        return img
    return resize_image(img, max(1, round(img.shape[0] * factor)), max(1, round(img.shape[1] * factor)))


def _score_patches(bundle: Bundle, name: str, which: str) -> None:
    """Predictor.load's patches: the bundle's config says which patches head `name` scores."""
    from lnet_anet.models.dldl import PATCH_SETS

    net = bundle.config["nets"].get(name) if name in HEAD_KEYS else None
    if net is None or net["model"] != "anet_dldl":
        raise ValueError(f"patches: {name!r} is not a head on ANet's layers (anet_dldl) in this bundle")
    if which not in PATCH_SETS:
        raise ValueError(f"patches: {name}'s must be one of {PATCH_SETS}, not {which!r}")
    net["kwargs"]["patches"] = which


def _mirror_views(bundle: Bundle, on: bool) -> None:
    """Predictor.load's mirror: ANet's crops and every head on ANet's layers with (or without)
    the crop's mirror image, in the bundle's config (before any network or graph is made); heads
    that read their own crop follow preprocessing.anet.mirror (graphs.FaceGraph)."""
    bundle.preprocessing["anet"]["mirror"] = bool(on)
    for name in HEAD_KEYS:
        net = bundle.config["nets"].get(name)
        if net is not None and "mirror" in net["kwargs"]:
            net["kwargs"]["mirror"] = bool(on)


def _settings_key(head) -> str:
    """A descriptor head's FaceDescriptor settings as a key: heads with equal ones share descriptors."""
    return json.dumps(getattr(head, "settings", None), sort_keys=True)


def _crops(faces: list, enlarge: float, size: int, pad: str = "black",
           pyramids: dict[int, AreaPyramid] | None = None) -> np.ndarray:  # fmt: skip
    """The faces' square crops (the training crop, for consistency), uint8 (N, S, S, 3), filled
    outside the picture as `pad` says: the face graph normalises them. A large face's crop is cut
    from a shrunk copy of its picture (transforms.AreaPyramid; `pyramids`, id(image) -> its
    pyramid, shares the copies between calls)."""
    pyramids = {} if pyramids is None else pyramids
    return np.stack([pyramids.setdefault(id(img), AreaPyramid(img)).crop_face(box, enlarge, size, pad)
                     for img, box, *_ in faces])  # fmt: skip


def _turn_back(box: np.ndarray, k: int, hw: tuple[int, int]) -> np.ndarray:
    """A box (x0, y0, x1, y1) in the pixels of np.rot90(image, k), in the image's own pixels
    (image (h, w) = hw): a turn by 90 * k degrees counterclockwise undone."""
    h, w = hw
    x0, y0, x1, y1 = (float(v) for v in box)
    back = {0: (x0, y0, x1, y1), 1: (w - y1, x0, w - y0, x1), 2: (w - x1, h - y1, w - x0, h - y0),
            3: (y0, h - x1, y1, h - x0)}[k % 4]  # fmt: skip
    return np.array(back, np.float64)


def _face_record(box: np.ndarray, score: float) -> dict[str, Any]:
    return {"box": [round(float(v), 1) for v in box], "score": round(score, 5), "attributes": {}, "present": [],
            "age": None, "attractiveness": None}  # fmt: skip


__all__ = ["DEFAULT_BUNDLE", "Analysis", "Predictor"]
