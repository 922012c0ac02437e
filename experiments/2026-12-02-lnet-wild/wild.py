"""LNet's upper part trained further on WIDER photos with image-level tags only (RULE.md).

    PYTHONPATH=. python experiments/2026-12-02-lnet-wild/wild.py labels    # the fit / choose halves
    PYTHONPATH=. python experiments/2026-12-02-lnet-wild/wild.py cache     # the lower part's maps
    PYTHONPATH=. python experiments/2026-12-02-lnet-wild/wild.py train     # -> runs/lnet-wild/lnet.safetensors
    PYTHONPATH=. python experiments/2026-12-02-lnet-wild/wild.py bundle    # -> runs/lnet-wild/wild.lnetanet

A WIDER photo's only tag is "a face is present" (its attribute tags are unknown and take no loss);
a face-free crop of one is tagged "no face"; the composed scenes keep their tags. Boxes cut the
face-free crops and score; the network never sees one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import ConcatDataset

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_detection import face_free_crops  # noqa: E402

from lnet_anet.data import datasets_root  # noqa: E402
from lnet_anet.data.readers.detection import hash_part, read_wider_txt  # noqa: E402
from lnet_anet.inference.bundle import load_bundle  # noqa: E402
from lnet_anet.inference.predictor import DEFAULT_BUNDLE  # noqa: E402
from lnet_anet.lnet.check_map import check_loss, fill_faces  # noqa: E402  (moved here from this script, unchanged)
from lnet_anet.lnet.multiscale import place  # noqa: E402
from lnet_anet.lnet.training import CachedScenes, cache_scenes, scenes  # noqa: E402
from lnet_anet.models.lnet import LNetUpper  # noqa: E402

RUN = ROOT / "runs" / "lnet-wild"
HALF_SEED = "lnet_anet-face-verifier-v1"  # the box-head and face-verifier studies' halves
CROP_SEEDS = (0, 1, 2)


def wider_tune_halves():
    labels = sorted((datasets_root() / "wider_face_train" / "wider_face_split").glob("wider_face_*_bbx_gt.txt"))[0]
    table = read_wider_txt(labels)
    tune = table[hash_part(table["name"]) == "tune"].reset_index(drop=True)
    half = hash_part(tune["name"], 0.5, seed=HALF_SEED)  # "tune" = fit, "val" = choose
    return tune[half == "tune"].reset_index(drop=True), tune[half == "val"].reset_index(drop=True)


def labels() -> None:
    """runs/lnet-wild/choose.csv (path,x0,y0,x1,y1,dont_care; WIDER's invalid faces don't care)."""
    fit, choose = wider_tune_halves()
    RUN.mkdir(parents=True, exist_ok=True)
    rows = ["path,x0,y0,x1,y1,dont_care"]
    for path, boxes, dont_care in zip(choose["path"], choose["boxes"], choose["dont_care"], strict=True):
        if not len(boxes):
            rows.append(f"{path},,,,,")
        for b, d in zip(np.asarray(boxes).reshape(-1, 4), dont_care, strict=True):
            rows.append(f"{path},{b[0]:.1f},{b[1]:.1f},{b[2]:.1f},{b[3]:.1f},{int(d)}")
    (RUN / "choose.csv").write_text("\n".join(rows) + "\n")
    print(f"fit half {len(fit)} photos, choose half {len(choose)} photos -> {RUN / 'choose.csv'}")


def lnet_config():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(ROOT / "lnet_anet" / "conf"), version_base="1.3"):
        return compose("train_lnet", overrides=["experiment=lnet_cpu"])


class Photos(torch.utils.data.Dataset):
    """Photos letterboxed on LNet's canvas as the Predictor places them at scale 1, each also
    mirrored, with one image-level tag: has_face; no attribute is known (attributes_known 0)."""

    def __init__(self, paths: list[str], has_face: float, mean, std, num_attributes: int, size: int = 224,
                 masks: list[np.ndarray] | None = None):  # fmt: skip
        self.items = [(p, m) for p in paths for m in (False, True)]
        self.masks = dict(zip(paths, masks, strict=True)) if masks is not None else None
        self.has_face, self.size, self.num_attributes = has_face, size, num_attributes
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        path, mirror = self.items[i]
        img = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        if self.masks is not None:
            img = fill_faces(img, self.masks[path])
        if mirror:
            img = img[:, ::-1].copy()
        canvas, _ = place(img, (self.size, self.size))
        x = (canvas.astype(np.float32) / 255 - self.mean) / self.std
        return {"image": torch.from_numpy(x.transpose(2, 0, 1).copy()), "has_face": torch.tensor(self.has_face),
                "attributes": torch.zeros(self.num_attributes), "box": torch.zeros(4)}


def cache_masked() -> None:
    """runs/lnet-wild/masked.npz: the fit-half photos with their faces filled (round 4)."""
    bundle = load_bundle(DEFAULT_BUNDLE)
    pre = bundle.config["preprocessing"]["lnet"]
    fit, _ = wider_tune_halves()
    photos = Photos(list(fit["path"]), 0.0, pre["mean"], pre["std"], bundle.lnet.num_attributes,
                    masks=[np.asarray(b).reshape(-1, 4) for b in fit["boxes"]])  # fmt: skip
    cv2.imwrite(str(RUN / "masked-example.jpg"), cv2.cvtColor(fill_faces(cv2.cvtColor(cv2.imread(fit["path"][0]),
                cv2.COLOR_BGR2RGB), photos.masks[fit["path"][0]]), cv2.COLOR_RGB2BGR))  # fmt: skip
    cache_scenes(bundle.lnet.eval(), photos, RUN / "masked.npz", 1)


def cache() -> None:
    cfg = lnet_config()
    bundle = load_bundle(DEFAULT_BUNDLE)
    lnet = bundle.lnet.eval()
    pre = bundle.config["preprocessing"]["lnet"]
    fit, _ = wider_tune_halves()
    crops = [p for s in CROP_SEEDS for p in face_free_crops(fit, RUN / "face-free-fit", seed=s)]
    print(f"{len(fit)} fit-half photos, {len(crops)} face-free crops")
    n_attr = lnet.num_attributes
    cache_scenes(lnet, Photos(list(fit["path"]), 1.0, pre["mean"], pre["std"], n_attr), RUN / "photos.npz", 1)
    cache_scenes(lnet, Photos(crops, 0.0, pre["mean"], pre["std"], n_attr), RUN / "face-free.npz", 1)
    from lnet_anet.data.from_config import attribute_splits

    names, fit_faces, _, _ = attribute_splits(cfg, RUN)
    fixed = scenes(cfg, fit_faces, names, False, cfg.train_p_empty, cfg.train.seed + 100, cfg.cache_scenes)
    cache_scenes(lnet, fixed, RUN / "scenes-fit.npz", 1)


def cached(path: Path, known: float) -> CachedScenes:
    arrays = dict(np.load(path))
    arrays["attributes_known"] = np.full(len(arrays["image"]), known, np.float32)
    return CachedScenes(arrays)


def train(epochs: int = 4, lr: float = 1e-3, repeat: int = 0, name: str = "wild", negatives: str = "face-free") -> None:
    """negatives: face-free (round 2: the face-free crops) or masked (round 4: the photos, faces filled)."""
    from lnet_anet.engine import TrainConfig, Trainer
    from lnet_anet.engine.runs import save_weights

    torch.manual_seed(0)
    bundle = load_bundle(DEFAULT_BUNDLE)
    lnet = bundle.lnet
    composed = cached(RUN / "scenes-fit.npz", 1.0)
    photos, free = cached(RUN / "photos.npz", 0.0), cached(RUN / f"{negatives}.npz", 0.0)
    # the photos and crops repeated to about half of the samples (RULE.md)
    repeat = repeat or max(1, round(len(composed) / (len(photos) + len(free))))
    data = ConcatDataset([composed] + [photos, free] * repeat)
    print(f"composed {len(composed)}, photos {len(photos)}, {negatives} {len(free)}, x{repeat}: {len(data)}")
    out = RUN / name
    cfg = TrainConfig(epochs=epochs, batch_size=64, lr=lr, warmup_steps=50, num_threads=2, num_workers=0)
    Trainer(LNetUpper(lnet), check_loss, data, cfg, out).fit()
    save_weights(lnet, out / "lnet.safetensors")
    print(out / "lnet.safetensors")


def fit_half_labels() -> Path:
    """runs/lnet-wild/wider-fit/: WIDER's label file with the fit half's photos only, beside a link
    to WIDER_train/, for fit_localizer --wider (which keeps hash_part's tune part: all of them)."""
    root = RUN / "wider-fit"
    (root / "wider_face_split").mkdir(parents=True, exist_ok=True)
    source = datasets_root() / "wider_face_train"
    link = root / "WIDER_train"
    if not link.exists():
        link.symlink_to((source / "WIDER_train").resolve())
    fit, _ = wider_tune_halves()
    keep = set(fit["name"])
    lines = (source / "wider_face_split" / "wider_face_train_bbx_gt.txt").read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        name, count = lines[i].strip(), int(lines[i + 1])
        block = lines[i : i + 2 + max(count, 1)]
        if name in keep:
            out += block
        i += len(block)
    (root / "wider_face_split" / "wider_face_train_bbx_gt.txt").write_text("\n".join(out) + "\n")
    return root


@torch.no_grad()
def photo_peaks(lnet) -> np.ndarray:
    """The scale-1 face-map peak (ReLU'd) of each fit-half photo (not the mirrored copies)."""
    arrays = dict(np.load(RUN / "photos.npz"))
    lnet.eval()
    maps = lnet.upper(torch.from_numpy(arrays["fine"][::2]).float(), torch.from_numpy(arrays["image"][::2]).float())
    return F.relu(maps[:, -1]).amax(dim=(1, 2)).numpy()


def bundle(name: str = "wild") -> None:
    """Round 2 (RULE.md): the embedded bundle with the run's LNet, its face map divided by the
    ratio of the median scale-1 peak over the fit-half photos (the run's / the shipped LNet's); then
    fit_localizer --face-box-only on the fit half makes <name>.lnetanet. Also shipped-fit.lnetanet:
    the embedded bundle with its face box refitted the same way."""
    import shlex
    import subprocess

    from safetensors.torch import load_file

    from lnet_anet.inference.build import _record_build
    from lnet_anet.inference.bundle import save_bundle

    b = load_bundle(DEFAULT_BUNDLE)
    shipped = photo_peaks(b.lnet)
    b.lnet.load_state_dict(load_file(str(RUN / name / "lnet.safetensors")))
    ratio = float(np.median(photo_peaks(b.lnet)) / np.median(shipped))
    with torch.no_grad():
        b.lnet.attribute_filters.weight[-1] /= ratio
        b.lnet.attribute_filters.bias[-1] /= ratio
    note = (f"LNet upper part trained on WIDER fit-half photos with image-level tags (experiments/2026-12-02-lnet-wild, "
            f"{name}); face map divided by {ratio:.4f} (median scale-1 peak on the fit-half photos, its / the shipped's)")
    parts = {"lnet": b.lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness}
    config = {k: v for k, v in b.config.items() if k != "versions"}
    _record_build(config, str(DEFAULT_BUNDLE), shlex.join(["python", *sys.argv]), note, replaced=["lnet"])
    scaled = RUN / f"{name}-scaled.lnetanet"
    save_bundle(scaled, {k: v for k, v in parts.items() if v is not None}, config)
    (RUN / name / "scale.json").write_text(json.dumps({"ratio": ratio, "median_peak_shipped": float(np.median(shipped))}))
    print(note)
    wider = fit_half_labels()
    for source, out in ((scaled, RUN / f"{name}.lnetanet"), (DEFAULT_BUNDLE, RUN / "shipped-fit.lnetanet")):
        if name != "wild" and out.name == "shipped-fit.lnetanet" and out.exists():
            continue
        subprocess.run([sys.executable, "-m", "lnet_anet.cli.fit_localizer", "--wider", str(wider), "--bundle", str(source),
                        "--out", str(out), "--face-box-only"], check=True)  # fmt: skip


def check_bundle(name: str = "masked", check_faces: float = 1.0, out: str = "") -> None:
    """Round 6 (RULE.md): the embedded bundle, its LNet given a check map (LNet's check=True) made of
    the run's neck and face filter (divided by round 2's photo-peak ratio, scale.json), and
    preprocessing.lnet.check_faces; every other tensor and setting the embedded bundle's."""
    import shlex

    from safetensors.torch import load_file

    from lnet_anet.inference.build import _record_build
    from lnet_anet.inference.bundle import save_bundle
    from lnet_anet.models.registry import create_model

    b = load_bundle(DEFAULT_BUNDLE)
    spec = b.config["nets"]["lnet"]
    lnet = create_model(spec["model"], **{**spec["kwargs"], "check": True})
    trained = load_file(str(RUN / name / "lnet.safetensors"))
    ratio = json.loads((RUN / name / "scale.json").read_text())["ratio"]
    state = b.lnet.state_dict() | {"check_" + k: v for k, v in trained.items() if k.startswith("neck.")}
    state |= {"check_filter.weight": trained["attribute_filters.weight"][-1:] / ratio,
              "check_filter.bias": trained["attribute_filters.bias"][-1:] / ratio}  # fmt: skip
    lnet.load_state_dict(state)
    config = {k: v for k, v in b.config.items() if k != "versions"}
    config["nets"]["lnet"]["kwargs"] = {**spec["kwargs"], "check": True}
    config["preprocessing"]["lnet"]["check_faces"] = float(check_faces)
    note = (f"LNet's check map: the neck and face filter of the LNet trained on WIDER fit-half photos and the same "
            f"photos with their faces filled (experiments/2026-12-02-lnet-wild, {name}; filter / {ratio:.4f}); "
            f"check_faces {check_faces}")  # fmt: skip
    parts = {"lnet": lnet, "anet": b.anet, "svm": b.svm.to_arrays(), "age": b.age, "attractiveness": b.attractiveness}
    _record_build(config, str(DEFAULT_BUNDLE), shlex.join(["python", *sys.argv]), note, replaced=["lnet"])
    target = Path(out) if out else RUN / f"check-{check_faces:g}.lnetanet"
    save_bundle(target, {k: v for k, v in parts.items() if v is not None}, config)
    print(note, target)


if __name__ == "__main__":
    step, *rest = sys.argv[1:]
    kwargs = dict(a.split("=", 1) for a in rest)
    kwargs = {k: (float(v) if k in ("lr", "check_faces") else int(v) if k in ("epochs", "repeat") else v)
              for k, v in kwargs.items()}  # fmt: skip
    steps = {"labels": labels, "cache": cache, "cache_masked": cache_masked, "train": train, "bundle": bundle,
             "check_bundle": check_bundle}  # fmt: skip
    steps[step](**kwargs)
