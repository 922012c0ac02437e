"""The LNet_o -> LNet_s cascade: regions, crops, the second stage's fitted localizer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lnet_anet.lnet.cascade import Cascade, evaluate_cascade, fit_refiner, region_responses
from lnet_anet.lnet.localizer import Localizer, collect_responses, score_localization


class _BrightnessNet(torch.nn.Module):
    """A stand-in LNet: the response is the image's brightness pooled to stride 16."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"response": torch.nn.functional.avg_pool2d(x.mean(dim=1, keepdim=True), 16)[:, 0]}


def _scenes(n: int, seed: int) -> list[dict]:
    """160 px scenes: a bright square "face" of 24-64 px anywhere (off the 16 px cell grid) in
    three of four, nothing in the rest."""
    rng = np.random.default_rng(seed)
    images, boxes, flags = torch.zeros(n, 3, 160, 160), [], []
    for i in range(n):
        if i % 4 == 3:
            boxes.append([float("nan")] * 4), flags.append(0.0)
            continue
        side = int(rng.integers(24, 65))
        x0, y0 = (int(v) for v in rng.integers(0, 160 - side, 2))
        images[i, :, y0 : y0 + side, x0 : x0 + side] = 1.0
        boxes.append([x0, y0, x0 + side, y0 + side]), flags.append(1.0)
    return [{"image": images[k : k + 16], "box": torch.tensor(boxes[k : k + 16], dtype=torch.float32),
             "has_face": torch.tensor(flags[k : k + 16])} for k in range(0, n, 16)]  # fmt: skip


def test_regions_are_squares_about_the_box_and_crop_boxes_map_back():
    cascade = Cascade(localizer=Localizer(threshold=0.0), context=2.0, input_size=80)
    (region,) = cascade.regions(torch.tensor([[10.0, 20.0, 30.0, 60.0]]))
    torch.testing.assert_close(region, torch.tensor([-20.0, 0.0, 60.0, 80.0]))
    np.testing.assert_allclose(cascade.to_image(np.array([0, 0, 80, 80]), region), region.numpy())
    np.testing.assert_allclose(cascade.to_image(np.array([20, 20, 40, 40]), region), [0, 20, 20, 40])
    image = torch.zeros(1, 3, 100, 100)
    image[:, :, 40:60, 10:30] = 1.0  # the box [10, 40, 30, 60]
    (crop,) = cascade.crops(image, torch.tensor([0]), cascade.regions(torch.tensor([[10.0, 40.0, 30.0, 60.0]])))
    assert crop.shape == (3, 80, 80) and crop[0, 40, 40] == 1.0 and crop[0, 5, 40] == 0.0  # the face fills the middle
    assert crop[0, 30:50, 30:50].min() > 0.9 and crop[0, :, :15].abs().max() == 0  # left of the image: zeros
    with pytest.raises(ValueError, match="context"):
        Cascade(localizer=Localizer(threshold=0.0), context=0.5)
    assert Cascade(localizer={"threshold": 0.0, "box_level": 0.2}).localizer.box_level == 0.2  # from JSON


def test_the_second_look_places_boxes_better_than_the_first_and_keeps_its_decisions():
    net, first = _BrightnessNet(), Localizer(threshold=0.05, min_size=16, box_level=0.5)
    cascade = Cascade(localizer=first, context=2.0, input_size=160)
    regions = region_responses(cascade, net, _scenes(96, 0), first)
    assert len(regions.maps) == 72 and regions.has_face.all()  # one region per face scene found
    refiner, levels = fit_refiner(regions, first, [0.3, 0.5])
    assert refiner.threshold == 0.0 and refiner.box_model is not None and set(levels) == {"0.3", "0.5"}
    cascade = Cascade(localizer=refiner, context=2.0, input_size=160)
    val = _scenes(96, 1)
    one = score_localization(collect_responses(net, val), first)
    two = evaluate_cascade(net, cascade, first, val)
    assert two["empty_image_rate"] == one["empty_image_rate"] == 1.0  # the first stage decides
    assert two["recall"] >= one["recall"] and two["mean_iou"] > one["mean_iou"] + 0.05
