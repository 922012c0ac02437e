"""The opt-in attractiveness descriptor head (lnet_anet.dldl.descriptor): the SVR's dual form,
its file, the mix, and the Predictor's use of it (a stand-in descriptor; dlib's own is tested
where dlib and its models are installed)."""

from __future__ import annotations

import importlib.util
import json
import threading

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from lnet_anet.dldl.descriptor import DESCRIPTOR_SIZE, MAP_SIZE, DescriptorHead, FaceDescriptor
from tests._extras import needs_dlib


def _data(n=120, d=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32) / np.sqrt(d)
    return x, 3 + np.tanh(2 * x[:, 0]) + 0.05 * rng.normal(size=n)



def _as_network_outputs(values: np.ndarray, with_map: bool) -> np.ndarray:
    """A stand-in describer's (N, d) values tiled to FaceDescriptor's widths: a (N, 128)
    "descriptor", then with_map a (N, 1024) "map"."""
    descriptors = np.tile(values, (1, DESCRIPTOR_SIZE // values.shape[1] + 1))[:, :DESCRIPTOR_SIZE]
    return np.concatenate([descriptors, np.tile(descriptors, (1, MAP_SIZE // DESCRIPTOR_SIZE))], 1) if with_map else descriptors

def test_the_dldl_head_learns_the_scores_and_survives_its_file(tmp_path):
    x, y = _data()
    head = DescriptorHead.fit(x, y, weight=0.25, epochs=40, info={"note": "test"})
    assert np.corrcoef(head.regress(x), y)[0, 1] > 0.9  # learns the fixture's function
    with torch.no_grad():  # regress (numpy) is the network's own expectation
        np.testing.assert_allclose(head.regress(x), head.nets[0].predict(torch.as_tensor(x, dtype=torch.float32))["mean"].numpy(), atol=1e-5)
    assert np.allclose(DescriptorHead.fit(x, y, weight=0.25, epochs=40).regress(x), head.regress(x))  # seeded

    head.save(tmp_path / "h.safetensors")
    again = DescriptorHead.load(tmp_path / "h.safetensors")
    np.testing.assert_allclose(again.regress(x), head.regress(x), atol=1e-6)
    assert again.weight == 0.25 and again.info["note"] == "test" and again.info["faces"] == len(y)
    assert again.settings == {"refine": "map", "precision": "int8"}  # the descriptor it was fitted on
    hog = DescriptorHead.fit(x, y, epochs=1, settings={"refine": "hog", "precision": "fp32"})
    hog.save(tmp_path / "hog.safetensors")
    assert DescriptorHead.load(tmp_path / "hog.safetensors").settings == {"refine": "hog", "precision": "fp32"}
    # The mix: (1 - w) * head + w * this head, clipped to the 1-5 scale.
    means = np.array([2.0, 4.0, 5.0])
    expected = np.clip(0.75 * means + 0.25 * head.regress(x[:3]), 1, 5)
    np.testing.assert_allclose(again.mix(means, x[:3]), expected)
    assert 1.0 <= again.mix(np.array([5.0]), x[:1] + 50).item() <= 5.0


def test_a_head_of_several_seeds_averages_them_and_survives_its_file(tmp_path):
    x, y = _data()
    single = DescriptorHead.fit(x, y, epochs=10, seed=3)
    head = DescriptorHead.fit(x, y, epochs=10, seed=3, members=3)
    assert len(head.nets) == 3 and head.info["members"] == 3
    seeds = [DescriptorHead.fit(x, y, epochs=10, seed=s).regress(x) for s in (3, 4, 5)]  # seed, seed + 1, ...
    np.testing.assert_allclose(head.regress(x), np.mean(seeds, 0), atol=1e-5)  # float32
    np.testing.assert_allclose(seeds[0], single.regress(x))  # the first member is the one-network head
    assert not np.allclose(seeds[0], seeds[1])  # the members differ
    head.save(tmp_path / "three.safetensors")
    again = DescriptorHead.load(tmp_path / "three.safetensors")
    assert len(again.nets) == 3
    np.testing.assert_allclose(again.regress(x), head.regress(x), atol=1e-6)
    single.save(tmp_path / "one.safetensors")  # one network: plain tensor names, as files before members
    assert len(DescriptorHead.load(tmp_path / "one.safetensors").nets) == 1
    with pytest.raises(ValueError, match="members must be >= 1"):
        DescriptorHead.fit(x, y, epochs=1, members=0)


def test_bad_files_and_weights_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="fit_descriptor_head"):
        DescriptorHead.load(tmp_path / "missing.safetensors")
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a descriptor head"):
        DescriptorHead.load(tmp_path / "other.safetensors")
    (tmp_path / "text.safetensors").write_text("not weights")
    with pytest.raises(ValueError, match="text.safetensors: not a readable descriptor head"):
        DescriptorHead.load(tmp_path / "text.safetensors")
    with pytest.raises(ValueError, match="a folder, not a descriptor head file"):
        DescriptorHead.load(tmp_path)
    x, y = _data()
    with pytest.raises(ValueError, match="weight"):
        DescriptorHead.fit(x, y, epochs=1, weight=1.5)
    with pytest.raises(ValueError, match="refine must be one of"):
        FaceDescriptor(refine="mtcnn")
    with pytest.raises(ValueError, match="precision must be one of"):
        FaceDescriptor(precision="fp16")


def test_the_predictor_mixes_the_descriptor_score_into_attractiveness(tmp_path):
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    seen = []

    threads = []

    def describe(img, boxes):  # a stand-in for dlib: a descriptor from the box's position
        seen.append([list(map(float, b)) for b in boxes])
        threads.append(threading.current_thread().name)
        return np.array([[b[0] / 100, b[1] / 100, 0.5] for b in boxes], np.float32)

    x, y = _data(d=3)
    head = DescriptorHead.fit(x, y, epochs=20)
    head.describer = describe
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=2))
    plain = predictor.predict(image)
    assert plain["faces"]
    predictor.descriptor_head = head
    mixed = predictor.predict(image)
    assert mixed["descriptor_heads"] == ["attractiveness"] and "descriptor_heads" not in plain  # the mode recorded
    boxes = [f["box"] for f in mixed["faces"]]
    assert np.allclose(sum(seen, []), boxes, atol=0.06)  # the reported face boxes, one call per image
    assert threads == ["lnet_anet-descriptor_0"]  # beside the face graph, on the worker thread
    for before, after in zip(plain["faces"], mixed["faces"], strict=True):
        d = describe(image, [before["box"]])
        expected = head.mix(np.array([before["attractiveness"]["mean"]]), d).item()
        assert after["attractiveness"]["mean"] == pytest.approx(expected, abs=2e-3)
        assert after["attractiveness"]["std"] == before["attractiveness"]["std"]
        assert after["age"] == before["age"] and after["attributes"] == before["attributes"]

    def failing(img, boxes):
        raise ValueError("dlib failed")

    head.describer = failing  # the worker's error reaches the image's record, as before
    assert "dlib failed" in predictor.predict(image)["error"]
    if importlib.util.find_spec("dlib") is None:  # a head without a describer: dlib's is made when set, or said there
        with pytest.raises(ImportError, match=r"pip install -e '\.\[descriptor\]'"):
            predictor.descriptor_head = DescriptorHead.fit(x, y, epochs=1)
        assert predictor.descriptor_head is head  # not one that every later record would fail on

    no_head = Predictor.load(random_bundle(tmp_path / "n.lnetanet", heads=("age",)))
    with pytest.raises(ValueError, match="lacks"):
        no_head.descriptor_head = head


def test_a_joint_head_reads_the_faces_anet_feature_of_its_own_anet_only(tmp_path):
    """A joint head (ANet's feature + the descriptor) gets the feature Predictor computes for the
    attributes, and is refused by a bundle with another ANet."""
    from lnet_anet.dldl.descriptor import joined_inputs
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    image = np.random.default_rng(2).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=2))
    plain = predictor.predict(image)
    boxes = [f["box"] for f in plain["faces"]]
    features = predictor.anet_features(image, boxes)
    assert features.shape == (len(boxes), predictor.bundle.svm.feature_dim)

    def describe(img, boxes):
        return np.array([[b[0] / 100, b[1] / 100] for b in boxes], np.float32)

    x, y = _data(n=60, d=features.shape[1] + 2)
    digest = predictor.bundle.part_digest("anet")
    head = DescriptorHead.fit(x, y, epochs=5, anet=digest)
    head.save(tmp_path / "joint.safetensors")
    head = DescriptorHead.load(tmp_path / "joint.safetensors", describe=describe)
    assert head.anet == digest
    with pytest.raises(ValueError, match="reads ANet's feature too"):
        head.mix(np.array([3.0]), describe(image, boxes[:1]))
    predictor.descriptor_head = head
    mixed = predictor.predict(image)
    expected = head.mix(np.array([f["attractiveness"]["mean"] for f in plain["faces"]]), describe(image, boxes), features)
    np.testing.assert_allclose([f["attractiveness"]["mean"] for f in mixed["faces"]], expected, atol=2e-3)
    np.testing.assert_allclose(joined_inputs(np.zeros((1, 2)), 3 * np.ones((1, 4)))[0], [0.7071] * 4 + [0, 0], atol=1e-4)

    # The same ANet beside other heads has the same digest; another ANet is refused.
    same = Predictor.load(random_bundle(tmp_path / "same.lnetanet", threshold=0.0, heads=("attractiveness",)))
    assert same.bundle.part_digest("anet") == digest
    other = Predictor.load(random_bundle(tmp_path / "other.lnetanet", threshold=0.0, seed=1))
    with pytest.raises(ValueError, match="another ANet"):
        other.descriptor_head = head
    # Without the file's digest (a bundle made in memory), the network's tensors as a file stores them.
    from lnet_anet.inference.bundle import load_bundle

    bundle = load_bundle(tmp_path / "other.lnetanet")
    from_file = bundle.part_digest("anet")
    bundle.path = None
    bundle.part_digests.clear()
    assert bundle.part_digest("anet") == from_file



def test_a_head_that_reads_dlibs_map_gets_it_from_the_shared_network_outputs(tmp_path):
    """reads_map: the head reads the last map (L2-normalised) beside the descriptor, from the
    (N, 128 + 1024) outputs a describer gives once for every head; it survives a save; a head
    without the map reads the descriptor columns of the same outputs; descriptors alone are refused."""
    from lnet_anet.dldl.descriptor import network_inputs

    rng = np.random.default_rng(5)
    outputs = rng.normal(size=(40, DESCRIPTOR_SIZE + MAP_SIZE)).astype(np.float32)
    inputs = network_inputs(outputs, True)
    assert inputs.shape == (40, MAP_SIZE + DESCRIPTOR_SIZE)
    np.testing.assert_allclose(np.linalg.norm(inputs[:, :MAP_SIZE], axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(inputs[:, MAP_SIZE:], outputs[:, :DESCRIPTOR_SIZE])
    np.testing.assert_array_equal(network_inputs(outputs, False), outputs[:, :DESCRIPTOR_SIZE])
    y = 3 + np.tanh(inputs[:, 0] * 10)
    head = DescriptorHead.fit(inputs, y, epochs=3, reads_map=True)
    head.save(tmp_path / "map.safetensors")
    loaded = DescriptorHead.load(tmp_path / "map.safetensors")
    assert loaded.reads_map and not DescriptorHead.fit(inputs[:, MAP_SIZE:], y, epochs=1).reads_map
    means = np.full(40, 3.0)
    np.testing.assert_allclose(loaded.mix(means, outputs), np.clip(1.5 + 0.5 * head.regress(inputs), 1, 5), atol=1e-6)
    with pytest.raises(ValueError, match="reads dlib's last map too"):
        loaded.mix(means, outputs[:, :DESCRIPTOR_SIZE])

    class Describer(FaceDescriptor):  # a FaceDescriptor without dlib: describe asks it for the map
        def __init__(self):
            self.asked = []

        def __call__(self, image, boxes, with_map=False):
            self.asked.append(with_map)
            return outputs[: len(boxes)] if with_map else outputs[: len(boxes), :DESCRIPTOR_SIZE]

    plain = DescriptorHead.fit(outputs[:, :DESCRIPTOR_SIZE], y, epochs=1)
    plain.describer = Describer()
    assert plain.describe(None, [[0, 0, 1, 1]]).shape == (1, DESCRIPTOR_SIZE + MAP_SIZE)  # shareable with a map head
    assert plain.describer.asked == [True]

def test_prepare_moves_the_descriptor_part_of_the_first_layer_and_changes_no_score():
    """prepare (the Predictor's worker thread) takes dlib's part of the networks' first layer and
    mix adds ANet's part: the same scores as mixing the raw outputs, and as regress on the whole
    joined input (LayerNorm applied after the product); inputs of the wrong width are refused."""
    from lnet_anet.dldl.descriptor import PreparedInputs, joined_inputs, network_inputs

    rng = np.random.default_rng(6)
    outputs = rng.normal(size=(12, DESCRIPTOR_SIZE + MAP_SIZE)).astype(np.float32)
    features = rng.normal(size=(12, 8)).astype(np.float32) * 5
    x = joined_inputs(network_inputs(outputs, True), features)
    y = 3 + np.tanh(x[:, 0] * 4 + x[:, -1])
    head = DescriptorHead.fit(x, y, epochs=3, members=2, reads_map=True, anet="digest")
    part = head.prepare(outputs)
    assert isinstance(part, PreparedInputs) and part.row == 8 and part.width == MAP_SIZE + DESCRIPTOR_SIZE
    means = rng.uniform(1, 5, 12)
    expected = np.clip((1 - head.weight) * means + head.weight * head.regress(x), 1, 5)
    np.testing.assert_allclose(head.mix(means, part, features), expected, atol=1e-5)
    np.testing.assert_array_equal(head.mix(means, part, features), head.mix(means, outputs, features))
    with torch.no_grad():  # the layer-normalised product equals the networks' own forward
        own = np.mean([net.predict(torch.as_tensor(x, dtype=torch.float32))["mean"].numpy() for net in head.nets], 0)
    np.testing.assert_allclose(head.regress(x), own, atol=1e-5)
    with pytest.raises(ValueError, match="reads 8 inputs here, got 9"):
        head.mix(means, part, np.zeros((12, 9)))


@needs_dlib
def test_dlibs_descriptor_of_a_real_face():
    from skimage.data import astronaut

    image = astronaut()
    face, background = [170, 40, 290, 190], [380, 380, 500, 500]
    d = FaceDescriptor()(image, [face, background])
    assert d.shape == (2, 128) and np.isfinite(d).all()
    again = FaceDescriptor()(image, [face])
    np.testing.assert_allclose(again[0], d[0], atol=1e-5)  # deterministic
    assert np.linalg.norm(d[0] - d[1]) > 0.3  # another place, another descriptor
    with pytest.raises(ValueError, match="misses the 512x512 image"):
        FaceDescriptor()(image, [[600, 600, 700, 700]])


@needs_dlib
def test_the_port_equals_dlibs_own_descriptor_on_a_real_face():
    import dlib
    from skimage.data import astronaut

    from lnet_anet.dldl.descriptor import DESCRIPTOR, FaceDescriptor, models_folder

    image = astronaut()
    describe = FaceDescriptor(precision="fp32")
    chip = describe.chip(image, [170, 40, 290, 190])
    own = np.asarray(dlib.face_recognition_model_v1(str(models_folder() / f"{DESCRIPTOR}.dat")).compute_face_descriptor(chip))
    from lnet_anet.models.dlib_resnet import DlibFaceResNet

    port = DlibFaceResNet.from_dlib(models_folder() / f"{DESCRIPTOR}.dat")
    with torch.no_grad():
        np.testing.assert_allclose(port(torch.from_numpy(chip)[None])[0][0].numpy(), own, atol=1e-5)
    np.testing.assert_allclose(describe(image, [[170, 40, 290, 190]])[0], own, atol=1e-4)  # ONNX Runtime or torch
    int8 = FaceDescriptor()(image, [[170, 40, 290, 190]])[0]  # the default: quantized, close to dlib's
    assert int8 @ own / np.linalg.norm(int8) / np.linalg.norm(own) > 0.998 and np.linalg.norm(int8 - own) < 0.1
    # with_map: the same descriptor, then the last map, close to the float port's
    with torch.no_grad():
        float_map = port(torch.from_numpy(chip)[None])[1][0].flatten().numpy()
    outputs = FaceDescriptor()(image, [[170, 40, 290, 190]], with_map=True)[0]
    np.testing.assert_array_equal(outputs[:128], int8)
    assert outputs.shape == (128 + 1024,) and outputs[128:] @ float_map / np.linalg.norm(outputs[128:]) / np.linalg.norm(float_map) > 0.998
    # dlib reads only the area around the face: the same chip from the photo inside a larger canvas.
    canvas = np.zeros((900, 1200, 3), np.uint8)
    canvas[100:612, 300:812] = image
    np.testing.assert_array_equal(describe.chip(canvas, [470, 140, 590, 290]), chip)


def test_fit_descriptor_head_on_a_scut_layout_then_predict_with_it(tmp_path, monkeypatch, capsys):
    """The command end to end on a generated SCUT-FBP5500 tree, with a stand-in for dlib's
    descriptor (the image's mean colour in the face box, which the fixture's score drives)."""
    from lnet_anet.cli import fit_descriptor_head, predict
    from lnet_anet.dldl import descriptor
    from lnet_anet.inference.build import random_bundle
    from tests.test_attractiveness import _scut_tree

    class MeanColour:
        def __init__(self, **settings):
            self.settings = settings

        def __call__(self, image, boxes, with_map=False):
            out = []
            for x0, y0, x1, y1 in boxes:
                patch = image[int(y0):max(int(y1), int(y0) + 1), int(x0):max(int(x1), int(x0) + 1)]
                out.append(patch.reshape(-1, 3).mean(0) / 255)
            return _as_network_outputs(np.array(out, np.float32), with_map)

    monkeypatch.setattr(descriptor, "FaceDescriptor", MeanColour)
    root = _scut_tree(tmp_path / "SCUT-FBP5500_v2")
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=1)
    cache, out = tmp_path / "desc.npz", tmp_path / "head.safetensors"
    args = ["--root", str(root), "--bundle", str(bundle), "--cache", str(cache), "--fold", "1", "--out", str(out)]
    assert fit_descriptor_head.main([*args, "--seed", "3"]) == 0
    info = DescriptorHead.load(out).info
    assert info["fold"] == 1 and 0 < info["faces"] < 48 and info["no_face"] == 0
    assert info["data_seed"] == 3 and info["seed"] == 0  # the folds' seed, then the networks' first one
    assert info["members"] == 3 and len(DescriptorHead.load(out).nets) == 3  # attractiveness's default
    with pytest.raises(SystemExit) as usage:  # a usage error, as argparse reports them
        fit_descriptor_head.main([*args, "--members", "0"])
    assert usage.value.code == 2 and "must be >= 1" in capsys.readouterr().err
    assert fit_descriptor_head.main([*args[:1], str(root / "Images"), *args[2:]]) == 1  # not the release's folder
    err = capsys.readouterr().err
    assert "pass --root DIR" in err and "paths.datasets" not in err  # this command's own hint
    assert len(np.load(cache)["names"]) == 48  # every training image described once, for every fold
    assert fit_descriptor_head.main([*args[:-2], "--fold", "9", "--out", str(out)]) == 1
    assert "--fold must be in 1..5" in capsys.readouterr().err
    other = random_bundle(tmp_path / "other.lnetanet", threshold=0.0, max_faces=1, seed=1)
    assert fit_descriptor_head.main([*args[:2], "--bundle", str(other), *args[4:]]) == 1  # the cache is the first bundle's
    assert "made with bundle" in capsys.readouterr().err

    image = next((root / "Images").glob("*.jpg"))
    capsys.readouterr()
    assert predict.main([str(image), "--bundle", str(bundle), "--json", "--attractiveness-descriptor",
                         "--descriptor-head", str(out)]) == 0  # fmt: skip
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert record["faces"] and 1 <= record["faces"][0]["attractiveness"]["mean"] <= 5
    assert predict.main([str(image), "--bundle", str(bundle), "--attractiveness-descriptor",
                         "--descriptor-head", str(tmp_path / "no")]) == 1  # fmt: skip
    assert "no such descriptor head" in capsys.readouterr().err
    assert predict.main([str(image), "--bundle", str(bundle), "--descriptor-head", str(out)]) == 2  # usage
    assert "needs --attractiveness-descriptor" in capsys.readouterr().err


def test_a_killed_fit_descriptor_head_keeps_the_descriptors_it_made(tmp_path, monkeypatch):
    """The cache is saved every SAVE_EVERY images: a run killed half-way goes on where it stopped."""
    from lnet_anet.cli import fit_descriptor_head
    from lnet_anet.dldl import descriptor
    from lnet_anet.inference.build import random_bundle
    from tests.test_attractiveness import _scut_tree

    calls = []

    class Counting:
        def __init__(self, **settings):
            self.settings = settings

        def __call__(self, image, boxes, with_map=False):
            if len(calls) == 20 and not any(c is None for c in calls):
                calls.append(None)
                raise KeyboardInterrupt  # the kill, after 20 faces
            calls.append(len(boxes))
            return _as_network_outputs(np.full((len(boxes), 3), image.mean() / 255, np.float32), with_map)

    monkeypatch.setattr(descriptor, "FaceDescriptor", Counting)
    monkeypatch.setattr(fit_descriptor_head, "SAVE_EVERY", 16)
    root = _scut_tree(tmp_path / "SCUT-FBP5500_v2")
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=1)
    cache = tmp_path / "desc.npz"
    args = ["--root", str(root), "--bundle", str(bundle), "--cache", str(cache), "--out", str(tmp_path / "h.safetensors")]
    assert fit_descriptor_head.main(args) == 130  # Ctrl-C: one line saying what is kept, status 130
    assert len(np.load(cache)["names"]) == 16  # the first save; the 4 faces after it are done again
    assert fit_descriptor_head.main(args) == 0
    assert len(np.load(cache)["names"]) == 48 and len([c for c in calls if c is not None]) == 20 + 32


def test_the_shipped_head_loads_and_scores_within_the_scale():
    from lnet_anet.dldl.descriptor import joined_inputs, network_inputs
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.predictor import DEFAULT_BUNDLE

    head = DescriptorHead.load()  # lnet_anet/assets/attractiveness_descriptor.safetensors
    assert head.info["faces"] == 3300 and head.info["fold"] is None and head.weight == 0.5
    assert head.settings == {"refine": "map", "precision": "int8"}
    assert head.reads_map and head.info["inputs"] == "anet+map+descriptor" and len(head.nets) == 3
    assert head.anet == load_bundle(DEFAULT_BUNDLE, build_nets=False).part_digest("anet")  # the shipped ANet's
    rng = np.random.default_rng(0)
    descriptors = rng.normal(0, 0.12, (16, 128)).astype(np.float32)  # dlib's descriptors have norm ~1.4
    outputs = np.concatenate([descriptors, np.abs(rng.normal(0, 0.5, (16, MAP_SIZE)))], 1)  # the map: after a ReLU
    scores = head.regress(joined_inputs(network_inputs(outputs, True), rng.normal(size=(16, 256))))
    age = DescriptorHead.load(target="age")  # lnet_anet/assets/age_descriptor.safetensors
    assert age.target == "age" and age.anet == head.anet and age.info["limit"] == 9000 and age.reads_map
    # Both narrow the bundle head's std beside their more accurate mean (factors chosen on held-out faces).
    assert 0 < head.std_scale < 1 and 0 < age.std_scale < 1 and "std_scale" in head.info and "std_scale" in age.info
    years = age.regress(joined_inputs(network_inputs(outputs, True), rng.normal(size=(16, 256))))
    assert ((years > 0) & (years < 116)).all() and years.std() > 0
    assert scores.shape == (16,) and ((scores > 1) & (scores < 5)).all() and scores.std() > 0


def test_an_age_head_mixes_into_the_age_and_shares_the_faces_descriptors(tmp_path, monkeypatch, capsys):
    """The age target (bins 0..116): its file, the Predictor's age mix (one descriptor call per
    image for both heads), a head of the wrong target refused, and fit_descriptor_head --target
    age on a generated UTKFace folder (UTKFace's hash-based 20% val part left out)."""
    from PIL import Image

    from lnet_anet.cli import fit_descriptor_head
    from lnet_anet.dldl import descriptor
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.predictor import Predictor

    x, _ = _data(n=200, d=3)
    ages = 40 + 30 * np.tanh(2 * x[:, 0])
    head = DescriptorHead.fit(x, ages, epochs=60, target="age", std_scale=0.5)
    assert head.kwargs["high"] == 116.0 and head.scale == (0.0, 116.0)
    head.save(tmp_path / "age.safetensors")
    head = DescriptorHead.load(tmp_path / "age.safetensors")
    assert head.target == "age" and np.corrcoef(head.regress(x), ages)[0, 1] > 0.7  # learns the fixture
    assert head.std_scale == 0.5  # kept in the file
    with pytest.raises(ValueError, match="target must be one of"):
        DescriptorHead.fit(x, ages, epochs=1, target="gender")
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="std_scale must be a number > 0"):
            DescriptorHead.fit(x, ages, epochs=1, target="age", std_scale=bad)

    calls = []

    def describe(img, boxes):
        calls.append(len(boxes))
        return np.array([[b[0] / 100, b[1] / 100, 0.5] for b in boxes], np.float32)

    image = np.random.default_rng(3).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    predictor = Predictor.load(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, max_faces=2))
    plain = predictor.predict(image)
    scores = DescriptorHead.fit(x, 3 + np.tanh(x[:, 0]), epochs=5)
    head.describer = scores.describer = describe
    with pytest.raises(ValueError, match="predicts attractiveness, not age"):
        predictor.age_descriptor_head = scores
    predictor.age_descriptor_head, predictor.descriptor_head = head, scores
    mixed = predictor.predict(image)
    assert calls == [len(plain["faces"])]  # one descriptor call for both heads
    boxes = [f["box"] for f in plain["faces"]]
    expected = head.mix(np.array([f["age"]["mean"] for f in plain["faces"]]), describe(image, boxes))
    np.testing.assert_allclose([f["age"]["mean"] for f in mixed["faces"]], expected, atol=2e-3)
    # The std beside the mixed mean: the bundle head's times the head's std_scale.
    np.testing.assert_allclose([f["age"]["std"] for f in mixed["faces"]],
                               [0.5 * f["age"]["std"] for f in plain["faces"]], atol=2e-3)  # fmt: skip
    assert [f["attractiveness"]["std"] for f in mixed["faces"]] == [f["attractiveness"]["std"] for f in plain["faces"]]  # its scale 1
    predictor.age_descriptor_head = None
    assert predictor.predict(image)["faces"][0]["age"] == plain["faces"][0]["age"]
    # A bundle whose age std is scaled (nets.age.std_scale): the head's std_scale still applies
    # to the std as predicted, not on top of the bundle's scale.
    from lnet_anet.inference.build import calibrate_label_head

    scaled = Predictor.load(calibrate_label_head(tmp_path / "b.lnetanet", tmp_path / "s.lnetanet", "age", std_scale=0.8))
    np.testing.assert_allclose([f["age"]["std"] for f in scaled.predict(image)["faces"]],
                               [0.8 * f["age"]["std"] for f in plain["faces"]], atol=2e-3)  # fmt: skip
    scaled.age_descriptor_head = head
    np.testing.assert_allclose([f["age"]["std"] for f in scaled.predict(image)["faces"]],
                               [0.5 * f["age"]["std"] for f in plain["faces"]], atol=2e-3)  # fmt: skip

    class MeanColour:
        def __init__(self, **settings):
            self.settings = settings

        def __call__(self, image, boxes, with_map=False):
            return _as_network_outputs(np.array([image.reshape(-1, 3).mean(0) / 255 for _ in boxes], np.float32), with_map)

    monkeypatch.setattr(descriptor, "FaceDescriptor", MeanColour)
    folder = tmp_path / "UTKFace"
    folder.mkdir()
    rng = np.random.default_rng(4)
    for i in range(40):
        age = int(rng.integers(1, 90))
        Image.fromarray(np.full((64, 64, 3), age * 2, np.uint8)).save(folder / f"{age}_0_0_2017{i:010d}.jpg.chip.jpg")
    bundle = random_bundle(tmp_path / "fit.lnetanet", threshold=0.0, max_faces=1)
    out = tmp_path / "age-head.safetensors"
    assert fit_descriptor_head.main(["--target", "age", "--root", str(folder), "--bundle", str(bundle),
                                     "--cache", str(tmp_path / "c.npz"), "--out", str(out), "--std-scale", "0.7"]) == 0  # fmt: skip
    fitted = DescriptorHead.load(out)
    held = len(fit_descriptor_head.training_part("age", folder))
    assert fitted.target == "age" and fitted.info["faces"] == held < 40  # the val part is not learnt from
    assert fitted.std_scale == 0.7
    assert fit_descriptor_head.main(["--target", "age", "--root", str(folder), "--out", str(out), "--std-scale", "0"]) == 1
    assert "--std-scale must be a number > 0" in capsys.readouterr().err

    from lnet_anet.cli import predict

    chip = next(folder.glob("*.jpg"))
    capsys.readouterr()
    assert predict.main([str(chip), "--bundle", str(bundle), "--json", "--age-descriptor",
                         "--age-descriptor-head", str(out)]) == 0  # fmt: skip
    record = json.loads(capsys.readouterr().out.strip().splitlines()[0])
    assert 0 <= record["faces"][0]["age"]["mean"] <= 116
    assert predict.main([str(chip), "--bundle", str(bundle), "--age-descriptor-head", str(out)]) == 2  # usage
    assert "--age-descriptor-head needs --age-descriptor" in capsys.readouterr().err
    scores.save(tmp_path / "scores.safetensors")
    assert predict.main([str(chip), "--bundle", str(bundle), "--age-descriptor", "--age-descriptor-head",
                         str(tmp_path / "scores.safetensors")]) == 1  # fmt: skip
    assert (f"--age-descriptor: {tmp_path / 'scores.safetensors'}: this descriptor head predicts attractiveness, not age"
            in capsys.readouterr().err)  # the file named
