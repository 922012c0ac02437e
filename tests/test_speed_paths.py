"""The fast inference paths equal the plain ones (issue 18):
folded BatchNorm, the trunk stages ANet shares with the age net, batched faces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.inference.predictor import DEFAULT_BUNDLE, Predictor

pytestmark = pytest.mark.usefixtures("one_thread")


def _randomise_batchnorm(net: torch.nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def test_folded_batchnorm_gives_the_same_outputs():
    from lnet_anet.inference.fuse import fold_batchnorm
    from lnet_anet.models.registry import create_model

    lnet = create_model("lnet_lite0", pretrained="none", stride=8, neck_channels=32, face_tag=True,
                        response="face", tune_last_stage=False).eval()  # fmt: skip
    _randomise_batchnorm(lnet)
    fused = fold_batchnorm(lnet)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in lnet.modules())  # the original is kept
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        a, b = lnet(x), fused(x)
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-4, rtol=1e-4), key


@pytest.mark.skipif(not DEFAULT_BUNDLE.is_file(), reason="no embedded bundle")
def test_batched_shared_trunk_faces_equal_the_per_face_reference():
    """Predictor's batched, shared-trunk, folded path against the plain per-face reference on
    the loaded bundle's own networks: ANet.patch_features + SVMs, and the age net on its crop."""
    from lnet_anet.data.transforms import crop_face, soften_sharp
    from lnet_anet.inference.bundle import load_bundle

    bundle = load_bundle(DEFAULT_BUNDLE)
    predictor = Predictor(bundle, backend="torch")  # copies: bundle's nets stay unfolded
    # attractiveness shares the stem and block 0 with ANet; the age ensemble reads a crop of its own (session 40)
    assert predictor._shared_stages == {"age": 0, "attractiveness": 2}
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in bundle.anet.trunk.modules())
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (200, 260, 3), dtype=np.uint8)
    boxes = [np.array([10.0, 20.0, 90.0, 110.0]), np.array([120.0, 30.0, 250.0, 180.0]), np.array([0.0, 0.0, 40.0, 30.0])]
    faces = [(image, b, 0.9, {}) for b in boxes]
    with torch.inference_mode():
        predictor._analyse_faces(faces)
    p = predictor._anet
    age_prep = predictor._heads["age"]
    for (*_, face), box in zip(faces, boxes, strict=True):
        with torch.no_grad():
            feats = bundle.anet.patch_features(image, box, enlarge=p.enlarge, size=p.canonical_size, stride=p.stride,
                                               mirror=p.mirror, mean=p.mean, std=p.std)  # fmt: skip
            probs = bundle.svm.average_over_patches(feats.numpy())
            crop = soften_sharp(crop_face(image, box, age_prep.enlarge, age_prep.image_size), age_prep.soften,
                                age_prep.soften_above)  # fmt: skip
            crop = torch.from_numpy(age_prep.normalize(crop))
            age = bundle.age.head.predict(bundle.age(crop[None])["logits"])
        got = np.array([face["attributes"][n] for n in predictor.attributes])
        assert np.abs(got - probs).max() < 1e-3
        assert abs(face["age"]["mean"] - float(age["mean"][0])) < 1e-2
        assert abs(face["age"]["std"] - float(age["std"][0])) < 1e-2


def test_predict_many_decodes_ahead_and_keeps_order(tmp_path):
    import cv2

    from lnet_anet.inference.build import random_bundle

    path = random_bundle(tmp_path / "tiny.lnetanet", threshold=0.0, max_faces=1)
    predictor = Predictor.load(path)
    rng = np.random.default_rng(1)
    files = []
    for i in range(7):
        f = tmp_path / f"{i}.png"
        cv2.imwrite(str(f), rng.integers(0, 255, (40 + 10 * i, 60, 3), dtype=np.uint8))
        files.append(f)
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    items = [*files[:3], tmp_path / "bad.jpg", *files[3:]]
    records = list(predictor.predict_many(items, batch_size=3))
    assert [r["image"] for r in records] == [str(f) for f in items]
    assert [r["height"] for r in records if r["error"] is None] == [40 + 10 * i for i in range(7)]
    assert records[3]["error"] and records[3]["faces"] == []
    singles = [predictor.predict(f) for f in files]
    assert [r for r in records if r["error"] is None] == singles


@pytest.mark.skipif(not DEFAULT_BUNDLE.is_file(), reason="no embedded bundle")
def test_face_graph_gives_each_head_its_own_shared_depth_and_takes_an_ensemble():
    """FaceGraph with heads that share 1 and 2 of ANet's trunk stages, one of them an ensemble of
    ANetDLDL nets, equals the same heads each run on its own crop (nothing shared)."""
    import copy

    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.fuse import shared_trunk_stages
    from lnet_anet.inference.graphs import FaceGraph
    from lnet_anet.models.dldl import DLDLEnsemble

    bundle = load_bundle(DEFAULT_BUNDLE)
    anet, prep = bundle.anet.eval(), Predictor(bundle, backend="torch")._anet
    deep = bundle.attractiveness.eval()  # block 0 frozen too: shares the stem and block 0
    shallow = copy.deepcopy(bundle.attractiveness).eval()  # block 0 trainable: shares the stem alone
    shallow.anet.frozen_stages = 1
    other = copy.deepcopy(bundle.attractiveness).eval()
    with torch.no_grad():
        for q in other.head.parameters():
            q.add_(torch.randn_like(q) * 0.1)
    ensemble = DLDLEnsemble([bundle.attractiveness.eval(), other]).eval()
    preps = Predictor(bundle, backend="torch")._heads
    heads = {"deep": (deep, preps["attractiveness"]), "shallow": (shallow, preps["attractiveness"]),
             "ensemble": (ensemble, preps["attractiveness"])}  # fmt: skip
    depth = {n: shared_trunk_stages(anet, prep, net, h) for n, (net, h) in heads.items()}
    assert depth == {"deep": 2, "shallow": 1, "ensemble": 2}
    assert shared_trunk_stages(anet, prep, bundle.age.eval(), preps["age"]) == 0  # the age ensemble: a crop of its own
    crops = torch.from_numpy(np.random.default_rng(0).integers(0, 255, (3, 160, 160, 3), dtype=np.uint8))
    with torch.inference_mode():
        shared = FaceGraph(anet, prep, heads, depth)(crops)
        alone = FaceGraph(anet, prep, heads, 0)(crops, crops, crops, crops)
    assert len(shared) == 7
    for a, b in zip(shared, alone, strict=True):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)
    assert not torch.allclose(shared[4], shared[6])  # the shallow head and the ensemble differ


def test_a_bundle_head_on_anets_layers_can_score_its_centre_patch_alone(tmp_path):
    """Predictor.load(patches=...): the embedded attractiveness head on its centre patch changes
    that head's score only; heads that have no patches, and unknown sets, are refused.
    predict's --attractiveness-descriptor asks for the centre patch when the bundle's head has one."""
    from skimage.data import astronaut

    from lnet_anet.cli.predict import _head_patches, build_parser
    from lnet_anet.inference.build import random_bundle

    grid = Predictor.load(DEFAULT_BUNDLE, backend="torch").predict(astronaut())["faces"][0]
    predictor = Predictor.load(DEFAULT_BUNDLE, backend="torch", patches={"attractiveness": "centre"})
    assert predictor.bundle.config["nets"]["attractiveness"]["kwargs"]["patches"] == "centre"
    centre = predictor.predict(astronaut())["faces"][0]
    assert centre["attractiveness"] != grid["attractiveness"] and abs(centre["attractiveness"]["mean"] - grid["attractiveness"]["mean"]) < 0.5
    assert centre["age"] == grid["age"] and centre["attributes"] == grid["attributes"] and centre["box"] == grid["box"]
    with pytest.raises(ValueError, match="'lnet' is not a head on ANet's layers"):
        Predictor.load(DEFAULT_BUNDLE, patches={"lnet": "centre"})
    with pytest.raises(ValueError, match="must be one of"):
        Predictor.load(DEFAULT_BUNDLE, patches={"attractiveness": "corners"})
    other = random_bundle(tmp_path / "b.lnetanet")  # its heads read a crop of their own: no patches
    with pytest.raises(ValueError, match="not a head on ANet's layers"):
        Predictor.load(other, patches={"attractiveness": "grid"})

    def chosen(*argv):
        return _head_patches(build_parser().parse_args(["x.jpg", *argv]))

    assert chosen() is None and chosen("--attractiveness-patches", "centre") == {"attractiveness": "centre"}
    assert chosen("--attractiveness-descriptor") == {"attractiveness": "centre"}
    assert chosen("--attractiveness-descriptor", "--attractiveness-patches", "grid") == {"attractiveness": "grid"}
    assert chosen("--attractiveness-descriptor", "--bundle", str(other)) is None  # nothing to choose


def test_mirror_views_answer_a_face_and_its_mirror_image_alike():
    """Predictor.load(mirror=True) averages each face's crop with its mirror image (ANet and the
    heads on ANet's layers), so a face and its mirror image get nearly the same answers, closer
    than the crop alone gives them; predict's --mirror asks for it."""
    from skimage.data import astronaut

    from lnet_anet.cli.predict import build_parser

    image = astronaut()
    flipped, width = np.ascontiguousarray(image[:, ::-1]), image.shape[1]
    gaps = {}
    for mirror in (False, True):
        predictor = Predictor.load(DEFAULT_BUNDLE, backend="torch", mirror=mirror)
        predictor.refine_boxes = False  # the reported box maps back to the region the heads read
        assert predictor.bundle.preprocessing["anet"]["mirror"] is mirror
        assert predictor.bundle.config["nets"]["attractiveness"]["kwargs"]["mirror"] is mirror  # on ANet's layers
        record = predictor.predict(image)
        assert predictor.mirror is mirror and record.get("mirror", False) is mirror  # the record says so
        face = record["faces"][0]
        x0, y0, x1, y1 = face["box"]
        (other,) = predictor.analyse_boxes(flipped, [[width - x1, y0, width - x0, y1]])
        gaps[mirror] = (abs(face["age"]["mean"] - other["age"]["mean"]),
                        max(abs(face["attributes"][k] - other["attributes"][k]) for k in face["attributes"]))  # fmt: skip
    # the mirrored box's crop differs from the mirror image of the crop by up to a pixel, which moves the age net's
    # reading (20.9 and 23.5 years here with the session 40 head; 20.7 and 25.0 without mirror views)
    assert gaps[True][0] < 3.0 and gaps[True][1] < 0.15
    assert gaps[True][0] < gaps[False][0] and gaps[True][1] < gaps[False][1]
    assert build_parser().parse_args(["x.jpg", "--mirror"]).mirror
    with pytest.raises(ValueError, match="mirror must be True, False or None"):
        Predictor.load(DEFAULT_BUNDLE, mirror="no")


def test_box_jitter_averages_the_views_of_each_face_region():
    """Predictor.load(box_jitter=True) reads each face through BOX_JITTER's views of its region:
    its age is the mean of those views' ages read one by one (analyse_boxes, kind "region"), its
    std is their mixture's, its features are the views' average; the record says so, the
    setting can be switched on a loaded Predictor, and predict's --box-jitter asks for it."""
    from skimage.data import astronaut

    from lnet_anet.cli.predict import build_parser
    from lnet_anet.data.preprocess import BOX_JITTER, jitter_box

    image = astronaut()
    predictor = Predictor.load(DEFAULT_BUNDLE, backend="torch")
    predictor.refine_boxes = False  # the reported box maps back to the region the heads read
    plain = predictor.predict(image)
    assert "box_jitter" not in plain and not predictor.box_jitter
    region = predictor.localizer.to_region(np.array(plain["faces"][0]["box"]))
    views = predictor.analyse_boxes(image, [jitter_box(region, v) for v in BOX_JITTER], kind="region")
    means = np.array([v["age"]["mean"] for v in views])
    stds = np.array([v["age"]["std"] for v in views])
    assert np.ptp(means) > 0.01  # the views differ, so the average below is a real check
    features = predictor.anet_features(image, [jitter_box(region, v) for v in BOX_JITTER], kind="region")
    predictor.box_jitter = True
    jittered = predictor.predict(image)
    assert jittered["box_jitter"] is True and jittered["faces"][0]["box"] == plain["faces"][0]["box"]
    age = jittered["faces"][0]["age"]
    assert age["mean"] == pytest.approx(means.mean(), abs=2e-3)
    assert age["std"] == pytest.approx(np.sqrt((stds**2 + means**2).mean() - means.mean() ** 2), abs=2e-3)
    np.testing.assert_allclose(predictor.anet_features(image, [region], kind="region")[0], features.mean(0),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    predictor.box_jitter = False
    assert predictor.predict(image) == plain
    assert Predictor.load(DEFAULT_BUNDLE, backend="torch", box_jitter=True).box_jitter
    assert build_parser().parse_args(["x.jpg", "--box-jitter"]).box_jitter
    with pytest.raises(ValueError, match="box_jitter must be True, False or None"):
        Predictor.load(DEFAULT_BUNDLE, box_jitter=1)
    with pytest.raises(ValueError, match="box_jitter must be True or False"):
        predictor.box_jitter = "yes"


def test_the_heads_that_judge_a_region_read_anets_graph_alone_with_the_same_features():
    """_mean_features (what the face, box and upright heads read; the face filter asks it about
    every face LNet returns) runs ANet's graph without the age and attractiveness nets: the same
    features as the whole face graph's, without running it."""
    from lnet_anet.inference.predictor import JUDGE_PAD

    predictor = Predictor.load(DEFAULT_BUNDLE, backend="torch")
    image = np.random.default_rng(0).integers(0, 255, (160, 200, 3), dtype=np.uint8)
    faces = [(image, np.array(b, np.float64), 0.9, {}) for b in ([10, 20, 90, 110], [100, 10, 190, 150], [-20, -10, 50, 60])]
    full = predictor._face_features(faces, JUDGE_PAD)
    alone = predictor._face_features(faces, JUDGE_PAD, with_heads=False)
    assert len(full) == 5 and len(alone) == 1  # features, then the age and attractiveness means and stds
    np.testing.assert_allclose(alone[0], full[0], rtol=1e-5, atol=1e-5)
    predictor._run["faces"] = None  # the whole face graph is not run by the judges
    np.testing.assert_allclose(predictor._mean_features(faces), predictor._crop_patches(full[0]).mean(1),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
