"""The model bundle: fp16 round trip, clear errors for bad files, no pickle, the builder."""

from __future__ import annotations

import copy
import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lnet_anet.cli.build_bundle import main as build_main
from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.engine.runs import save_weights
from lnet_anet.inference.bundle import (
    FORMAT,
    FORMAT_VERSION,
    Bundle,
    BundleError,
    check_config,
    load_bundle,
    read_header,
    save_bundle,
    tensors_digest,
)
from lnet_anet.models.registry import create_model

STATS = {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


pytestmark = pytest.mark.usefixtures("one_thread")


def _trained_looking(net: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random BatchNorm statistics and affine parameters, as after training (a fresh net has
    mean 0 / var 1, which would hide precision problems of the stored statistics)."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.3)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)
    return net.eval()


def _svm_arrays(dim: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "weight": rng.normal(0, 0.1, (40, dim)),
        "bias": rng.normal(0, 0.3, 40),
        "platt_a": rng.uniform(0.5, 2, 40),
        "platt_b": rng.normal(0, 0.2, 40),
        "feature_mean": rng.normal(0, 0.1, dim),
        "feature_std": rng.uniform(0.5, 2, dim),
        "threshold": rng.uniform(0.2, 0.6, 40),
    }


def _config(with_age: bool) -> dict:
    prep = {
        "lnet": {"input_size": [128, 128], "resize": "letterbox", **STATS},
        "localizer": {"threshold": 0.1, "max_faces": 2},
        "anet": {"canonical_size": 144, "stride": 16, "enlarge": 1.0, **STATS},
    }
    nets = {"lnet": {"model": "lnet_lite0", "kwargs": {}},
            "anet": {"model": "anet_lite0", "kwargs": {}}}  # fmt: skip
    if with_age:
        prep["age"] = {"image_size": 32, "enlarge": 1.3, **STATS}
        nets["age"] = {"model": "tiny_age_net", "kwargs": {"low": 0, "high": 100, "step": 1}}
    return {"nets": nets, "preprocessing": prep, "attributes": list(CELEBA_ATTRIBUTES),
            "provenance": {"test": "round trip"}}  # fmt: skip


@pytest.fixture(scope="module")
def parts() -> dict:
    torch.manual_seed(0)
    anet = _trained_looking(create_model("anet_lite0", pretrained="none"), 1)
    return {
        "lnet": _trained_looking(create_model("lnet_lite0", pretrained="none"), 0),
        "anet": anet,
        "age": _trained_looking(create_model("tiny_age_net", low=0, high=100, step=1), 2),
        "svm": _svm_arrays(anet.feature_dim),
    }


@pytest.fixture(scope="module")
def bundle_path(parts, tmp_path_factory) -> Path:
    return save_bundle(tmp_path_factory.mktemp("bundle") / "m.lnetanet", parts, _config(True))


def _rewrite(src: Path, dst: Path, **metadata: str) -> Path:
    """A copy of a bundle with some metadata replaced (tensors unchanged)."""
    with safe_open(str(src), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = {**f.metadata(), **metadata}
    save_file(tensors, str(dst), metadata=meta)
    return dst


def test_round_trip_matches_fp32_outputs_within_fp16_tolerance(parts, bundle_path):
    from lnet_anet.anet.svm import LinearSVMHead

    b = load_bundle(bundle_path)
    assert b.config["versions"]["torch"] == torch.__version__
    assert b.attributes == list(CELEBA_ATTRIBUTES) and b.attractiveness is None
    assert not b.lnet.training and not b.anet.training and not b.age.training
    assert all(p.dtype == torch.float32 for p in b.lnet.parameters())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 128, 128, generator=g)
    with torch.no_grad():
        ref, got = parts["lnet"](x), b.lnet(x)
    assert (ref["response"] - got["response"]).abs().max() < 1e-2
    assert (ref["logits"] - got["logits"]).abs().max() < 1e-2
    image = (torch.rand(120, 150, 3, generator=g) * 255).to(torch.uint8).numpy()
    box = (30.0, 20.0, 110.0, 100.0)
    svm_ref = LinearSVMHead.from_arrays(parts["svm"])
    p_ref = svm_ref.average_over_patches(parts["anet"].patch_features(image, box, 1.0, 144, 16))
    p_got = b.svm.average_over_patches(b.anet.patch_features(image, box, 1.0, 144, 16))
    np.testing.assert_allclose(
        b.svm.threshold, parts["svm"]["threshold"], rtol=1e-6
    )  # decisions travel too
    assert p_got.shape == (40,) and np.abs(p_ref - p_got).max() < 1e-2
    faces = torch.randn(3, 3, 32, 32, generator=g)
    a_ref = parts["age"].predict(faces)
    a_got = b.age.predict(faces)
    # 1e-2 of the 0..100 label range
    assert (a_ref["mean"] - a_got["mean"]).abs().max() < 1.0
    assert (a_ref["probs"] - a_got["probs"]).abs().max() < 1e-2


def test_weights_are_stored_as_fp16_and_statistics_as_fp32(bundle_path):
    header, config = read_header(bundle_path)
    dtypes = {k: v["dtype"] for k, v in header.items()}
    assert dtypes["lnet.attribute_filters.weight"] == "F16"
    assert dtypes["lnet.attribute_filters.bias"] == "F32"
    running = [k for k in dtypes if k.endswith("running_var")]
    assert running and all(dtypes[k] == "F32" for k in running)
    assert dtypes["svm.weight"] == "F32"
    assert config["nets"]["age"]["model"] == "tiny_age_net"


@pytest.mark.parametrize(
    ("metadata", "message"),
    [({"format_version": "4"}, "unsupported bundle format_version '4'"),
     ({"format": "something.else"}, "not a model bundle: format 'something.else'")],
)  # fmt: skip
def test_unknown_format_or_version_names_the_file(bundle_path, tmp_path, metadata, message):
    bad = _rewrite(bundle_path, tmp_path / "bad.lnetanet", **metadata)
    with pytest.raises(BundleError, match=message) as err:
        load_bundle(bad)
    assert str(bad) in str(err.value)


def test_truncated_file_is_reported(bundle_path, tmp_path):
    data = bundle_path.read_bytes()
    for cut in (len(data) // 2, 100, 5):
        bad = tmp_path / f"cut{cut}.lnetanet"
        bad.write_bytes(data[:cut])
        with pytest.raises(BundleError, match="truncated|not a model bundle") as err:
            load_bundle(bad)
        assert str(bad) in str(err.value)


def test_corrupt_tensor_bytes_fail_the_checksum(bundle_path, tmp_path):
    data = bytearray(bundle_path.read_bytes())
    data[-1000] ^= 0xFF  # one flipped byte inside the tensor data
    bad = tmp_path / "bitrot.lnetanet"
    bad.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum") as err:
        load_bundle(bad)
    assert str(bad) in str(err.value)


def test_other_file_types_are_rejected_with_the_file_name(tmp_path):
    jpeg = tmp_path / "photo.lnetanet"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + bytes(500))
    text = tmp_path / "notes.lnetanet"
    text.write_text("this is not a model\n" * 10)
    plain = tmp_path / "plain.safetensors"  # a valid safetensors file, but no bundle metadata
    save_file({"w": torch.zeros(2)}, str(plain))
    for path in (jpeg, text, plain):
        with pytest.raises(BundleError, match="not a model bundle") as err:
            load_bundle(path)
        assert str(path) in str(err.value)
    with pytest.raises(FileNotFoundError, match="no such model bundle"):
        load_bundle(tmp_path / "absent.lnetanet")


class _Trap:
    """Unpickling this creates a marker file: proof that a loader ran pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_unpickles(bundle_path, tmp_path, monkeypatch):
    marker = tmp_path / "pickle-ran"
    evil = tmp_path / "evil.lnetanet"
    evil.write_bytes(pickle.dumps(_Trap(marker)))
    with pytest.raises(BundleError):
        load_bundle(evil)
    assert not marker.exists()

    def refuse(*args, **kwargs):
        raise AssertionError("the bundle loader must not unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert load_bundle(bundle_path).age is not None


def _header_with_config(path: Path, config: dict, tensors: dict) -> Path:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": json.dumps(config),
            "tensors_sha256": tensors_digest(tensors)}  # fmt: skip
    save_file(tensors, str(path), metadata=meta)
    return path


def test_missing_parts_and_bad_configs_name_the_file(bundle_path, tmp_path):
    with safe_open(str(bundle_path), framework="pt") as f:
        lnet_only = {k: f.get_tensor(k) for k in f.keys() if k.startswith("lnet.")}
        everything = {k: f.get_tensor(k) for k in f.keys()}
    config = _config(True)
    cases = {
        "missing parts": (config, lnet_only),
        "unknown model 'no_such_net'": (
            {**config, "nets": {**config["nets"], "age": {"model": "no_such_net", "kwargs": {}}}},
            everything,
        ),
        "must not set 'pretrained'": (
            {
                **config,
                "nets": {
                    **config["nets"],
                    "lnet": {"model": "lnet_lite0", "kwargs": {"pretrained": "x"}},
                },
            },
            everything,
        ),  # fmt: skip
        "preprocessing.age": (
            {
                **config,
                "preprocessing": {k: v for k, v in config["preprocessing"].items() if k != "age"},
            },
            everything,
        ),  # fmt: skip
        "anet weights do not fit": (  # a million identities: refused by shape, never allocated
            {**config, "nets": {**config["nets"], "anet": {**config["nets"]["anet"],
             "kwargs": {**config["nets"]["anet"]["kwargs"], "num_identities": 1_000_000}}}},
            everything,
        ),  # fmt: skip
        "lnet weights do not fit": (
            {
                **config,
                "nets": {
                    **config["nets"],
                    "lnet": {"model": "lnet_lite0", "kwargs": {"stride": 32}},
                },
            },
            everything,
        ),  # fmt: skip
    }
    for n, (message, (cfg, tensors)) in enumerate(cases.items()):
        path = _header_with_config(tmp_path / f"case{n}.lnetanet", cfg, tensors)
        with pytest.raises(BundleError, match=message) as err:
            load_bundle(path)
        assert str(path) in str(err.value)


def test_save_rejects_a_config_that_does_not_match_the_parts(parts, tmp_path):
    with pytest.raises(BundleError, match="config.nets describes"):
        save_bundle(tmp_path / "x.lnetanet", parts, _config(False))  # parts have an age net
    no_svm = {k: v for k, v in parts.items() if k != "svm"}
    with pytest.raises(BundleError, match="missing \\['svm'\\]"):
        save_bundle(tmp_path / "y.lnetanet", no_svm, _config(True))
    assert not (tmp_path / "x.lnetanet").exists()


# -- build_bundle from run folders -----------------------------------------------------------


BOX_MODEL = [[2.0, 0.5, 0.0, 0.25, 0.0, 0.25, -0.1], [2.1, 0.0, 0.5, 0.0, 0.25, 0.25, -0.1]]


def _anet_dldl_run(default: Bundle, run: Path, target: str, mirror: bool | None = None) -> Path:
    """A run folder holding the bundle's attractiveness head (ANet's own layers, anet_dldl) as a
    `target` net, with the mirror view on when asked: what build_bundle takes as --age / --attractiveness."""
    run.mkdir()
    save_weights(default.attractiveness, run / "model.safetensors", {"target": target})
    spec = copy.deepcopy(default.config["nets"]["attractiveness"])
    if mirror is not None:
        spec["kwargs"]["mirror"] = mirror
    _write_json(run / "model.json", spec)
    _write_json(run / "preprocess.json", default.preprocessing["attractiveness"])
    return run


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj))


@pytest.fixture(scope="module")
def runs(parts, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    folders = {name: root / name for name in ("lnet", "anet", "age", "attractiveness")}
    for folder in folders.values():
        folder.mkdir()
    save_weights(parts["lnet"], folders["lnet"] / "lnet.safetensors")
    _write_json(folders["lnet"] / "model.json", {"model": "lnet_lite0", "kwargs": {}})
    _write_json(folders["lnet"] / "localizer.json", {"threshold": 0.25, "box_model": BOX_MODEL, "input_size": 128})
    _write_json(folders["lnet"] / "eval.json", {"recall": 0.9})
    names = ",".join(CELEBA_ATTRIBUTES)
    save_weights(parts["anet"], folders["anet"] / "anet.safetensors", {"attributes": names})
    _write_json(
        folders["anet"] / "model.json",
        {"model": "anet_lite0", "kwargs": {"pretrained": "package", "num_identities": 0}},
    )
    from safetensors.numpy import save_file as save_arrays

    save_arrays(
        {k: v.astype(np.float32) for k, v in parts["svm"].items()},
        str(folders["anet"] / "svm.safetensors"),
        metadata={"attributes": names},
    )
    _write_json(
        folders["anet"] / "patches.json", {"canonical_size": 144, "stride": 16, "enlarge": 1.0}
    )
    for name, target in (("age", "age"), ("attractiveness", "attractiveness")):
        save_weights(parts["age"], folders[name] / "model.safetensors", {"target": target})
        _write_json(
            folders[name] / "model.json",
            {"model": "tiny_age_net", "kwargs": {"low": 0, "high": 100, "step": 1}},
        )
        _write_json(folders[name] / "preprocess.json", {"image_size": 32, "enlarge": 1.3})
    _write_json(folders["age"] / "data.json", {"name": "utkface128", "rows": 3, "skipped": [
        "/data/UTKFace/61_1_20170109142408075.jpg.chip.jpg: malformed name"]})  # fmt: skip
    return folders  # fmt: skip


def test_build_bundle_from_run_folders(runs, parts, tmp_path, capsys):
    out = tmp_path / "built.lnetanet"
    argv = ["--lnet", str(runs["lnet"]), "--anet", str(runs["anet"]), "--age", str(runs["age"]),
            "--attractiveness", str(runs["attractiveness"]), "--out", str(out)]  # fmt: skip
    assert build_main(argv) == 0
    assert str(out) in capsys.readouterr().out
    b = load_bundle(out)
    prep = b.preprocessing
    assert prep["lnet"]["input_size"] == [128, 128] and prep["localizer"] == {"threshold": 0.25, "box_model": BOX_MODEL}
    assert b.localizer().box_model == tuple(map(tuple, BOX_MODEL))  # the fitted box survives the JSON header
    assert prep["anet"]["canonical_size"] == 144 and prep["attractiveness"]["enlarge"] == 1.3
    assert b.config["nets"]["anet"]["kwargs"] == {"num_identities": 0}  # pretrained dropped
    prov = b.config["provenance"]
    assert prov["lnet"]["eval"] == {"recall": 0.9}
    assert prov["age"]["data"] == {"name": "utkface128", "rows": 3, "skipped": 1}  # counted: no dataset file names
    assert "build_bundle" in prov["built"]["command"]
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(b.attractiveness(x)["logits"], parts["age"](x)["logits"], atol=1e-2, rtol=0)


def test_build_bundle_reports_bad_run_folders(runs, tmp_path, capsys):
    base = ["--lnet", str(runs["lnet"]), "--anet", str(runs["anet"])]
    # an attractiveness run given as --age
    assert build_main([*base, "--age", str(runs["attractiveness"]), "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "model.safetensors" in err and "'attractiveness'" in err
    # a run folder without its localizer settings
    assert build_main(["--lnet", str(runs["anet"]), "--anet", str(runs["anet"]),
                       "--out", str(tmp_path / "b")]) == 1  # fmt: skip
    err = capsys.readouterr().err  # the kind of run it is, from its model.json
    assert "lnet.safetensors: missing: not a run folder of this kind" in err and "holds a run of model anet_lite0" in err
    assert build_main([*base, "--age", str(tmp_path / "nope"), "--out", str(tmp_path / "c")]) == 1
    assert f"{tmp_path / 'nope'}: no such run folder" in capsys.readouterr().err
    assert build_main(["--anet", str(runs["anet"])]) == 2  # --out is required
    assert build_main(["--anet", str(runs["anet"]), "--out", str(tmp_path / "d")]) == 2  # --lnet too, or --from-bundle
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    assert f"--from-bundle {DEFAULT_BUNDLE} --age RUN" in capsys.readouterr().err  # its full path: works from any folder
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # no --out: refused, rather than writing over the bundle shipped in the package
    assert build_main(base) == 2
    assert "--out" in capsys.readouterr().err


def test_a_kept_cascade_goes_into_the_bundle_and_a_bad_one_is_refused(runs, tmp_path, capsys):
    import shutil

    lnet = tmp_path / "lnet"
    shutil.copytree(runs["lnet"], lnet)
    settings = {"context": 2.5, "input_size": 128, "localizer": {"threshold": 0.0, "box_model": BOX_MODEL},
                "weights": "lnet_o"}  # fmt: skip
    _write_json(lnet / "cascade.json", settings)
    out = tmp_path / "cascade.lnetanet"
    assert build_main(["--lnet", str(lnet), "--anet", str(runs["anet"]), "--out", str(out)]) == 0
    cascade = load_bundle(out).cascade()
    assert cascade.context == 2.5 and cascade.localizer.box_model == tuple(map(tuple, BOX_MODEL))
    plain = tmp_path / "plain.lnetanet"  # no cascade.json: one stage
    assert build_main(["--lnet", str(runs["lnet"]), "--anet", str(runs["anet"]), "--out", str(plain)]) == 0
    assert load_bundle(plain).cascade() is None
    _write_json(lnet / "cascade.json", {**settings, "context": 0.5})
    assert build_main(["--lnet", str(lnet), "--anet", str(runs["anet"]), "--out", str(tmp_path / "bad")]) == 1
    assert "cascade.json: not valid cascade settings" in capsys.readouterr().err


def test_header_length_prefix_is_checked_before_reading(tmp_path):
    huge = tmp_path / "huge.lnetanet"
    huge.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(huge)


def test_a_version_1_bundle_without_thresholds_still_loads(bundle_path, tmp_path):
    """Version 1 had no SVM decision thresholds: its attributes are decided at p >= 0.5."""
    with safe_open(str(bundle_path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys() if k != "svm.threshold"}
    meta = {"format": FORMAT, "format_version": "1", "config": json.dumps(_config(True)),
            "tensors_sha256": tensors_digest(tensors)}  # fmt: skip
    old = tmp_path / "v1.lnetanet"
    save_file(tensors, str(old), metadata=meta)
    assert np.array_equal(load_bundle(old).svm.threshold, np.full(40, 0.5))


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def test_from_bundle_adds_a_head_and_keeps_every_other_part(runs, parts, bundle_path, tmp_path, capsys):
    out = tmp_path / "with_attractiveness.lnetanet"
    argv = ["--from-bundle", str(bundle_path), "--attractiveness", str(runs["attractiveness"]), "--out", str(out)]
    assert build_main(argv) == 0
    before, after = _tensors(bundle_path), _tensors(out)
    assert sorted(k for k in after if not k.startswith("attractiveness.")) == sorted(before)
    for key, value in before.items():  # lnet, anet, svm and age: the same bytes
        assert after[key].dtype == value.dtype and torch.equal(after[key], value), key
    b = load_bundle(out)
    src = load_bundle(bundle_path)
    assert b.config["preprocessing"]["attractiveness"] == {"image_size": 32, "enlarge": 1.3, **STATS}
    assert {k: v for k, v in b.config["preprocessing"].items() if k != "attractiveness"} == src.config["preprocessing"]
    assert b.config["nets"]["age"] == src.config["nets"]["age"]
    built = b.config["provenance"]["built"]
    assert built["from_bundle"] == str(bundle_path) and built["replaced"] == ["attractiveness"]
    assert b.config["provenance"]["test"] == "round trip"  # the source's provenance is kept
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(b.attractiveness(x)["logits"], parts["age"](x)["logits"], atol=1e-2, rtol=0)
    # replacing again: the new run's head, and the first build moves into the history
    again = tmp_path / "again.lnetanet"
    assert build_main(["--from-bundle", str(out), "--age", str(runs["age"]), "--out", str(again)]) == 0
    prov = load_bundle(again).config["provenance"]
    assert prov["history"][-1]["replaced"] == ["attractiveness"] and prov["built"]["replaced"] == ["age"]


def test_from_bundle_usage_errors(runs, bundle_path, tmp_path, capsys):
    out = str(tmp_path / "x.lnetanet")
    assert build_main(["--from-bundle", str(bundle_path), "--out", out]) == 2  # no head to add
    assert build_main(["--from-bundle", str(bundle_path), "--lnet", str(runs["lnet"]),
                       "--age", str(runs["age"]), "--out", out]) == 2  # fmt: skip
    assert build_main(["--from-bundle", str(tmp_path / "none.lnetanet"), "--age", str(runs["age"]),
                       "--out", out]) == 1  # fmt: skip
    assert "no such model bundle" in capsys.readouterr().err
    assert build_main(["--from-bundle", str(bundle_path), "--age", str(runs["attractiveness"]), "--out", out]) == 1
    assert "'attractiveness'" in capsys.readouterr().err and not Path(out).exists()


def test_a_bundle_of_the_old_format_name_still_loads(bundle_path, tmp_path):
    old = _rewrite(bundle_path, tmp_path / "old.lnetanet", format="lnet_anet.bundle")
    assert load_bundle(old).config["provenance"] == {"test": "round trip"}


def test_no_mirror_makes_an_anet_dldl_head_predict_from_the_crop_alone(runs, tmp_path, capsys):
    """build_bundle --no-mirror: the same weights, mirror off in the net and its spec (the face
    graph then runs the head's own layers on the crop only); a head without a mirror view, or
    one not given, is refused."""
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

    default = load_bundle(DEFAULT_BUNDLE)
    run = _anet_dldl_run(default, tmp_path / "attr-anet", "attractiveness", mirror=True)  # trained with the mirror view
    out = tmp_path / "nm.lnetanet"
    argv = ["--from-bundle", str(DEFAULT_BUNDLE), "--attractiveness", str(run), "--no-mirror", "attractiveness"]
    assert build_main([*argv, "--note", "why", "--out", str(out)]) == 0
    b = load_bundle(out)
    assert b.config["provenance"]["built"]["note"] == "why"
    assert not b.attractiveness.mirror
    assert b.config["nets"]["attractiveness"]["kwargs"]["mirror"] is False
    assert b.config["provenance"]["attractiveness"]["mirror_at_prediction"] is False
    ours, theirs = b.attractiveness.state_dict(), default.attractiveness.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    predictor = Predictor(b, backend="torch")
    # the same stages shared with ANet as the shipped head's (the stem and block 0 since ANet's block 1 trained further)
    shared = Predictor(default, backend="torch")._shared_stages["attractiveness"]
    frozen = default.config["nets"]["attractiveness"]["kwargs"]["frozen_stages"]
    assert predictor._shared_stages["attractiveness"] == shared and 0 < shared <= frozen
    x = torch.randn(2, 3, 160, 160)
    with torch.inference_mode():
        got = b.attractiveness(x)["logits"]
        default.attractiveness.mirror = False
        torch.testing.assert_close(got, default.attractiveness(x)["logits"])
    # refused: a net without a mirror view; --no-mirror for a head not given
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--attractiveness", str(runs["attractiveness"]),
                       "--no-mirror", "attractiveness", "--out", str(tmp_path / "bad")]) == 1  # fmt: skip
    assert "no mirror view" in capsys.readouterr().err
    assert build_main([*argv[:2], "--attractiveness", str(run), "--no-mirror", "age", "--out", str(tmp_path / "b")]) == 2
    assert not (tmp_path / "bad").exists() and not (tmp_path / "b").exists()


def test_another_anet_turns_off_the_steps_that_read_heads_fitted_on_the_old_one(runs, tmp_path, capsys):
    """build_bundle --from-bundle B --anet RUN: B's box and face heads were fitted on B's ANet's
    feature, so a bundle with another ANet has the steps that read them turned off (Predictor.load
    would refuse it), with a note on how to fit new ones; the same ANet keeps them."""
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

    out = tmp_path / "mine.lnetanet"
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--anet", str(runs["anet"]), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert ("refine_boxes, crowd_box_head, rescue_faces, rescue_frame, verify_faces, arbitrate_nested, "
            "arbitrate_picture turned off") in err
    assert "fit_box_head --bundle" in err
    # the note gives the values that turn the steps back on, and the upright head --rotations needs (a trial)
    assert """--lnet-input '{"refine_boxes": true, """ in err and "fit_upright --bundle" in err
    lnet = load_bundle(out, build_nets=False).preprocessing["lnet"]
    assert lnet["refine_boxes"] is False and lnet.get("rescue_faces") is None and lnet.get("rescue_frame") is None
    assert lnet.get("crowd_box_head") is None
    assert lnet.get("verify_faces") is None
    assert lnet.get("arbitrate_nested") is None and not lnet.get("arbitrate_picture")
    Predictor.load(out)  # loads: no head of another ANet is asked for
    same = tmp_path / "same.lnetanet"
    assert build_main(["--from-bundle", str(out), "--anet", str(runs["anet"]), "--out", str(same)]) == 0
    assert "turned off" not in capsys.readouterr().err
    # turned back on (a fresh-user trial): built, with a note that predict needs heads fitted on this ANet
    on = tmp_path / "on.lnetanet"
    assert build_main(["--from-bundle", str(out), "--lnet-input", '{"refine_boxes": true}', "--out", str(on)]) == 0
    err = capsys.readouterr().err
    assert "has refine_boxes on, which read shipped heads fitted on another ANet" in err
    assert "fit_box_head --bundle" in err and "then predict --box-head H" in err
    with pytest.raises(ValueError, match="another ANet"):  # what the note foretells
        Predictor.load(on)
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", '{"crowd_box_head": 3}',
                       "--out", str(tmp_path / "shipped.lnetanet")]) == 0  # fmt: skip
    assert "read shipped heads" not in capsys.readouterr().err  # the shipped heads fit the shipped ANet
    stepped, other = tmp_path / "stepped.lnetanet", tmp_path / "other.lnetanet"
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", '{"crowd_box_steps": 2}',
                       "--out", str(stepped)]) == 0  # fmt: skip
    assert build_main(["--from-bundle", str(stepped), "--anet", str(runs["anet"]), "--out", str(other)]) == 0
    assert load_bundle(other, build_nets=False).preprocessing["lnet"].get("crowd_box_steps", 1) == 1  # off with its head
    # an embedded head reads the old ANet's feature too: it goes with it
    from lnet_anet.inference.box_head import NAMED_BOX_HEADS

    embedded, replaced = tmp_path / "embedded.lnetanet", tmp_path / "replaced.lnetanet"
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--crowd-box-head", str(NAMED_BOX_HEADS["mlp"]),
                       "--out", str(embedded)]) == 0  # fmt: skip
    assert load_bundle(embedded, build_nets=False).head_names == ["crowd_box_head"]
    assert build_main(["--from-bundle", str(embedded), "--anet", str(runs["anet"]), "--out", str(replaced)]) == 0
    assert load_bundle(replaced, build_nets=False).head_names == []


def test_turning_a_step_off_turns_off_the_settings_that_need_it(tmp_path, capsys):
    """The README's commands that turn the box head or the rescue off were refused on the embedded
    bundle, one dependent setting at a time (a fresh-user trial): now the dependents go with it,
    said in a note; a dependent given explicitly is kept as given."""
    from lnet_anet.data.preprocess import dependents_off
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    for given, gone in (({"refine_boxes": False}, {"crowd_box_head": None, "crowd_box_steps": 1, "crowd_box_small": None}),
                        ({"crowd_box_head": None}, {"crowd_box_steps": 1, "crowd_box_small": None}),
                        ({"rescue_faces": None}, {"rescue_frame": None, "verify_faces": None, "arbitrate_nested": None,
                                                  "arbitrate_picture": False, "zoom_in_refused_p": None,
                                                  "zoom_in_lone_p": None}),
                        ({"zoom_in_refused": False}, {"zoom_in_refused_p": None}),  # README's off switch (trial, session 56)
                        ({"zoom_in_scales": []}, {"zoom_in_refused": False, "zoom_in_lone_p": None,
                                                  "zoom_in_refused_p": None})):  # fmt: skip
        out = tmp_path / "off.lnetanet"
        assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", json.dumps(given), "--out", str(out)]) == 0
        assert f"turned off with them: {json.dumps(gone)}" in capsys.readouterr().err
        lnet = load_bundle(out, build_nets=False).preprocessing["lnet"]  # its settings checked as it loads
        assert all(lnet.get(k, v) == v for k, v in {**given, **gone}.items())
    current = {"rescue_faces": [0.0, 0.7], "rescue_frame": 0.95, "verify_faces": [1e6, 0.02]}
    assert dependents_off(current, {"rescue_faces": None, "verify_faces": [1e6, 0.5]}) == {
        "rescue_faces": None, "verify_faces": [1e6, 0.5], "rescue_frame": None}  # given: kept (and then refused by the check)
    assert dependents_off(current, {"rescue_frame": 0.9}) == {"rescue_frame": 0.9}  # nothing turned off


def test_null_turns_any_step_off_and_a_refused_build_notes_nothing(tmp_path, capsys):
    """A fresh-user trial (session 57): null for a step whose off is false or [] printed the
    "turned off with them" note and was then refused; and a combination refused after the note
    said settings were turned off. Now null is each step's off, and the note follows a build."""
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    out = tmp_path / "off.lnetanet"
    for given, off in (({"zoom_in_refused": None}, {"zoom_in_refused": False}),
                       ({"zoom_in_scales": None}, {"zoom_in_scales": []})):  # fmt: skip
        assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", json.dumps(given), "--out", str(out)]) == 0
        assert "turned off with them" in capsys.readouterr().err
        lnet = load_bundle(out, build_nets=False).preprocessing["lnet"]
        assert all(lnet.get(k, v) == v for k, v in off.items()) and lnet.get("zoom_in_refused_p") is None
    out.unlink()
    refused = {"zoom_in_refused": False, "zoom_in_refused_any": True}
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", json.dumps(refused), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "zoom_in_refused_any needs zoom_in_refused" in err and "turned off" not in err and not out.exists()


def test_describe_prints_a_bundles_summary_and_writes_nothing(tmp_path, capsys):
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    assert build_main(["--describe", str(DEFAULT_BUNDLE)]) == 0
    said = capsys.readouterr().out
    assert "lnet=lnet_lite0" in said and "a picture left with no face read at the zoom-in scales" in said
    assert build_main(["--describe", "default"]) == 0  # the embedded bundle from any folder (trial 68: pip installs)
    assert capsys.readouterr().out.startswith(f"{DEFAULT_BUNDLE} (")
    (tmp_path / "bad.lnetanet").write_text("hi")
    assert build_main(["--describe", str(tmp_path / "bad.lnetanet")]) == 1
    assert "not a model bundle" in capsys.readouterr().err
    assert build_main(["--describe", str(DEFAULT_BUNDLE), "--out", str(tmp_path / "x.lnetanet")]) == 2
    assert "--describe goes alone" in capsys.readouterr().err and not (tmp_path / "x.lnetanet").exists()
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", "{}"]) == 2
    assert "--out is required" in capsys.readouterr().err


def test_from_bundle_replaces_localizer_and_lnet_input_settings_and_nothing_else(runs, bundle_path, tmp_path, capsys):
    out = tmp_path / "settings.lnetanet"
    argv = ["--from-bundle", str(bundle_path), "--localizer", '{"separation": 0.3, "max_faces": 30, "max_peaks": 40}',
            "--lnet-input", '{"zoom_in_scales": [2.0], "zoom_in_below": 96}', "--out", str(out)]  # fmt: skip
    assert build_main(argv) == 0
    before, after = _tensors(bundle_path), _tensors(out)
    assert sorted(after) == sorted(before) and all(torch.equal(after[k], before[k]) for k in before)
    b, src = load_bundle(out), load_bundle(bundle_path)
    assert b.localizer().separation == 0.3 and b.localizer().max_faces == 30 and b.localizer().max_peaks == 40
    assert b.localizer().threshold == src.localizer().threshold
    assert b.config["preprocessing"]["lnet"] == {**src.config["preprocessing"]["lnet"], "zoom_in_scales": [2.0],
                                                 "zoom_in_below": 96}  # fmt: skip
    assert b.config["provenance"]["built"]["settings"]["localizer"]["separation"] == 0.3
    bad = str(tmp_path / "bad.lnetanet")
    assert build_main(["--from-bundle", str(bundle_path), "--localizer", '{"separation": 2}', "--out", bad]) == 1
    assert "separation" in capsys.readouterr().err and not Path(bad).exists()
    assert build_main(["--from-bundle", str(bundle_path), "--localizer", '{"separation": 0.3}',
                       "--age", str(runs["age"]), "--out", bad]) == 2  # fmt: skip
    for not_settings, said in (('"check_faces"', "must be a JSON object"), ("[1]", "must be a JSON object"),
                               ("{check_faces: 1}", "not valid JSON")):  # a usage error, not a traceback
        assert build_main(["--from-bundle", str(bundle_path), "--lnet-input", not_settings, "--out", bad]) == 2
        assert said in capsys.readouterr().err and not Path(bad).exists()


def test_a_missing_or_folder_path_is_named_as_such_by_describe_and_load(tmp_path):
    from lnet_anet.inference.bundle import describe

    for path, what in ((tmp_path / "none.lnetanet", "no such model bundle file"), (tmp_path, "a folder")):
        for read in (describe, load_bundle):
            with pytest.raises(FileNotFoundError, match=what):
                read(path)
    with pytest.raises(TypeError, match="pretrained names the weights"):
        create_model("tiny_age_net", pretrained=True)


def test_the_package_lists_its_lazy_names_and_names_a_missing_one():
    import lnet_anet

    assert {"Predictor", "create_model", "list_models"} <= set(dir(lnet_anet))
    with pytest.raises(AttributeError, match="module 'lnet_anet' has no attribute 'foo'"):
        lnet_anet.foo  # noqa: B018


def test_age_prior_of_a_head_trained_on_other_data_needs_its_ages(bundle_path, tmp_path, capsys, monkeypatch):
    """A trial (59): --age-prior divided UTKFace's prior out of an age head trained on the user's own
    CSV, without a word. A head whose provenance names other data than UTKFace needs its ages given:
    --age-labels takes a CSV with an 'age' column too."""
    import lnet_anet.inference.bundle as bundle_module

    real = bundle_module.read_header

    def from_morph(path):  # the bundle's age head as trained on a CSV of one's own (data=morph)
        header, config = real(path)
        config = json.loads(json.dumps(config))
        config.setdefault("provenance", {}).setdefault("age", {})["data"] = {"name": "morph"}
        return header, config

    monkeypatch.setattr(bundle_module, "read_header", from_morph)
    out = tmp_path / "prior.lnetanet"
    assert build_main(["--from-bundle", str(bundle_path), "--age-prior", "0.5", "--out", str(out)]) == 1
    assert "its age head learnt from 'morph', not UTKFace" in capsys.readouterr().err and not out.exists()
    ages = tmp_path / "ages.csv"
    ages.write_text("file,age\n" + "".join(f"f{i}.jpg,{20 + i % 50}\n" for i in range(80)))
    argv = ["--from-bundle", str(bundle_path), "--age-prior", "0.5", "--age-labels", str(ages), "--out", str(out)]
    assert build_main(argv) == 0 and "label prior ** 0.5 divided out" in capsys.readouterr().out
    monkeypatch.setattr(bundle_module, "read_header", real)
    assert load_bundle(out).config["nets"]["age"]["prior_correction"]["labels"] == 80
    ages.write_text("file,years\nf0.jpg,20\n")
    assert build_main([*argv[:-1], str(tmp_path / "again.lnetanet")]) == 1
    assert "no 'age' column (columns: file, years)" in capsys.readouterr().err


def test_age_prior_reads_the_utkface_copy_the_head_learnt_from(bundle_path, tmp_path, capsys, monkeypatch):
    """Trial 67: a head trained with data=utkface (whose config names itself utkface128) was refused
    as "not UTKFace"; the prior must come from the copy it learnt from (data.json's folder), not the
    datasets root's."""
    from PIL import Image

    import lnet_anet.inference.bundle as bundle_module

    folder = tmp_path / "mine" / "UTKFace"
    folder.mkdir(parents=True)
    for i in range(40):
        Image.new("RGB", (8, 8)).save(folder / f"{20 + i}_0_0_2017{i:010d}.jpg.chip.jpg")
    real = bundle_module.read_header

    def from_utkface(path):  # the age head as train_age data=utkface data.index.folder=<mine> records it
        header, config = real(path)
        config = json.loads(json.dumps(config))
        config.setdefault("provenance", {}).setdefault("age", {})["data"] = {"name": "utkface128",
                                                                              "root": {"folder": str(folder)}}
        return header, config

    monkeypatch.setattr(bundle_module, "read_header", from_utkface)
    monkeypatch.setenv("LNET_ANET_DATASETS", str(tmp_path / "elsewhere"))  # the datasets root holds no UTKFace
    out = tmp_path / "prior.lnetanet"
    assert build_main(["--from-bundle", str(bundle_path), "--age-prior", "0.5", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"note: the prior is read from {folder}, the UTKFace folder the age head learnt from" in captured.err
    monkeypatch.setattr(bundle_module, "read_header", real)
    labels = load_bundle(out).config["nets"]["age"]["prior_correction"]["labels"]
    assert 20 < labels < 40  # its train part: the 20% val part left out


def test_age_prior_divides_the_training_labels_prior_out_of_the_age_head(parts, bundle_path, tmp_path, capsys):
    """build_bundle --age-prior: the age head's predictions become prior_corrected's of the same
    logits; the networks are untouched; 0 takes the correction out again; bad uses are refused."""
    from PIL import Image

    from lnet_anet.cli.fit_descriptor_head import training_part
    from lnet_anet.dldl.label_distribution import label_prior, prior_corrected

    folder = tmp_path / "UTKFace"  # UTKFace's file names carry the age
    folder.mkdir()
    for i, age in enumerate(np.random.default_rng(0).normal(30, 12, 60).clip(1, 99).astype(int)):
        Image.new("RGB", (8, 8)).save(folder / f"{age}_0_0_2017{i:010d}.jpg.chip.jpg")
    out = tmp_path / "prior.lnetanet"
    argv = ["--from-bundle", str(bundle_path), "--age-prior", "0.5", "--age-labels", str(folder), "--out", str(out)]
    assert build_main(argv) == 0 and "label prior ** 0.5 divided out" in capsys.readouterr().out
    before, after = _tensors(bundle_path), _tensors(out)
    assert sorted(after) == sorted(before) and all(torch.equal(after[k], before[k]) for k in before)
    src, b = load_bundle(bundle_path), load_bundle(out)
    ages = training_part("age", folder)["age"].to_numpy()
    assert b.config["nets"]["age"]["prior_correction"]["labels"] == len(ages) < 60  # the val part is not read
    crops = torch.rand(3, 3, 32, 32)
    logits = src.age(crops)["logits"]
    want = prior_corrected(logits, label_prior(ages, src.age.bins), 0.5, src.age.bins)["mean"]
    assert torch.allclose(b.age.predict(crops)["mean"], want, atol=1e-3)
    assert not torch.allclose(src.age.predict(crops)["mean"], want, atol=1e-2)

    scaled = tmp_path / "scaled.lnetanet"  # the std's scale, beside the correction (kept)
    assert build_main(["--from-bundle", str(out), "--age-std-scale", "0.5", "--out", str(scaled)]) == 0
    assert "std x 0.5" in capsys.readouterr().out
    s = load_bundle(scaled)
    assert s.config["nets"]["age"]["prior_correction"] == b.config["nets"]["age"]["prior_correction"]
    assert torch.allclose(s.age.predict(crops)["mean"], want, atol=1e-3)
    assert torch.allclose(s.age.predict(crops)["std"], b.age.predict(crops)["std"] * 0.5, atol=1e-4)
    assert build_main(["--from-bundle", str(out), "--age-std-scale", "0", "--out", str(scaled)]) == 2
    assert "argument --age-std-scale: must be in [0.1, 10]" in capsys.readouterr().err

    undone = tmp_path / "undone.lnetanet"
    assert build_main(["--from-bundle", str(out), "--age-prior", "0", "--age-labels", str(folder), "--out", str(undone)]) == 0
    assert "prior_correction" not in load_bundle(undone).config["nets"]["age"]
    bad = str(tmp_path / "bad.lnetanet")
    for strength in ("-1", "5", "nan"):  # refused before any label is read
        assert build_main(["--from-bundle", str(bundle_path), "--age-prior", strength, "--age-labels", str(folder),
                           "--out", bad]) == 2  # fmt: skip
        assert "argument --age-prior: must be" in capsys.readouterr().err
    assert build_main(["--from-bundle", str(bundle_path), "--age-prior", "0.5", "--age-labels", str(tmp_path),
                       "--out", bad]) == 1  # fmt: skip
    assert f"{tmp_path}: no UTKFace-named images" in capsys.readouterr().err and not Path(bad).exists()
    assert build_main(["--from-bundle", str(bundle_path), "--age-labels", str(folder), "--localizer", "{}",
                       "--out", bad]) == 2  # fmt: skip
    config = json.loads(json.dumps(b.config))
    config.pop("versions")
    config["nets"]["age"]["prior_correction"]["prior"] = [1.0, -1.0]
    with pytest.raises(BundleError, match="prior must be a non-empty list of positive numbers"):
        check_config(config, {"lnet", "anet", "age"}, "x.lnetanet")
    config["nets"]["age"]["prior_correction"]["prior"] = [0.5, 0.5]
    config["nets"]["age"]["std_scale"] = -1
    with pytest.raises(BundleError, match="std_scale must be a number > 0"):
        check_config(config, {"lnet", "anet", "age"}, "x.lnetanet")
    del config["nets"]["age"]["std_scale"]
    config["nets"]["age"]["prior_correction"]["prior"] = [1.0, 1.0]  # 2 values for 101 bins
    short = save_bundle(tmp_path / "short.lnetanet", parts, config)
    with pytest.raises(BundleError, match="101 positive finite values"):
        load_bundle(short)


def test_build_bundle_names_a_misspelt_localizer_key_and_an_out_folder_and_leaves_nothing(bundle_path, tmp_path,
                                                                                         capsys):  # fmt: skip
    bad = tmp_path / "bad.lnetanet"
    assert build_main(["--from-bundle", str(bundle_path), "--localizer", '{"separaton": 0.3}', "--out", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "unknown settings ['separaton']" in err and "'separation'" in err and not bad.exists()
    folder = tmp_path / "bundles"
    folder.mkdir()
    assert build_main(["--from-bundle", str(bundle_path), "--localizer", '{"separation": 0.3}', "--out", str(folder)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundles"] and not any(folder.iterdir())  # no temporary file


def test_crop_pad_fills_every_face_crop_alike_and_keeps_the_shared_stages(bundle_path, tmp_path, capsys):
    """build_bundle --crop-pad: ANet's crop and each head's that reads a crop get the same pad
    (so the heads keep sharing ANet's stages); networks unchanged; a bad mode is refused."""
    from lnet_anet.inference.predictor import Predictor

    out = tmp_path / "edge.lnetanet"
    assert build_main(["--from-bundle", str(bundle_path), "--crop-pad", "edge", "--out", str(out)]) == 0
    before, after = _tensors(bundle_path), _tensors(out)
    assert all(torch.equal(after[k], before[k]) for k in before)
    b, src = load_bundle(out), load_bundle(bundle_path)
    prep = b.config["preprocessing"]
    assert prep["anet"]["pad"] == "edge" and "pad" not in src.config["preprocessing"]["anet"]
    for head in ("age", "attractiveness"):
        if head in prep:
            assert prep[head].get("pad") == ("edge" if prep[head].get("input", "image") == "image" else None)
    assert Predictor(b, backend="torch")._shared_stages == Predictor(src, backend="torch")._shared_stages
    assert b.config["provenance"]["built"]["settings"]["crop_pad"] == "edge"
    again = tmp_path / "black.lnetanet"  # black again: no pad key, the settings as the source's
    assert build_main(["--from-bundle", str(out), "--crop-pad", "black", "--out", str(again)]) == 0
    assert {k: v for k, v in load_bundle(again).config["preprocessing"].items()} == src.config["preprocessing"]
    assert build_main(["--from-bundle", str(bundle_path), "--crop-pad", "white", "--out", str(out)]) == 2
    assert "invalid choice: 'white'" in capsys.readouterr().err


def test_age_input_softens_the_age_heads_crop_and_nothing_else(bundle_path, tmp_path, capsys):
    """build_bundle --age-input '{"soften": ...}': the age head reads its crop softened when the crop
    is sharper than soften_above; the networks, ANet's crop and the boxes are unchanged; the step is
    recorded; a bad value, or an age head that reads ANet's feature or ANet's crop, is refused
    and nothing is written."""
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

    rng = np.random.default_rng(0)
    image = np.kron(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))  # sharp edges
    source = Predictor(load_bundle(bundle_path), backend="torch").predict(image)["faces"]
    assert source, "the tiny bundle finds a face on any picture at threshold 0"
    ages = {}
    for label, above in (("always", 0), ("never", 1e12)):
        out = tmp_path / f"{label}.lnetanet"
        settings = json.dumps({"soften": 2, "soften_above": above})
        assert build_main(["--from-bundle", str(bundle_path), "--age-input", settings, "--out", str(out)]) == 0
        before, after = _tensors(bundle_path), _tensors(out)
        assert all(torch.equal(after[k], before[k]) for k in before)
        b = load_bundle(out)
        assert b.config["preprocessing"]["age"]["soften"] == 2
        assert b.config["provenance"]["built"]["settings"]["age_input"] == {"soften": 2, "soften_above": above}
        faces = Predictor(b, backend="torch").predict(image)["faces"]
        assert [f["box"] for f in faces] == [f["box"] for f in source]
        assert [f["attributes"] for f in faces] == [f["attributes"] for f in source]
        ages[label] = [f["age"]["mean"] for f in faces]
    assert ages["never"] == [f["age"]["mean"] for f in source]  # no crop over the bar: as before
    assert ages["always"] != ages["never"]
    bad = tmp_path / "bad.lnetanet"
    assert build_main(["--from-bundle", str(bundle_path), "--age-input", '{"soften": 0.5}', "--out", str(bad)]) == 1
    assert "soften" in capsys.readouterr().err and not bad.exists()
    features = random_bundle(tmp_path / "features.lnetanet", feature_heads=True)
    assert build_main(["--from-bundle", str(features), "--age-input", '{"soften": 2}', "--out", str(bad)]) == 1
    assert "need an age head that reads a face crop" in capsys.readouterr().err and not bad.exists()
    # an age head on ANet's own layers (the shipped bundle's before session 40): it reads ANet's crop
    run = _anet_dldl_run(load_bundle(DEFAULT_BUNDLE), tmp_path / "age-on-anet", "age")
    shared = tmp_path / "shared.lnetanet"
    assert build_main(["--from-bundle", str(DEFAULT_BUNDLE), "--age", str(run), "--out", str(shared)]) == 0
    assert build_main(["--from-bundle", str(shared), "--age-input", '{"soften": 2}', "--out", str(bad)]) == 1
    assert "shares ANet's stages and reads ANet's crop" in capsys.readouterr().err and not bad.exists()


def test_the_docs_name_the_embedded_bundles_identity():
    """Trial 85: MODEL_CARD named neither identity a record carries, so a record could not be
    matched to the card; README's example record had gone stale once before. Both must follow
    the embedded bundle when it changes."""
    from lnet_anet.inference.predictor import Predictor

    predictor = Predictor.load()
    repo = Path(__file__).resolve().parents[1]
    card, readme = (repo / "MODEL_CARD.md").read_text(), (repo / "README.md").read_text()
    assert f'"bundle": "{predictor.bundle.identity}"' in card and f'"model": "{predictor.model_identity}"' in card
    assert f"`{predictor.bundle.digest[:12]}`" in card
    assert f'"bundle": "{predictor.bundle.identity}"' in readme and f'"model": "{predictor.model_identity}"' in readme
