"""Build an index and its torch Datasets from a Hydra `data` config (conf/data/*.yaml)."""

from __future__ import annotations

import logging
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from lnet_anet.data.dataset import FaceDataset
from lnet_anet.data.errors import DataNotFoundError
from lnet_anet.data.preprocess import INCEPTION_MEAN, INCEPTION_STD
from lnet_anet.data.readers._tables import BOX_COLUMNS, is_image_name
from lnet_anet.data.readers.age import _unit_hash, fold_split, holdout_split
from lnet_anet.data.scenes import ScenePhotometric
from lnet_anet.engine.config import ConfigError

log = logging.getLogger("lnet_anet.data")


# the keys a data config may hold: those of conf/data/*.yaml, and box_scale (age crops, dldl.training)
DATA_KEYS = frozenset({"name", "task", "index", "holdout", "fold", "boxes", "eval_split", "image_size", "crop",
                       "enlarge", "sigma", "limit", "box_scale"})  # fmt: skip


def check_data_settings(data_cfg: Any) -> None:
    """The data config's crop settings as the datasets will read them (data.crop full or box,
    data.enlarge a number > 0, data.image_size a whole number of pixels >= 1, data.box_scale a
    number > 0), checked before any data is read or a run trains (engine.runs.training_command):
    ConfigError naming the key, the allowed values and what was given (a trial's data.crop=boxx
    ended in a traceback once the first dataset was made, leaving the run folder)."""
    crop = data_cfg.get("crop", "full")
    if crop not in ("full", "box"):
        raise ConfigError(f"data.crop must be full (the whole image) or box (the face box), got {crop!r}")
    for key, what in (("enlarge", "the face box's enlargement, e.g. 1.1"), ("box_scale", "e.g. 1.0")):
        value = data_cfg.get(key)
        if value is None and key == "box_scale":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise ConfigError(f"data.{key} must be a number > 0 ({what}), got {value!r}")
    size = data_cfg.get("image_size")
    sides = list(size) if isinstance(size, (list, tuple, ListConfig)) and len(size) == 2 else [size]  # (height, width)
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sides):
        raise ConfigError(f"data.image_size must be a whole number of pixels >= 1 (the side the faces are read "
                          f"at, e.g. data.image_size=128), got {size!r}")  # fmt: skip


def _say_kept_name(data_cfg: Any) -> None:
    """Warn when the command line points data.index at other files but keeps the config's
    data.name: runs, logs and records would name the user's own folder after the shipped set
    (trial 83: `data=utkface data.index.folder=MINE` was scored as "utkface128/val" and its run
    named age-utkface128)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():  # called from Python: the caller names its config
        return
    given = [o.lstrip("+~") for o in HydraConfig.get().overrides.task]
    moved = [o for o in given if o.startswith("data.index.") and "_target_" not in o]
    if moved and not any(o.startswith("data.name=") for o in given):
        log.warning("%s given without data.name: runs, logs and records still name this data %r (the config's); "
                    "add data.name=NAME to name your own", ", ".join(moved), data_cfg.get("name"))


def build_index(data_cfg: Any) -> pd.DataFrame:
    """Read the dataset the config names, report the rows left out, apply its hold-out rule.

    `holdout: {frac, seed, by, holdout[, from_split]}` re-splits the rows (only those of
    `from_split` when given: e.g. carve a validation set out of a train partition).
    `fold: {k, n, seed[, holdout, from_split]}` replaces it: k-fold cross-validation, fold k
    scored (see readers.age.fold_split). `boxes: CSV` (lnet_anet.cli.lnet_boxes) adds each
    image's x0..y1 face box, for crop: box (other crops do not read it). `limit: N` keeps at
    most N rows of each split (limit_rows). Raises DataNotFoundError (a FileNotFoundError)
    naming the CSV and how to make it when crop: box needs one that is missing, and ConfigError
    for a holdout or fold rule that cannot work (holdout_from_config, fold_from_config), before
    the dataset is read."""
    unknown = sorted(set(data_cfg) - DATA_KEYS)
    if unknown:  # `+data.sigmaa=5` (Hydra's advice for a key the config lacks) was read by nothing, unsaid (a trial)
        raise ConfigError(f"unknown data options {unknown}; known: {sorted(DATA_KEYS)} (conf/data/*.yaml's keys; a "
                          "reader's own settings go under data.index)")  # fmt: skip
    rule = holdout_from_config(data_cfg.get("holdout"))  # both checked before the reader runs (a generated
    fold = fold_from_config(data_cfg.get("fold"))  # dataset is not made for a command that stops)
    boxes = data_cfg.get("boxes") if data_cfg.get("crop", "box") == "box" else None
    if boxes and not Path(boxes).is_file():  # before the reader runs: a generated dataset is not made for nothing
        raise DataNotFoundError(boxes, "no such boxes CSV (data.crop=box reads LNet's boxes: make it with "
                                       "python -m lnet_anet.cli.lnet_boxes IMAGES --out CSV, set data.boxes=, "
                                       "or read the whole images with data.crop=full)")  # fmt: skip
    _say_kept_name(data_cfg)
    with warnings.catch_warnings(record=True) as caught:  # the reader's count of rows left out: logged below, row by row
        warnings.simplefilter("always")
        index = instantiate(data_cfg.index)
    for w in caught:
        if "left out" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for line in index.attrs.get("skipped", [])[:20]:
        log.warning("left out: %s", line)
    if len(index.attrs.get("skipped", [])) > 20:
        log.warning("... %d rows left out in all", len(index.attrs["skipped"]))
    if len(index) == 0:  # said here, not as "no 'train' rows" further on
        where = {k: v for k, v in dict(data_cfg.index).items() if k != "_target_"}
        skipped = index.attrs.get("skipped", [])
        why = (f"all {len(skipped)} rows were left out, e.g. {skipped[0]}" if skipped
               else "the reader found no images" + _images_one_level_down(where))  # fmt: skip
        raise ConfigError(f"{data_cfg.get('name', 'the data')} ({where}): {why}")
    if fold:
        attrs = dict(index.attrs)
        try:
            index = fold_split(index, **fold)
        except ValueError as e:  # no rows of its from_split in this data
            raise ConfigError(f"data.fold: {e}") from None
        index.attrs = {**attrs, "fold": fold}
        log.info("fold %s: %s", fold, index["split"].value_counts().to_dict())
    elif rule:
        if rule.get("by") is not None and rule["by"] not in index:
            raise ConfigError(f"data.holdout.by={rule['by']}: {data_cfg.get('name', 'the data')} has no such column "
                              f"(its columns: {', '.join(map(str, index.columns))}); by: null splits by image file, "
                              "by: identity keeps each person on one side")  # fmt: skip
        attrs = dict(index.attrs)
        source = rule.pop("from_split", None)
        drop_copies = bool(rule.pop("drop_copies", False))
        before = index["split"].astype(str).to_numpy() if "split" in index else np.full(len(index), "")
        if source is None:
            index = holdout_split(index, overwrite=True, **rule)
        else:
            part = index["split"] == source
            resplit = holdout_split(index[part], overwrite=True, **rule)
            index = index.copy()
            index.loc[part, "split"] = resplit["split"]
        # said, not silent: a split file that already has val rows gets more of them (LFWA's config)
        target = rule.get("holdout", "val")
        moved = int(((index["split"].to_numpy() == target) & (before != target)).sum())
        pool, had = int((before == source).sum()) if source else len(index), int((before == target).sum())
        (log.warning if had else log.info)(
            "data.holdout moved %d of the %d %srows into %s%s; data.holdout=null keeps the data's own split",
            moved, pool, f"{source} " if source else "", target,
            f" (the data's own split already had {had} {target} rows)" if had else "")  # fmt: skip
        copies = {}
        if drop_copies:  # a held-out file with a training file's bytes (a dataset's duplicates) scores nothing
            index, copies = _drop_copies(index, target, "train")
            copies["drop_copies"] = True
        # data.json keeps the rule: another seed or frac moves rows between train and val, which
        # the counts alone may not show, and a finished run would score its own training images
        index.attrs = {**attrs, "holdout": {**rule, "from_split": source, **copies}}
    limit, every = data_cfg.get("limit"), index
    if limit is not None:
        index = limit_rows(index, limit)
    if boxes:  # after the limit: only the rows used are matched, and counted when they have no box
        index = attach_boxes(index, boxes, of=every)
    if data_cfg.get("crop") == "box" and not all(c in index.columns for c in BOX_COLUMNS):
        raise ConfigError(f"data.crop=box needs a face box per image, and {data_cfg.get('name', 'this data')} has "
                          "none: set data.boxes=CSV (LNet's boxes: python -m lnet_anet.cli.lnet_boxes IMAGES --out "
                          "CSV), or read the whole images with data.crop=full")  # fmt: skip
    if data_cfg.get("crop") == "box":  # a box file missing rows (the reader warned): said now, not by the dataset later
        unboxed = ~np.isfinite(index[list(BOX_COLUMNS)].to_numpy(np.float64)).all(axis=1)
        if unboxed.any():
            raise ConfigError(f"data.crop=box: {int(unboxed.sum())} of the {len(index)} images have no face box, e.g. "
                              f"{index['path'].iloc[int(np.argmax(unboxed))]} (missing from the dataset's box file): "
                              "add their rows, set data.boxes=CSV (LNet's boxes, python -m lnet_anet.cli.lnet_boxes "
                              "IMAGES --out CSV: an image without one takes the whole image), or read the whole images "
                              "with data.crop=full")  # fmt: skip
    return index


def limit_rows(index: pd.DataFrame, limit: Any) -> pd.DataFrame:
    """At most `limit` rows of each split (data.limit: a quick run on part of a real dataset),
    drawn in a fixed random order: each row's place is a hash of its image file's name, so a larger
    limit keeps a smaller one's rows, and rows added or left out elsewhere (another split, the
    copies data.holdout.drop_copies leaves out) move no other row in or out (a permutation of the
    whole index did: a trial). The rows stay in the index's order, and index.attrs["limit"] records
    it (data.json). Raises ConfigError for a limit that is not a whole number >= 1."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError(f"data.limit must be a whole number >= 1 (rows of each split) or null, got {limit!r}")
    order = _name_hash(index["path"], 0, "limit")
    rank = pd.Series(order, index=index.index).groupby(index["split"]).rank(method="first")
    limited = index[rank <= limit]
    limited.attrs = {**index.attrs, "limit": limit}
    log.info("data.limit %d: %s", limit, limited["split"].value_counts().to_dict())
    return limited


def _name_hash(paths, seed: int, salt: str) -> np.ndarray:
    """A uniform [0, 1) number per path, from its file name alone (not its folder), `salt` and `seed`."""
    return _unit_hash([f"{salt}\0{Path(str(p)).name}" for p in paths], seed)


def draw_by_name(rows: pd.DataFrame, n: int, seed: int = 0, salt: str = "draw") -> pd.DataFrame:
    """At most n rows of `rows` (a frame with a "path" column), drawn by a hash of each file's
    name with `seed` and `salt`, in the order drawn: a smaller n draws a prefix of a larger one's
    rows, and a row added or left out moves no other row in or out (DataFrame.sample's draw
    changes with the frame's length). Returns `rows` itself, reordered, when n >= len(rows).
    Raises ValueError for n < 0."""
    if n < 0:
        raise ValueError(f"cannot draw {n} rows")
    order = np.argsort(_name_hash(rows["path"], seed, salt), kind="stable")
    return rows.iloc[order[:n]]


def read_box_csv(csv_path) -> pd.DataFrame:
    """lnet_anet.cli.lnet_boxes' CSV (`name,x0,y0,x1,y1[,...]`, a header naming at least those)
    -> name -> x0, y0, x1, y1 (pixels, x1 > x0, y1 > y0), NaN for a row whose four are empty
    (no face found). Raises DatasetFormatError naming the file and line for a missing column, a
    value that is not a number, a box with some values empty, not finite or with x1 <= x0 or
    y1 <= y0, and a name listed twice; DataNotFoundError when the file is missing."""
    import csv

    from lnet_anet.data.errors import DatasetFormatError
    from lnet_anet.data.readers._tables import read_lines

    lines = read_lines(csv_path)
    rows = [(n, fields) for n, fields in enumerate(csv.reader(lines), start=1) if fields]
    if not rows:
        raise DatasetFormatError(csv_path, "empty boxes CSV")
    (first, header), rows = rows[0], rows[1:]
    header = [h.strip() for h in header]
    missing = [c for c in ("name", *BOX_COLUMNS) if c not in header]
    if missing:
        raise DatasetFormatError(csv_path, f"the header lacks the columns {missing} (lnet_boxes writes "
                                           "name,x0,y0,x1,y1,...)", first)  # fmt: skip
    at = [header.index(c) for c in ("name", *BOX_COLUMNS)]
    names, boxes, seen = [], np.full((len(rows), 4), np.nan), {}
    for k, (line, fields) in enumerate(rows):
        if len(fields) < len(header):
            raise DatasetFormatError(csv_path, f"{len(fields)} fields, the header has {len(header)}", line)
        name, *values = (fields[j].strip() for j in at)
        if name in seen:
            raise DatasetFormatError(csv_path, f"{name!r} is listed twice (first on line {seen[name]})", line)
        seen[name] = line
        names.append(name)
        if all(v == "" for v in values):
            continue  # no face found: the whole image is read
        try:
            box = np.array([float(v) for v in values])
        except ValueError:
            raise DatasetFormatError(csv_path, f"{name}: the box {values} is not four numbers", line) from None
        if not (np.isfinite(box).all() and box[2] > box[0] and box[3] > box[1]):
            raise DatasetFormatError(csv_path, f"{name}: bad box {values} (need finite x0 < x1 and y0 < y1)", line)
        boxes[k] = box
    return pd.DataFrame(boxes, columns=list(BOX_COLUMNS), index=pd.Index(names, name="name"))


def attach_boxes(index: pd.DataFrame, csv_path, of: pd.DataFrame | None = None) -> pd.DataFrame:
    """x0, y0, x1, y1 columns from a `name,x0,y0,x1,y1[,...]` CSV (lnet_anet.cli.lnet_boxes;
    read_box_csv: its errors), matched on the image file name. A row with an empty box (no face
    found) or missing from the CSV gets the whole image (its size read from the file's header).
    Raises ConfigError when the CSV names none of the images of `of` (default: `index`; the
    dataset before data.limit kept some of its rows): another dataset's CSV."""
    import os

    from PIL import Image

    table = read_box_csv(csv_path)
    names = index["path"].map(os.path.basename)
    listed = names.isin(table.index).to_numpy()
    every = names if of is None else of["path"].map(os.path.basename)
    if len(every) and not every.isin(table.index).any():
        raise ConfigError(f"{csv_path}: names none of the {len(every)} images (e.g. {every.iloc[0]!r}; it lists "
                          f"{len(table)} names such as {table.index[0] if len(table) else None!r}): the boxes of "
                          "other images? Make them with python -m lnet_anet.cli.lnet_boxes IMAGES --out CSV")  # fmt: skip
    found = table.reindex(names.to_numpy()).to_numpy(np.float64, copy=True)
    whole = ~np.isfinite(found).all(axis=1)
    for i in np.flatnonzero(whole):
        with Image.open(index["path"].iloc[i]) as im:
            found[i] = [0, 0, im.width, im.height]
    out = index.copy()
    for j, c in enumerate(("x0", "y0", "x1", "y1")):
        out[c] = found[:, j]
    out.attrs = dict(index.attrs)
    out.attrs["boxes"] = {"csv": str(csv_path), "whole_image": int(whole.sum())}
    if whole.any():
        log.warning("%s: %d image(s) without a box take the whole image (%d not listed in it)", csv_path,
                    int(whole.sum()), int((~listed).sum()))  # fmt: skip
    return out


def split_of(index: pd.DataFrame, split: str, override: str = "data.eval_split") -> pd.DataFrame:
    """The rows of one split (attrs kept). Raises ConfigError when the split is empty,
    naming the splits the data has and `override`, the setting that picks another."""
    part = index[index["split"] == split]
    if part.empty:
        raise no_rows_error(split, index["split"].astype(str).unique(), override)
    part.attrs = dict(index.attrs)
    return part


def no_rows_error(split: str, splits, override: str = "data.eval_split") -> ConfigError:
    """The error for a split the dataset has no rows of, naming the splits it has and, for an
    evaluation split, the override that scores another (a ConfigError: the commands report it
    in one line, exit status 2)."""
    found = sorted(str(s) for s in set(splits))
    if found == [""]:  # no row has a split: the partition file was not found or not read
        hint = ("; no image has a split: give the dataset's partition file (CelebA: list_eval_partition.txt), "
                "or hold some out: data.holdout='{frac: 0.2, seed: 1, by: null, holdout: val, from_split: null}'")  # fmt: skip
    elif found and split != "train":
        hint = f"; score another one with {override}={found[-1]}"
    else:
        hint = ""
    return ConfigError(f"the dataset has no {split!r} rows (its splits: {found}){hint}")


def _images_one_level_down(where: dict[str, Any]) -> str:
    """For a reader that found no images: "; <folder> holds images in its sub-folder ..." when a
    folder it was given has sub-folders with images (the release unpacked one level deeper, as
    utkface128/UTKFace/), else ""."""
    for key, value in where.items():
        folder = Path(str(value)) if isinstance(value, str | Path) else None
        if folder is None or not folder.is_dir():
            continue
        holding = [d for d in sorted(folder.iterdir())
                   if d.is_dir() and any(is_image_name(f.name) for f in list(d.iterdir())[:500])]  # fmt: skip
        if holding:
            return (f"; {folder} holds images in its sub-folder{'s' if len(holding) > 1 else ''} "
                    f"{', '.join(d.name for d in holding[:3])}: point at one, e.g. data.index.{key}={holding[0]}")
    return ""


def face_dataset(data_cfg: Any, index: pd.DataFrame, train: bool, **overrides) -> FaceDataset:
    """A FaceDataset with the config's image size, crop and the ImageNet normalisation. Raises
    ConfigError for data.crop=full on an index that lists face boxes (in-the-wild CelebA, or
    data.boxes): the heads would learn from or score whole photos (a trial trained ANet on them
    with no word); a caller that reads whole photos on purpose passes crop= itself."""
    if "crop" not in overrides and data_cfg.crop == "full" and set(BOX_COLUMNS) <= set(index.columns):
        raise ConfigError(f"data.crop=full would read the whole photos of {data_cfg.get('name', 'this data')}, which "
                          "list face boxes (in-the-wild images such as img_celeba, or data.boxes): set data.crop=box "
                          "to read their faces (the listed boxes, or data.boxes=CSV of LNet's boxes: python -m "
                          "lnet_anet.cli.lnet_boxes IMAGES --out CSV), or data.index.coords=none to read whole "
                          "photos on purpose")  # fmt: skip
    kwargs = dict(image_size=data_cfg.image_size, crop=data_cfg.crop, enlarge=data_cfg.enlarge,
                  mean=INCEPTION_MEAN, std=INCEPTION_STD, train=train)  # fmt: skip
    return FaceDataset(index, **{**kwargs, **overrides})


def photometric_from_config(settings: Any) -> ScenePhotometric | None:
    """A `photometric=` setting (null: none; a mapping of ScenePhotometric's keys) as a
    ScenePhotometric, checked before any data is read. Raises ConfigError naming the setting: not
    a mapping, an unknown key (the known ones listed), a value of the wrong type or out of range."""
    if settings is None:
        return None
    if not isinstance(settings, DictConfig | dict):
        raise ConfigError(f"photometric must be a mapping of {', '.join(ScenePhotometric.FIELDS)} "
                          f"(e.g. 'photometric={{p: 0.5}}'), got {settings!r}")  # fmt: skip
    settings = OmegaConf.to_container(settings, resolve=True) if isinstance(settings, DictConfig) else dict(settings)
    unknown = sorted(set(settings) - set(ScenePhotometric.FIELDS))
    if unknown:
        raise ConfigError(f"photometric has unknown keys {unknown} (known: {', '.join(ScenePhotometric.FIELDS)})")
    try:
        return ScenePhotometric(**settings)
    except ValueError as e:
        raise ConfigError(f"photometric: {str(e).removeprefix('ScenePhotometric: ')}") from None


def tune_split_from_config(setting: Any) -> dict | None:
    """A `tune_split=` setting (null: none; {frac, seed}) as split_fit_tune's keyword arguments,
    checked before any data is read. Raises ConfigError naming the setting: not a mapping, a
    missing or unknown key, frac outside (0, 1), a seed that is not an integer."""
    if setting is None:
        return None
    example = "e.g. 'tune_split={frac: 0.15, seed: 1}'"
    if not isinstance(setting, DictConfig | dict):
        raise ConfigError(f"tune_split must be a mapping {{frac, seed}} ({example}), got {setting!r}")
    setting = OmegaConf.to_container(setting, resolve=True) if isinstance(setting, DictConfig) else dict(setting)
    if set(setting) != {"frac", "seed"}:
        wrong = sorted(set(setting) ^ {"frac", "seed"})
        raise ConfigError(f"tune_split takes exactly frac and seed ({example}); {', '.join(wrong)}: "
                          f"{'unknown' if set(wrong) - {'frac', 'seed'} else 'missing'}")  # fmt: skip
    return {"frac": float(_share("tune_split.frac", setting["frac"])), "seed": _seed("tune_split.seed", setting["seed"])}


def _share(name: str, value: Any, example: str = "") -> float:
    """A split's frac, a number in (0, 1); ConfigError naming the setting (and the example) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigError(f"{name} must be a share in (0, 1), got {value!r}" + (f" ({example})" if example else ""))
    return value


def _seed(name: str, value: Any, example: str = "") -> int:
    """A split's seed, an integer; ConfigError naming the setting (and the example) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer, got {value!r}" + (f" ({example})" if example else ""))
    return value


HOLDOUT_EXAMPLE = "e.g. data.holdout='{frac: 0.2, seed: 0, by: null, holdout: val}'"
FOLD_EXAMPLE = "e.g. data.fold='{k: 1, n: 5, seed: 0}'"


def holdout_from_config(setting: Any) -> dict | None:
    """A `data.holdout` setting (null: none; {frac, seed, by, holdout[, from_split, drop_copies]},
    holdout_split's arguments, the split re-split, and whether held-out files with the bytes of a
    training file are left out: _drop_copies) as a plain dict, checked before any data is read.
    Raises ConfigError naming the setting and what a valid one looks like: not a mapping
    (data.holdout=0.2), an unknown key, frac outside (0, 1), a seed that is not an integer, holdout
    not val or test, drop_copies not true or false."""
    keys = ("frac", "seed", "by", "holdout", "from_split", "drop_copies")
    rule = _mapping_setting("data.holdout", setting, keys, HOLDOUT_EXAMPLE)
    if rule is None:
        return None
    if not isinstance(rule.get("drop_copies", False), bool):
        raise ConfigError(f"data.holdout.drop_copies must be true or false, got {rule['drop_copies']!r} "
                          f"({HOLDOUT_EXAMPLE})")  # fmt: skip
    _share("data.holdout.frac", rule.get("frac", 0.2), HOLDOUT_EXAMPLE)
    _check_split_keys("data.holdout", rule, HOLDOUT_EXAMPLE)
    for key in ("by", "from_split"):
        if rule.get(key) is not None and not isinstance(rule[key], str):
            raise ConfigError(f"data.holdout.{key} must be a column name or null, got {rule[key]!r} ({HOLDOUT_EXAMPLE})")
    return rule


def _drop_copies(index: pd.DataFrame, held: str, kept: str) -> tuple[pd.DataFrame, dict]:
    """`index` without its `held` rows whose file has the same bytes (BLAKE2b of the file) as a
    `kept` row's: a dataset's duplicates under other names (UTKFace has hundreds) hash to either
    side of a split by name, and a copy of a training image in the hold-out is scored on what the
    model learnt. Only files of a size both sides have are read. Logs how many went, with an
    example; returns (index, {"copies_left_out": n})."""
    import hashlib

    def digest(path: str) -> str:
        return hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()

    split = index["split"].astype(str).to_numpy()
    paths = index["path"].astype(str).to_numpy()
    sizes = np.array([os.path.getsize(p) for p in paths])
    shared = set(sizes[split == kept]) & set(sizes[split == held])  # a copy has its twin's size
    trained = {digest(p): p for p, n in zip(paths[split == kept], sizes[split == kept], strict=True) if n in shared}
    copy = np.zeros(len(index), bool)
    twins = []
    for i in np.flatnonzero((split == held) & np.isin(sizes, list(shared))):
        twin = trained.get(digest(paths[i]))
        if twin is not None:
            copy[i] = True
            twins.append((paths[i], twin))
    if twins:
        log.warning("data.holdout.drop_copies: left out %d of the %d %s rows, byte copies of %s files (e.g. %s = %s)",
                    len(twins), int((split == held).sum()), held, kept, Path(twins[0][0]).name, Path(twins[0][1]).name)  # fmt: skip
    out = index[~copy]
    out.attrs = dict(index.attrs)
    return out, {"copies_left_out": len(twins)}


def fold_from_config(setting: Any) -> dict | None:
    """A `data.fold` setting (null: none; {k, n, seed[, holdout, from_split]}, fold_split's
    arguments) as a plain dict, checked before any data is read. Raises ConfigError naming the
    setting and what a valid one looks like: not a mapping, an unknown key, no k, n not an integer
    >= 2, k not in 1..n, a seed that is not an integer."""
    fold = _mapping_setting("data.fold", setting, ("k", "n", "seed", "holdout", "from_split"), FOLD_EXAMPLE)
    if fold is None:
        return None
    n = fold.get("n", 5)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"data.fold.n must be an integer >= 2 (the number of folds), got {n!r} ({FOLD_EXAMPLE})")
    k = fold.get("k")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ConfigError(f"data.fold.k must be the fold scored, an integer in 1..{n}, got {k!r} ({FOLD_EXAMPLE})")
    _check_split_keys("data.fold", fold, FOLD_EXAMPLE)
    if fold.get("from_split") is not None and not isinstance(fold["from_split"], str):
        raise ConfigError(f"data.fold.from_split must be a split name or null, got {fold['from_split']!r} ({FOLD_EXAMPLE})")
    return fold


def _mapping_setting(name: str, setting: Any, keys: tuple[str, ...], example: str) -> dict | None:
    """A split setting as a plain dict (None for null), or ConfigError when it is not a mapping or
    has keys other than `keys`."""
    if setting is None:
        return None
    if not isinstance(setting, DictConfig | dict):
        raise ConfigError(f"{name} must be a mapping {{{', '.join(keys)}}} or null ({example}), got {setting!r}")
    setting = OmegaConf.to_container(setting, resolve=True) if isinstance(setting, DictConfig) else dict(setting)
    unknown = sorted(set(setting) - set(keys))
    if unknown:
        raise ConfigError(f"{name} has unknown keys {unknown} (known: {', '.join(keys)}; {example})")
    return setting


def _check_split_keys(name: str, setting: dict, example: str) -> None:
    """The seed and held-out split name a split setting shares: ConfigError naming the key."""
    _seed(f"{name}.seed", setting.get("seed", 0), example)
    if setting.get("holdout", "val") not in ("val", "test"):
        raise ConfigError(f"{name}.holdout must be val or test (the split the held-out rows get), got "
                          f"{setting['holdout']!r} ({example})")  # fmt: skip


def split_fit_tune(train: pd.DataFrame, frac: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Identity-disjoint fit / tune parts of the training partition."""
    by = "identity" if "identity" in train and (train["identity"] >= 0).all() else None
    parts = holdout_split(train, frac=frac, seed=seed, by=by, overwrite=True)
    fit, tune = parts[parts.split == "train"], parts[parts.split == "val"]
    if fit.empty or tune.empty:  # a file's hash decides both splits: the same seed as a hold-out rule repeats it
        units = f"{train['identity'].nunique()} identities" if by else f"{len(train)} images"
        rule = train.attrs.get("holdout") or {}
        if rule.get("seed") == seed and rule.get("by") == by:  # the likely cause, said first
            raise ConfigError(f"tune_split {{frac: {frac}, seed: {seed}}} leaves the {'fit' if fit.empty else 'tune'} "
                              f"part empty: data.holdout {rule} hashed the same {'identities' if by else 'image names'} "
                              "with the same seed, so the ones the tune part would take are already held out; set "
                              "tune_split.seed (or data.holdout.seed) to another value")  # fmt: skip
        raise ConfigError(f"tune_split {{frac: {frac}, seed: {seed}}} leaves the {'fit' if fit.empty else 'tune'} part "
                         f"empty: the training part's {units} are split{' by identity' if by else ''}, and too few of "
                         "them fall in it; raise tune_split.frac (or add data), or, if the training part was itself "
                         "carved by a hold-out rule with this seed, pick another seed")  # fmt: skip
    fit.attrs = tune.attrs = dict(train.attrs)
    return fit, tune


def attribute_splits(cfg: Any, out) -> tuple[list[str], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(attribute names, fit, tune, evaluation) for a stage config with `data` and `tune_split`;
    records data.json in the run folder `out`. Tune is never the evaluation split. Raises
    ConfigError for a tune_split that is missing or malformed, before any data is read."""
    from lnet_anet.engine.runs import record_data

    tune_split = tune_split_from_config(cfg.get("tune_split"))
    if tune_split is None:
        raise ConfigError("tune_split is needed here: the part of the training faces this command chooses its "
                          "settings on, e.g. 'tune_split={frac: 0.1, seed: 0}'")  # fmt: skip
    index = build_index(cfg.data)
    if not index.attrs.get("attributes"):  # said now: further on it is a KeyError, after ANet's identity pre-training
        where = {k: str(v) for k, v in dict(cfg.data.index).items() if k != "_target_"}
        raise ConfigError(f"{cfg.data.get('name', 'the data')} ({where}) has no attribute labels, which this command "
                          "learns from: CelebA's list_attr_celeba.txt (or .csv) beside its images, LFWA's attribute "
                          "table (conf/data/lfwa.yaml); age and attractiveness data train with train_age")  # fmt: skip
    record_data(out, cfg.data, index)
    fit, tune = split_fit_tune(split_of(index, "train"), **tune_split)
    return list(index.attrs["attributes"]), fit, tune, split_of(index, cfg.data.eval_split)
