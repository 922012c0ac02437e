"""Attractiveness from a face-recognition descriptor, mixed into the bundle head's score (opt-in).

The bundle's attractiveness head (DLDL-v2 on ANet's layers) reads only what ANet's trunk learnt
from ImageNet and CelebA attributes. dlib's face-recognition network (a ResNet trained on about
3 million faces, 99.38% on LFW; weights in the `face_recognition_models` package, CC0) describes
the face's shape far better. The shipped head (3 DLDL-v2 networks) reads the network's last map
(256 features x 2 x 2 places on the face, which the 128-d descriptor averages away), the
descriptor and ANet's feature; averaged with the bundle's head scored from its centre patch, it
gives r 0.906 / MAE 0.219 / RMSE 0.295 in SCUT-FBP5500 5-fold CV through the Predictor (the
bundle's head alone 0.877 / 0.252 / 0.334; the previous head, without the map: 0.900 / 0.226 /
0.303; experiments/2026-12-01-attractiveness-cost, section 9). The network is dlib's, ported to
torch (lnet_anet.models.dlib_resnet) and run int8 on ONNX Runtime, beside the face graph on a
worker thread: its parts come to about 3.6 ms of one core per face, where dlib's own CPU code
takes about 75 ms; attractiveness as a whole adds 3.2-4.6 ms to a Predictor call on 2 cores (same
record, section 11: the head's first layer is split so that dlib's part runs on the worker too,
DescriptorHead.prepare). It needs dlib (landmarks,
alignment) and dlib's model files, so it is off unless asked for:

    predictor = Predictor.load(patches={"attractiveness": "centre"})   # as predict does with the flag
    predictor.descriptor_head = DescriptorHead.load()          # the shipped head
    python -m lnet_anet.predict photo.jpg --attractiveness-descriptor [--descriptor-head FILE]

Fit another with `python -m lnet_anet.cli.fit_descriptor_head` (SCUT-FBP5500's training list).
Install: pip install -e '.[descriptor]' in the clone (after `make install`: .venv/bin/pip ...; the
`descriptor` extra: dlib-bin, face_recognition_models).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import box_iou

from lnet_anet.dldl.descriptor_settings import DEFAULT_SETTINGS, INSTALL, PRECISIONS, REFINES  # noqa: F401 - re-exported
from lnet_anet.engine.checkpoint import save_safetensors_atomic
from lnet_anet.models.dlib_resnet import CHIP_SIZE

DESCRIPTOR = "dlib_face_recognition_resnet_model_v1"
LANDMARKS = "shape_predictor_5_face_landmarks"
# The shipped heads. attractiveness: fitted on all 3,300 faces of SCUT-FBP5500's training list
# (non-commercial); age: on 8,773 UTKFace chips of its train part (non-commercial).
DEFAULT_DESCRIPTOR_HEADS = {target: Path(__file__).resolve().parents[1] / "assets" / f"{target}_descriptor.safetensors"
                            for target in ("attractiveness", "age")}  # fmt: skip
DEFAULT_DESCRIPTOR_HEAD = DEFAULT_DESCRIPTOR_HEADS["attractiveness"]
# What a head predicts: its bins (low..high by step) and the label distribution's sigma
# (attractiveness: the anet_layers recipe's; age: utkface.yaml's).
TARGETS = {"attractiveness": {"low": 1.0, "high": 5.0, "step": 0.1, "sigma": 0.3},
           "age": {"low": 0.0, "high": 116.0, "step": 1.0, "sigma": 2.0}}  # fmt: skip


def models_folder() -> Path:
    """The `face_recognition_models` package's model files, found without importing it (its
    __init__ needs pkg_resources, which recent setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the face descriptor needs dlib's models (dlib-bin, face_recognition_models): {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


# LNet's face box -> the box dlib's HOG detector gives the same face (the boxes its 5-point
# landmark model was trained on): centre shift (x, y) and side, as fractions of the box's larger
# side; medians over UTKFace and CelebA-HQ training faces where HOG finds the face
# (experiments/2026-12-01-descriptor-onnx/box_map.json).
DLIB_BOX_MAP = (-0.0568, -0.0076, 1.038)
# ONNX Runtime's int8 activation ranges of the ported network, calibrated on UTKFace and CelebA-HQ
# training faces (experiments/2026-12-01-descriptor-onnx/calibrate_int8.py): numbers, no faces.
INT8_RANGES = Path(__file__).resolve().parents[1] / "assets" / "dlib_resnet_int8_ranges.json"
DESCRIPTOR_SIZE, MAP_SIZE = 128, 256 * 2 * 2  # the network's outputs: the descriptor, its last map flattened


class FaceDescriptor:
    """dlib's 128-d face-recognition descriptor of faces given by their boxes.

    Per face: the box dlib's landmark model expects (refine="map": the given box moved and
    scaled by DLIB_BOX_MAP; refine="hog": dlib's HOG detector run near the box, about 4 ms more
    per face, the given box where HOG finds none), dlib's 5-point landmarks in it, the aligned
    150 px chip (dlib.get_face_chip, padding 0.25), then dlib's ResNet
    (lnet_anet.models.dlib_resnet: the same weights ported), all faces of an image in one batch.
    precision="int8" runs it quantized on ONNX Runtime at the shipped ranges (INT8_RANGES;
    about 2.5 times faster, cosine ~0.9995 to the float descriptor); "fp32" equals dlib's own
    descriptor to float rounding, on ONNX Runtime when installed, else torch. threads: the
    network's ONNX Runtime threads (default 1: one face's small layers gain nothing from a second
    thread, whose wake-ups cost time inside the Predictor; None: torch's count).
    King, "dlib-ml", JMLR 2009; dlib's dnn_face_recognition_ex.
    Raises ImportError naming the packages when dlib, the models or (int8) onnxruntime are not
    installed, ValueError for an unknown refine or precision, or a box that is not finite or
    misses the image."""

    def __init__(self, refine: str = "map", precision: str = "int8", ranges: str | Path = INT8_RANGES,
                 threads: int | None = 1):  # fmt: skip
        if refine not in REFINES:
            raise ValueError(f"refine must be one of {REFINES}, not {refine!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        try:
            import dlib
        except ImportError as e:
            raise ImportError(f"the face descriptor needs dlib (dlib-bin, face_recognition_models): {INSTALL}") from e
        folder = models_folder()
        self.refine, self.precision = refine, precision
        self._dlib = dlib
        self._landmarks = dlib.shape_predictor(str(folder / f"{LANDMARKS}.dat"))
        self._net = _network(folder / f"{DESCRIPTOR}.dat", precision, Path(ranges), threads)
        self._hog = dlib.get_frontal_face_detector() if refine == "hog" else None

    def __call__(self, image: np.ndarray, boxes: Sequence[Sequence[float]], with_map: bool = False) -> np.ndarray:
        """image: (H, W, 3) uint8 RGB; boxes: (x0, y0, x1, y1) face boxes in its pixels.
        Returns (N, 128) float32 descriptors; with_map, (N, 128 + 1024): each descriptor, then
        the network's last map (256 channels x 2 x 2, channel-major) that it is computed from."""
        if not len(boxes):
            return np.zeros((0, DESCRIPTOR_SIZE + (MAP_SIZE if with_map else 0)), np.float32)
        chips = np.stack([self.chip(image, box) for box in boxes])
        descriptors, grid = self._net(chips)
        return np.concatenate([descriptors, grid.reshape(len(grid), -1)], 1) if with_map else descriptors

    def chip(self, image: np.ndarray, box: Sequence[float]) -> np.ndarray:
        """The aligned (150, 150, 3) uint8 chip of the face in `box`. dlib reads only the area
        around the face (3 box sides across), so a large photo is not copied for each face."""
        x0, y0, x1, y1 = (float(v) for v in box)
        side = max(x1 - x0, y1 - y0, 1.0)
        h, w = image.shape[:2]
        if not np.isfinite([x0, y0, x1, y1]).all() or x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
            raise ValueError(f"face box {[x0, y0, x1, y1]} is not finite or misses the {w}x{h} image")
        ax0, ay0 = int(max(0, (x0 + x1) / 2 - 1.5 * side)), int(max(0, (y0 + y1) / 2 - 1.5 * side))
        ax1, ay1 = int(min(w, (x0 + x1) / 2 + 1.5 * side)), int(min(h, (y0 + y1) / 2 + 1.5 * side))
        area = np.ascontiguousarray(image[ay0:ay1, ax0:ax1])
        rect = self._dlib_box(area, (x0 - ax0, y0 - ay0, x1 - ax0, y1 - ay0))
        return self._dlib.get_face_chip(area, self._landmarks(area, rect), size=CHIP_SIZE, padding=0.25)

    def _dlib_box(self, image: np.ndarray, box: Sequence[float]):
        """The box dlib's landmark model was trained on (class doc). "hog": the detector runs on
        the area around `box` (1.6 times its size; upsampled when the face is under 100 px), its
        face of highest IoU with `box` (at least 0.3), else `box` itself."""
        x0, y0, x1, y1 = (float(v) for v in box)
        side = max(x1 - x0, y1 - y0, 1.0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if self.refine == "map":
            dx, dy, scale = DLIB_BOX_MAP
            cx, cy, half = cx + dx * side, cy + dy * side, scale * side / 2
            return self._dlib.rectangle(*(int(round(v)) for v in (cx - half, cy - half, cx + half, cy + half)))
        h, w = image.shape[:2]
        half = 0.8 * side
        ax0, ay0 = int(max(0, cx - half)), int(max(0, cy - half))
        ax1, ay1 = int(min(w, cx + half)), int(min(h, cy + half))
        if ax1 - ax0 >= 20 and ay1 - ay0 >= 20:
            area = np.ascontiguousarray(image[ay0:ay1, ax0:ax1])
            found = [(d.left() + ax0, d.top() + ay0, d.right() + ax0, d.bottom() + ay0)
                     for d in self._hog(area, 1 if side < 100 else 0)]  # fmt: skip
            if found:
                iou = box_iou(torch.tensor(found, dtype=torch.float32), torch.tensor([[x0, y0, x1, y1]]))[:, 0]
                if float(iou.max()) >= 0.3:
                    return self._dlib.rectangle(*(int(v) for v in found[int(iou.argmax())]))
        return self._dlib.rectangle(int(round(x0)), int(round(y0)), int(round(x1)), int(round(y1)))


_EXPORT = ([torch.zeros(1, CHIP_SIZE, CHIP_SIZE, 3, dtype=torch.uint8)], {"chips": {0: "faces"}})  # example, free axes


def _network(path: Path, precision: str = "fp32", ranges: Path = INT8_RANGES, threads: int | None = None):
    """dlib's ResNet ported (DlibFaceResNet): "fp32" on ONNX Runtime when installed, else torch;
    "int8" quantized at `ranges` on ONNX Runtime. Exported once and cached like the Predictor's
    graphs, under a key of dlib's file and the ranges: a cached graph needs no port built.
    A callable: (N, 150, 150, 3) uint8 chips -> [(N, 128) descriptors, (N, 256, 2, 2) last map], float32."""
    from lnet_anet.inference import runtime
    from lnet_anet.models.dlib_resnet import DlibFaceResNet

    if not runtime.onnxruntime_available():
        if precision == "int8":
            raise ImportError("the int8 face descriptor runs on ONNX Runtime: pip install onnxruntime, "
                              "or use precision='fp32'")  # fmt: skip
        return runtime.TorchGraph(DlibFaceResNet.from_dlib(path), torch.device("cpu"))
    settings = f"dlib_face_resnet/{DlibFaceResNet.VERSION}|{precision}"
    if precision == "int8":
        settings += "|" + hashlib.sha256(Path(ranges).read_bytes()).hexdigest()
    key = runtime.graph_key(settings, digest=hashlib.sha256(Path(path).read_bytes()).hexdigest())
    graph = runtime.OrtGraph.cached(key, threads)
    if graph is None:
        (examples, dynamic), net = _EXPORT, DlibFaceResNet.from_dlib(path)
        transform = (lambda m: runtime.quantize_int8(m, ranges)) if precision == "int8" else None
        graph = runtime.OrtGraph.from_module(net, examples, key, dynamic, transform, threads)
    return graph


def calibrate_int8(chips: np.ndarray, out: str | Path) -> None:
    """Record the int8 activation ranges of dlib's ported ResNet over (N, 150, 150, 3) uint8
    chips (FaceDescriptor.chip) in `out` (JSON), for FaceDescriptor(precision="int8", ranges=out)."""
    from lnet_anet.inference import runtime
    from lnet_anet.models.dlib_resnet import DlibFaceResNet

    model = runtime.export(DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat"), *_EXPORT)
    runtime.calibrate_int8(model, [{"chips": chip[None]} for chip in chips], Path(out))


def network_inputs(outputs: np.ndarray, reads_map: bool) -> np.ndarray:
    """What a head reads of dlib's network, from FaceDescriptor's outputs (N, 128 [+ 1024],
    with_map): the descriptor (N, 128); reads_map, the last map L2-normalised to norm 1 (about a
    descriptor's) then the descriptor, (N, 1024 + 128). Raises ValueError when a head that reads
    the map gets descriptors alone."""
    outputs = np.asarray(outputs, np.float32)
    if not reads_map:
        return outputs[:, :DESCRIPTOR_SIZE]
    if outputs.shape[1] != DESCRIPTOR_SIZE + MAP_SIZE:
        raise ValueError(f"this descriptor head reads dlib's last map too: it needs (N, {DESCRIPTOR_SIZE + MAP_SIZE}) "
                         f"network outputs (FaceDescriptor(..., with_map=True)), got (N, {outputs.shape[1]})")  # fmt: skip
    grid = outputs[:, DESCRIPTOR_SIZE:]
    grid = grid / np.maximum(np.linalg.norm(grid, axis=1, keepdims=True), 1e-12)
    return np.concatenate([grid, outputs[:, :DESCRIPTOR_SIZE]], 1)


def joined_inputs(descriptors: np.ndarray, features: np.ndarray) -> np.ndarray:
    """A joint head's input, (N, F + D): ANet's feature of each face (N, F; the patch average the
    attribute SVMs read) L2-normalised to norm sqrt(2), about a descriptor's norm, then the
    descriptor (N, D)."""
    return np.concatenate([anet_inputs(features), np.asarray(descriptors, np.float32)], axis=1)


def anet_inputs(features: np.ndarray) -> np.ndarray:
    """joined_inputs' first part: ANet's features (N, F) L2-normalised to norm sqrt(2), float32."""
    features = np.asarray(features, np.float32)
    norms = np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    return features * (np.float32(np.sqrt(2)) / norms)


def _checked_std_scale(std_scale: float) -> float:
    """DescriptorHead's std_scale as a float; ValueError unless it is a finite number > 0."""
    if not (np.isfinite(std_scale) and std_scale > 0):
        raise ValueError(f"std_scale must be a number > 0, got {std_scale}")
    return float(std_scale)


MEMBER_PREFIX = "member"  # a saved head's tensors of network i are "member{i}.<name>" when it has several


def _fit_mlp(x: torch.Tensor, y: torch.Tensor, kwargs: dict, target: str, sigma: float, epochs: int, lr: float,
             seed: int) -> torch.nn.Module:  # fmt: skip
    """One feature_dldl MLP trained as DescriptorHead.fit says; initial weights, order and dropout
    all follow `seed`."""
    from lnet_anet.dldl.training import dldl_loss_fn
    from lnet_anet.models.registry import create_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = create_model("feature_dldl", **kwargs)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        net.train()
        for _ in range(epochs):
            for batch in torch.randperm(len(x)).split(128):
                loss, _ = dldl_loss_fn(net, {"image": x[batch], target: y[batch]}, target=target, sigma=sigma)
                opt.zero_grad()
                loss.backward()
                opt.step()
    return net.eval()


def _stacked(nets: Sequence[torch.nn.Module]) -> tuple[np.ndarray, ...]:
    """feature_dldl MLPs as numpy arrays for one pass over all of them (float32, folded in
    float64): the LayerNorm's affine folded into the first Linear, the members' first layers side
    by side (D, M * H), their output layers stacked (M, bins, H); then LayerNorm's eps, the
    bins' values and the first layer's column sums (float64, for the LayerNorm applied after the
    product: DescriptorHead._expectations). float32, as the networks were trained: the first layer (1,408 x 768 for the
    shipped heads) is read from memory for every face, in half the time of float64's."""
    first, bias, out, out_bias = [], [], [], []
    for net in nets:
        state = {k: v.detach().double().numpy() for k, v in net.state_dict().items()}
        w = state["mlp.1.weight"]  # (H, D)
        first.append(state["mlp.0.weight"][:, None] * w.T)
        bias.append(state["mlp.0.bias"] @ w.T + state["mlp.1.bias"])
        out.append(state["head.fc.weight"])
        out_bias.append(state["head.fc.bias"])
    values = nets[0].head.bins.values.double().numpy()
    arrays = (np.concatenate(first, 1), np.concatenate(bias), np.stack(out), np.stack(out_bias))
    return (*(a.astype(np.float32) for a in arrays), nets[0].mlp[0].eps, values.astype(np.float32), arrays[0].sum(0))


@dataclasses.dataclass
class PreparedInputs:
    """Part of a DescriptorHead's input through its networks' first layer (DescriptorHead.prepare):
    product (N, M * H) float32, the inputs' sums and sums of squares (N,) float64, how many
    inputs (width) and the first of them (row) in the networks' input."""

    product: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    width: int
    row: int

    def joined(self, other: PreparedInputs) -> PreparedInputs:
        """This part and another of the same faces (the inputs before this part's)."""
        return PreparedInputs(self.product + other.product, self.total + other.total, self.squares + other.squares,
                              self.width + other.width, other.row)  # fmt: skip


class DescriptorHead:
    """Attractiveness or age from face descriptors with DLDL-v2: the registry's `feature_dldl`
    (LayerNorm -> 256 -> ReLU -> dropout -> bins over the target's range, TARGETS: 41 bins over
    1.0..5.0 for attractiveness, 117 over 0..116 years for age) trained with KL to N(y, sigma^2)
    + L1 on the expectation (Gao et al., DLDL-v2, IJCAI 2018), mixed with the bundle head's
    mean as (1 - weight) * head + weight * this head's expectation, clipped to `scale` (the
    target's range). Its weights are an MLP's, not the training faces' descriptors. `net` may be
    several such MLPs of different seeds (fit's `members`): the expectation is their mean.

    A joint head (`anet` set: the digest of the bundle ANet whose feature it was fitted on,
    Bundle.part_digest("anet")) reads joined_inputs(descriptor, ANet's feature); the Predictor
    passes the feature it computes anyway for the attributes. A head with reads_map reads
    network_inputs(outputs, True), dlib's last map beside the descriptor, in place of the
    descriptor: the map keeps where on the face the features fired, at no extra cost (the
    shipped attractiveness head; experiments/2026-12-01-attractiveness-cost, section 9).

    `describer` computes the network's outputs: image, boxes -> (N, 128) descriptors, or, a
    FaceDescriptor, (N, 128 + 1024) with the map (default None: a FaceDescriptor with the
    `settings` the head was fitted on, {"refine", "precision"}, made when first needed).

    std_scale: the factor on the bundle head's std that the Predictor reports beside the mixed
    mean (scale_std), chosen on held-out faces so that mean +- 1 std covers 68% of them: the mix
    is more accurate than the bundle head alone, whose std it would otherwise keep (the shipped
    heads: attractiveness 0.63, experiments/2026-12-01-attractiveness-cost, section 10; age 0.69,
    experiments/2026-12-01-age-descriptor-data, std_scale.json). Raises ValueError
    for a weight outside [0, 1], an unknown target or a std_scale that is not > 0."""

    def __init__(self, net: torch.nn.Module | Sequence[torch.nn.Module], kwargs: dict, weight: float = 0.5,
                 info: dict | None = None, describe=None, scale: tuple[float, float] | None = None,
                 settings: dict | None = None, anet: str | None = None, target: str = "attractiveness",
                 reads_map: bool = False, std_scale: float = 1.0):  # fmt: skip
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self.std_scale = _checked_std_scale(std_scale)
        if target not in TARGETS:
            raise ValueError(f"target must be one of {tuple(TARGETS)}, not {target!r}")
        self.anet, self.target, self.reads_map = anet, target, bool(reads_map)
        scale = scale if scale is not None else (TARGETS[target]["low"], TARGETS[target]["high"])
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.nets = [m.eval() for m in ([net] if isinstance(net, torch.nn.Module) else net)]
        if not self.nets:
            raise ValueError("a descriptor head needs at least one network")
        self.kwargs = dict(kwargs)
        self.weight, self.info = float(weight), dict(info or {})
        self.scale = (float(scale[0]), float(scale[1]))
        self.describer = describe
        self._numpy = None  # regress's weights as numpy arrays, made when first needed

    @classmethod
    def fit(cls, descriptors: np.ndarray, scores: np.ndarray, weight: float = 0.5, epochs: int = 60,
            sigma: float | None = None, lr: float = 2e-3, seed: int = 0, info: dict | None = None,
            settings: dict | None = None, anet: str | None = None, target: str = "attractiveness",
            members: int = 1, reads_map: bool = False, std_scale: float = 1.0) -> DescriptorHead:  # fmt: skip
        """Train on (N, D) inputs and their (N,) targets (1-5 scores, or ages in years): AdamW
        (weight decay 1e-4), batch 128, `epochs` passes, sigma the label distribution's spread
        (default: the target's, TARGETS); seeded, so the same data gives the same head.
        members: that many networks, of seeds seed, seed + 1, ..., whose expectations are
        averaged. Raises ValueError for an unknown target, members < 1 or std_scale <= 0.
        Inputs: descriptors, or, for a joint head, joined_inputs(descriptors, features) with
        `anet` the digest of the ANet that gave the features; reads_map: network_inputs(outputs,
        True) in place of the descriptors. settings: the FaceDescriptor's that made the
        descriptors (default DEFAULT_SETTINGS); std_scale: the class doc's."""
        if target not in TARGETS:
            raise ValueError(f"target must be one of {tuple(TARGETS)}, not {target!r}")
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        _checked_std_scale(std_scale)  # before training, not after
        spec = TARGETS[target]
        sigma = spec["sigma"] if sigma is None else sigma
        kwargs = {"in_features": int(descriptors.shape[1]), "low": spec["low"], "high": spec["high"], "step": spec["step"]}
        x = torch.as_tensor(np.asarray(descriptors, np.float32))
        y = torch.as_tensor(np.asarray(scores, np.float32))
        nets = [_fit_mlp(x, y, kwargs, target, sigma, epochs, lr, seed + k) for k in range(members)]
        info = {**(info or {}), "faces": len(y), "epochs": epochs, "sigma": sigma, "lr": lr, "seed": seed,
                "members": members}  # fmt: skip
        return cls(nets, kwargs, weight, info, settings=settings, anet=anet, target=target, reads_map=reads_map,
                   std_scale=std_scale)  # fmt: skip

    def regress(self, descriptors: np.ndarray) -> np.ndarray:
        """(N, D) inputs (descriptors; a joint head's joined_inputs) -> (N,) expectations of
        this head alone (the mean of its networks'). In numpy, all networks in one pass (_stacked):
        each MLP is a few small products, which torch's per-call overhead made take 0.7 ms per
        face inside the Predictor; equal to the networks' predict means to float rounding."""
        return self._expectations(self._first_layer(np.asarray(descriptors, np.float32), 0))

    def prepare(self, outputs: np.ndarray) -> PreparedInputs:
        """The part of the networks' first layer that reads dlib's outputs (describe's, (N, 128
        [+ 1024])), for mix: the Predictor computes it on its worker thread beside the face
        graph, so that mix, which waits for ANet's feature, has only the feature's part left (the
        first layer is most of the head's time: its 4 MB of weights are read for every face).
        Raises ValueError as network_inputs."""
        x = network_inputs(outputs, self.reads_map)
        return self._first_layer(x, self._stacks()[0].shape[0] - x.shape[1])

    def mix(self, head_mean: np.ndarray, descriptors, features: np.ndarray | None = None) -> np.ndarray:
        """The mixed score, (N,), from the head's means (N,), the faces' network outputs
        (describe's: (N, 128) descriptors, or (N, 128 + 1024) with the map; or prepare's of them)
        and, for a joint head, their ANet features (N, F). Raises ValueError when a joint head
        gets no features or a head that reads the map gets descriptors alone."""
        part = descriptors if isinstance(descriptors, PreparedInputs) else self.prepare(descriptors)
        if self.anet is not None:
            if features is None:
                raise ValueError("this descriptor head reads ANet's feature too (fitted with anet=...); pass features")
            part = part.joined(self._first_layer(anet_inputs(features), 0, stop=part.row))
        mixed = (1 - self.weight) * np.asarray(head_mean, np.float64) + self.weight * self._expectations(part)
        return np.clip(mixed, *self.scale)

    def _stacks(self) -> tuple:
        if self._numpy is None:
            self._numpy = _stacked(self.nets)
        return self._numpy

    def _first_layer(self, x: np.ndarray, start: int, stop: int | None = None) -> PreparedInputs:
        """x (N, d) float32, the networks' inputs start..stop (default: to the end): its product
        with those rows of the first layer, its sums and sums of squares (for the LayerNorm that
        is applied to the whole input after, in _expectations)."""
        first = self._stacks()[0][start:stop]
        if len(first) != x.shape[1]:
            raise ValueError(f"this descriptor head reads {len(first)} inputs here, got {x.shape[1]}")
        x64 = x.astype(np.float64)
        return PreparedInputs(x @ first, x64.sum(1), (x64 * x64).sum(1), x.shape[1], start)

    def _expectations(self, part: PreparedInputs) -> np.ndarray:
        """The mean expectation of the networks (N,) from the whole input's first-layer product:
        LayerNorm (its affine folded into the first layer) applied after the product, as
        (x - mean) / s @ W = (x @ W - mean * sum of W's rows) / s."""
        first, bias, out, out_bias, eps, values, column_sums = self._stacks()
        if part.width != len(first):
            raise ValueError(f"this descriptor head reads {len(first)} inputs, got {part.width}")
        mean = part.total / part.width
        scale = np.sqrt(np.maximum(part.squares / part.width - mean * mean, 0.0) + eps)
        h = (part.product - (mean[:, None] * column_sums).astype(np.float32)) / scale[:, None].astype(np.float32)
        h = np.maximum(h + bias, 0.0).reshape(len(h), len(out), -1)  # (N, M, H): Linear, ReLU (no dropout)
        z = np.matmul(h.transpose(1, 0, 2), out.transpose(0, 2, 1)).transpose(1, 0, 2) + out_bias  # (N, M, bins)
        p = np.exp(z - z.max(2, keepdims=True))
        return ((p / p.sum(2, keepdims=True)) @ values).mean(1).astype(np.float64)  # each network's expectation, averaged

    def scale_std(self, head_std: np.ndarray) -> np.ndarray:
        """The std reported beside mix's mean: the bundle head's std (N,) times std_scale."""
        return np.asarray(head_std, np.float64) * self.std_scale

    def describe(self, image: np.ndarray, boxes) -> np.ndarray:
        """The network's outputs for the faces in `boxes` (class doc): a FaceDescriptor gives
        the map too, whether or not this head reads it, so that heads of the same settings can
        share one call (the Predictor does)."""
        if self.describer is None:
            self.describer = FaceDescriptor(**self.settings)
        if isinstance(self.describer, FaceDescriptor):
            return self.describer(image, boxes, with_map=True)
        return self.describer(image, boxes)

    def save(self, path: str | Path) -> None:
        meta = {"model": "feature_dldl", "kwargs": self.kwargs, "weight": self.weight, "scale": self.scale,
                "descriptor": DESCRIPTOR, "settings": self.settings, "anet": self.anet, "target": self.target,
                "info": self.info, "members": len(self.nets), "map": self.reads_map,
                "std_scale": self.std_scale}  # fmt: skip
        state = {f"{MEMBER_PREFIX}{i}.{k}" if len(self.nets) > 1 else k: v.detach().contiguous()
                 for i, net in enumerate(self.nets) for k, v in net.state_dict().items()}  # fmt: skip
        save_safetensors_atomic(state, path, {"descriptor_head": json.dumps(meta)})

    @classmethod
    def load(cls, path: str | Path | None = None, describe=None, target: str = "attractiveness") -> DescriptorHead:
        """A saved head (default: the shipped one for `target`, DEFAULT_DESCRIPTOR_HEADS).
        Raises FileNotFoundError, or ValueError when the file is not a descriptor head."""
        path = DEFAULT_DESCRIPTOR_HEADS[target] if path is None else path
        from safetensors import safe_open

        from lnet_anet.models.registry import create_model

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such descriptor head (python -m lnet_anet.cli.fit_descriptor_head)")
        if path.is_dir():
            raise ValueError(f"{path}: a folder, not a descriptor head file (.safetensors)")
        try:
            with safe_open(str(path), "pt") as f:
                meta = (f.metadata() or {}).get("descriptor_head")
                state = {k: f.get_tensor(k) for k in f.keys()}
        except Exception as e:  # noqa: BLE001 - safetensors' own error types: a file that is not one
            raise ValueError(f"{path}: not a readable descriptor head (a safetensors file): {e}") from None
        if meta is None:
            raise ValueError(f"{path}: not a descriptor head (no 'descriptor_head' metadata)")
        meta = json.loads(meta)
        if meta.get("descriptor") != DESCRIPTOR:
            raise ValueError(f"{path}: made for the descriptor {meta.get('descriptor')!r}, not {DESCRIPTOR!r}")
        members = int(meta.get("members", 1))  # one network in files before members
        nets = []
        for i in range(members):
            prefix = f"{MEMBER_PREFIX}{i}." if members > 1 else ""
            net = create_model(meta["model"], **meta["kwargs"])
            try:
                net.load_state_dict({k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)})
            except RuntimeError as e:
                raise ValueError(f"{path}: its weights do not fit {members} x {meta['model']} {meta['kwargs']}: {e}") from e
            nets.append(net)
        settings = meta.get("settings", {"refine": "hog", "precision": "fp32"})  # files before the settings
        return cls(nets, meta["kwargs"], meta["weight"], meta.get("info"), describe, tuple(meta["scale"]), settings,
                   meta.get("anet"), meta.get("target", "attractiveness"), meta.get("map", False),
                   meta.get("std_scale", 1.0))  # fmt: skip
