"""LNet: shapes, the response map's definition, the box-free loss, the registry and weights."""

from __future__ import annotations

import json

import pytest
import torch
from torch.nn import functional as F

from lnet_anet.models import create_model
from lnet_anet.models.lnet import LNet, LNetUpper, lnet_loss

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model(one_thread) -> LNet:
    torch.manual_seed(0)
    return LNet(pretrained="none").eval()


def test_forward_shapes_at_stride_16(model):
    out = model(torch.randn(2, 3, 96, 80))
    assert out["logits"].shape == (2, 40)
    assert out["response"].shape == (2, 6, 5)  # ceil(96 / 16), ceil(80 / 16)
    assert (out["response"] >= 0).all()


def test_logits_are_map_means_and_response_is_the_mean_relu_map(model):
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        maps = model.attribute_maps(x)
        out = model(x)
    assert maps.shape == (1, 40, 4, 4)
    torch.testing.assert_close(out["logits"], maps.mean(dim=(2, 3)))
    torch.testing.assert_close(out["response"], F.relu(maps).mean(dim=1))


def test_stride_32_gives_coarser_maps_and_bad_stride_is_rejected():
    m = LNet(pretrained="none", stride=32, neck_channels=0, num_attributes=5).eval()
    out = m(torch.randn(1, 3, 96, 96))
    assert out["logits"].shape == (1, 5) and out["response"].shape == (1, 3, 3)
    with pytest.raises(ValueError, match="stride"):
        LNet(pretrained="none", stride=4)


def test_stride_8_fuses_finer_maps_and_lower_upper_split_equals_forward():
    torch.manual_seed(0)
    m = LNet(pretrained="none", stride=8, neck_channels=16, face_tag=True, response="face").eval()
    x = torch.randn(2, 3, 64, 48)
    with torch.no_grad():
        out = m(x)
        fine, coarse = m.lower(x)
        upper = LNetUpper(m)(coarse, fine)
    assert out["response"].shape == (2, 8, 6) and out["face"].shape == (2,)
    assert fine.shape[-2:] == (8, 6) and coarse.shape[-2:] == (4, 3)
    for key in out:
        torch.testing.assert_close(upper[key], out[key])
    maps = m.attribute_maps(x)
    assert maps.shape[1] == 41  # 40 attributes + the face tag
    torch.testing.assert_close(out["response"], F.relu(maps[:, -1]))
    torch.testing.assert_close(out["face"], maps[:, -1].mean(dim=(1, 2)))


def test_face_response_needs_the_face_tag():
    with pytest.raises(ValueError, match="face_tag"):
        LNet(pretrained="none", response="face")


def test_face_tag_loss_ignores_the_attributes_of_face_free_images():
    torch.manual_seed(0)
    m = LNet(pretrained="none", num_attributes=6, face_tag=True, drop_rate=0.0).eval()
    x = torch.randn(3, 3, 48, 48)
    has_face = torch.tensor([1.0, 0.0, 1.0])
    tags = (torch.rand(3, 6) > 0.5).float()
    loss, logs = lnet_loss(m, {"image": x, "attributes": tags, "has_face": has_face})
    other = tags.clone()
    other[1] = 1 - other[1]  # the face-free image's tags mean nothing
    same, _ = lnet_loss(m, {"image": x, "attributes": other, "has_face": has_face})
    assert same.item() == pytest.approx(loss.item())
    other[0] = 1 - other[0]  # a face image's tags do count
    changed, _ = lnet_loss(m, {"image": x, "attributes": other, "has_face": has_face})
    assert changed.item() != pytest.approx(loss.item())
    with torch.no_grad():
        out = m(x)
    expected_face = F.binary_cross_entropy_with_logits(out["face"], has_face)
    assert logs["face_bce"] == pytest.approx(float(expected_face), rel=1e-5)
    flipped, _ = lnet_loss(m, {"image": x, "attributes": tags, "has_face": 1 - has_face})
    assert flipped.item() != pytest.approx(loss.item())


def test_stride_16_backbone_drops_the_unused_stages(model):
    names = {
        n.split(".")[1] for n, _ in model.backbone.named_parameters() if n.startswith("blocks")
    }
    assert names == {"0", "1", "2", "3", "4"}


def test_loss_is_bce_on_tags_and_ignores_boxes(model):
    torch.manual_seed(1)
    x = torch.randn(3, 3, 64, 64)
    tags = (torch.rand(3, 40) > 0.5).float()
    loss, logs = lnet_loss(model, {"image": x, "attributes": tags})
    with torch.no_grad():
        expected = F.binary_cross_entropy_with_logits(model(x)["logits"], tags)
    torch.testing.assert_close(loss.detach(), expected)
    assert logs["bce"] == pytest.approx(float(expected))
    boxes = torch.tensor([[0.0, 0, 10, 10]] * 3)
    with_box, _ = lnet_loss(model, {"image": x, "attributes": tags, "box": boxes})
    other_box, _ = lnet_loss(model, {"image": x, "attributes": tags, "box": boxes * 3 + 7})
    assert with_box.item() == loss.item() == other_box.item()
    with pytest.raises(ValueError, match="do not match"):
        lnet_loss(model, {"image": x, "attributes": tags[:, :39]})


def test_a_few_steps_fit_the_tags_of_a_fixed_batch():
    torch.manual_seed(0)
    m = LNet(pretrained="none", num_attributes=8, drop_rate=0.0)
    batch = {"image": torch.randn(4, 3, 48, 48), "attributes": (torch.rand(4, 8) > 0.5).float()}
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        loss, _ = lnet_loss(m, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_registered_builder_and_package_weights():
    from lnet_anet.models.backbones import package_weights_path

    m = create_model("lnet_lite0", pretrained="package", num_attributes=40)
    assert isinstance(m, LNet) and m.attribute_filters.out_channels == 40
    state = torch.load(package_weights_path(), map_location="cpu", weights_only=True)
    own = m.backbone.state_dict()
    for key in ("conv_stem.weight", "blocks.4.2.conv_pwl.weight"):
        torch.testing.assert_close(own[key], state[key])


def test_package_weights_load_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    """Trial 68: with a read-only home (or LNET_ANET_CACHE on a file) every Lite0 training stopped
    in Hydra's OSError(30), naming no path; the weights are used as converted, the folder named."""
    from lnet_anet.models.backbones import package_weights_path

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LNET_ANET_CACHE", str(blocker))
    with pytest.warns(RuntimeWarning, match=f"cannot cache the converted ImageNet weights in {blocker} .*LNET_ANET_CACHE"):
        m = create_model("lnet_lite0", pretrained="package", num_attributes=40)
    monkeypatch.delenv("LNET_ANET_CACHE")
    reference = torch.load(package_weights_path(), map_location="cpu", weights_only=True)
    torch.testing.assert_close(m.backbone.state_dict()["conv_stem.weight"], reference["conv_stem.weight"])


def test_fixed_last_stage_moves_it_into_lower_and_max_pooled_face_logit():
    torch.manual_seed(0)
    m = LNet(pretrained="none", stride=8, neck_channels=16, face_tag=True, response="face",
             tune_last_stage=False, face_pool="max").eval()  # fmt: skip
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        fine, coarse = m.lower(x)
        out = m(x)
        maps = m.attribute_maps(x)
    assert coarse.shape[1] == 112  # the last stage's output: upper() is the neck and filters only
    torch.testing.assert_close(LNetUpper(m)(coarse, fine)["face"], out["face"])
    torch.testing.assert_close(out["face"], maps[:, -1].amax(dim=(1, 2)))
    torch.testing.assert_close(out["logits"], maps[:, :40].mean(dim=(2, 3)))
    with pytest.raises(ValueError, match="face_pool"):
        LNet(pretrained="none", face_tag=True, face_pool="lse")


def test_init_weights_reads_a_bundles_lnet_or_a_run_folder(tmp_path, bundle_path):
    """train_lnet's init_from: a model bundle's LNet weights or a run folder's lnet.safetensors;
    anything else is a ConfigError naming it."""
    from safetensors.torch import save_file

    from lnet_anet.engine.config import ConfigError
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.lnet.training import init_weights

    lnet = load_bundle(bundle_path).lnet
    from_bundle = init_weights(bundle_path)
    assert from_bundle.keys() == lnet.state_dict().keys()
    assert all(torch.equal(from_bundle[k], v) for k, v in lnet.state_dict().items())
    run = tmp_path / "run"
    run.mkdir()
    save_file({k: v.contiguous() for k, v in from_bundle.items()}, str(run / "lnet.safetensors"))
    assert all(torch.equal(init_weights(run)[k], v) for k, v in from_bundle.items())
    assert all(torch.equal(init_weights(run / "lnet.safetensors")[k], v) for k, v in from_bundle.items())  # the file itself
    with pytest.raises(ConfigError, match="init_from=.*nowhere: neither a model bundle"):
        init_weights(tmp_path / "nowhere")
    junk = tmp_path / "junk.lnetanet"
    junk.write_bytes(b"junk")
    with pytest.raises(ConfigError, match="junk.lnetanet: cannot be read"):
        init_weights(junk)
    other = create_model("lnet_lite0", pretrained="none", stride=16, neck_channels=8, face_tag=True)
    with pytest.raises(ConfigError, match=r"its LNet does not fit this model \(\d+ tensors differ"):
        init_weights(bundle_path, other)
    same = create_model("lnet_lite0", pretrained="none", **load_bundle(bundle_path).config["nets"]["lnet"]["kwargs"])
    init_weights(bundle_path, same)  # loaded into the model
    assert all(torch.equal(same.state_dict()[k], v) for k, v in from_bundle.items())


def test_photometric_settings_and_the_recipe_are_checked_before_training(tmp_path):
    """train_lnet's photometric= is checked before any data is read (one ConfigError naming the
    setting), and a run folder that trained with another init_from / photometric refuses a
    relaunch with other ones instead of silently reusing what it trained or cached."""
    from omegaconf import OmegaConf

    from lnet_anet.data.scenes import ScenePhotometric
    from lnet_anet.engine.config import ConfigError
    from lnet_anet.engine.lock import RunRefusedError
    from lnet_anet.lnet.training import (
        SCENE_SETTINGS,
        check_training_scenes,
        record_recipe,
        scene_photometric,
    )

    def cfg(**kw):
        return OmegaConf.create({"scenes": "composed", "init_from": None, "photometric": None, **kw})

    assert scene_photometric(cfg()) is None
    assert isinstance(scene_photometric(cfg(photometric={"p": 1.0, "gain": [0.5, 2]})), ScenePhotometric)
    for bad, message in (({"gian": [0.5, 2]}, r"unknown keys \['gian'\] \(known: p, gain"), (True, "must be a mapping"),
                         ({"gain": 2}, r"gain must be \[low, high\], got 2"), ({"p": "abc"}, "p must be a finite number"),
                         ({"p": 2}, r"p must be in \[0, 1\]")):  # fmt: skip
        with pytest.raises(ConfigError, match=message):
            scene_photometric(cfg(photometric=bad))
    with pytest.raises(ConfigError, match="scenes=wild reads the photos as they are"):
        scene_photometric(cfg(scenes="wild", photometric={"p": 0.5}))
    check_training_scenes(cfg())
    # a fresh-user trial: train_lnet scenes=wild crashed on a missing has_face key after the data was read
    with pytest.raises(ConfigError, match="train_lnet trains on composed scenes.*evaluate_localization"):
        check_training_scenes(cfg(scenes="wild"))
    with pytest.raises(ConfigError, match="scenes must be composed"):
        check_training_scenes(cfg(scenes="composd"))
    run = tmp_path / "run"
    assert record_recipe(run, cfg(photometric={"p": 1.0}))["photometric"] == {"p": 1.0}
    assert record_recipe(run, cfg(photometric={"p": 0.5}))["photometric"] == {"p": 0.5}  # nothing trained yet
    (run / "scenes-fit.npz").write_bytes(b"cached")  # now it has cached scenes of that recipe
    record_recipe(run, cfg(photometric={"p": 0.5}))  # the same recipe resumes
    with pytest.raises(RunRefusedError, match="trained with another recipe \\(photometric differ"):
        record_recipe(run, cfg(photometric={"p": 1.0}))
    with pytest.raises(RunRefusedError, match="trained with another recipe \\(init_from differ"):
        record_recipe(run, cfg(photometric={"p": 0.5}, init_from=str(tmp_path)))
    (run / "recipe.json").unlink()  # a folder trained before recipes were recorded: both null
    with pytest.raises(RunRefusedError, match="another recipe \\(photometric differ"):
        record_recipe(run, cfg(photometric={"p": 0.5}))
    record_recipe(run, cfg())
    # the scenes it trained on: another canvas or share of face-free scenes is refused, not left unused
    scene = {"canvas": 224, "scale_range": [0.15, 0.7], "train_p_empty": 0.3}
    older = {k: v for k, v in json.loads((run / "recipe.json").read_text()).items() if k not in SCENE_SETTINGS}
    (run / "recipe.json").write_text(json.dumps(older))
    record_recipe(run, cfg(**scene))  # a recipe kept before the scene settings: taken as this launch's
    assert json.loads((run / "recipe.json").read_text())["scale_range"] == [0.15, 0.7]
    for key, value in (("canvas", 160), ("scale_range", [0.3, 0.7]), ("train_p_empty", 0.0)):
        with pytest.raises(RunRefusedError, match=f"another recipe \\({key} differ.*{key}: "):
            record_recipe(run, cfg(**{**scene, key: value}))


def test_evaluate_localization_scores_at_the_runs_input_size(monkeypatch):
    """Composed scenes are made at cfg.canvas; a run trained at 160 px is scored at 160 px, not at
    train_lnet's default 224 (its localizer was fitted at 160), and canvas= given on the command
    line that differs from the run's stops with the fix."""
    from omegaconf import OmegaConf

    from lnet_anet.cli import evaluate_localization
    from lnet_anet.engine.config import ConfigError

    cfg = OmegaConf.create({"canvas": 224, "run": "runs/lnet-160"})
    evaluate_localization.use_run_canvas(cfg, 160)
    assert cfg.canvas == 160

    class Given:  # HydraConfig.get() of a launch with canvas=200 on its command line
        overrides = OmegaConf.create({"task": ["run=runs/lnet-160", "canvas=200"]})

    monkeypatch.setattr(evaluate_localization.HydraConfig, "get", staticmethod(lambda: Given))
    cfg.canvas = 200
    with pytest.raises(ConfigError, match="canvas=200: runs/lnet-160 was trained .* at 160 px.*pass canvas=160"):
        evaluate_localization.use_run_canvas(cfg, 160)
