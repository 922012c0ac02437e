"""Diagnostic (issue 15): does normalising exposure at test time steady the outputs? Runs
benchmarks/bench_end_to_end.py with the Predictor patched, nothing shipped changes.

    EXPO_T=138 [EXPO_ALPHA=1] [EXPO_PHOTO=118] python experiments/2026-12-01-exposure/expo.py BENCH_ARGS...

EXPO_T: each face crop (ANet's, the age and attractiveness nets') is multiplied by
(T / m) ** EXPO_ALPHA, m its central half's mean luma (ITU-R 601), the gain clipped to
[0.4, 4]. EXPO_PHOTO: the photo LNet reads is multiplied so that its mean luma is EXPO_PHOTO
(the crops still come from the photo as given). Unset: off. The targets are medians over
400 random train-partition files of celeba_hq128 and UTKFace (central crop luma 137-140;
whole image 111-125).
"""

import os
import runpy
import sys

import numpy as np

import lnet_anet.inference.predictor as P

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def gain(img: np.ndarray, target: float, mean: float, alpha: float = 1.0) -> np.ndarray:
    g = np.clip((target / max(mean, 1.0)) ** alpha, 0.4, 4.0)
    return np.clip(img.astype(np.float32) * g + 0.5, 0, 255).astype(np.uint8)


if os.environ.get("EXPO_T"):
    target, alpha, crops_of = float(os.environ["EXPO_T"]), float(os.environ.get("EXPO_ALPHA", "1")), P._crops

    def central(c: np.ndarray) -> float:
        a, b = c.shape[0] // 4, c.shape[0] - c.shape[0] // 4
        return float((c[a:b, a:b].astype(np.float32) @ LUMA).mean())

    P._crops = lambda faces, enlarge, size: np.stack([gain(c, target, central(c), alpha)
                                                      for c in crops_of(faces, enlarge, size)])
if os.environ.get("EXPO_PHOTO"):
    photo_target, detect = float(os.environ["EXPO_PHOTO"]), P.Predictor._detect

    def _detect(self, images, analyses):
        return detect(self, [gain(i, photo_target, float((i[::4, ::4].astype(np.float32) @ LUMA).mean()))
                             for i in images], analyses)

    P.Predictor._detect = _detect
sys.argv = ["bench_end_to_end.py"] + sys.argv[1:]
runpy.run_path("benchmarks/bench_end_to_end.py", run_name="__main__")
