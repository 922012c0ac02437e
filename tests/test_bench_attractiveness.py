"""benchmarks/bench_attractiveness.py's command line and report (a fresh-user trial's findings)."""

from __future__ import annotations

import argparse

import numpy as np

from tests._bench import load_benchmark


def test_every_option_has_help_and_says_its_default():
    from lnet_anet.cli.arguments import DefaultsHelpFormatter

    parser = load_benchmark("bench_attractiveness").build_parser()
    formatter = DefaultsHelpFormatter(parser.prog)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{action.option_strings[0]}: no help"
        if not action.required:
            shown = formatter._expand_help(action)
            assert "default" in shown.lower(), f"{action.option_strings[0]}: its default is not said: {shown}"


def test_the_report_counts_images_as_integers_and_leaves_out_an_unmeasured_paste_gap():
    bench = load_benchmark("bench_attractiveness")
    rng = np.random.default_rng(0)
    true = rng.uniform(1, 5, 20)
    model = bench.metrics(true + rng.normal(0, 0.2, 20), true)
    assert model["n"] == 20 and isinstance(model["n"], int)
    groups = {"AF": {"n": 20, "mae": 0.2, "bias": 0.01}}
    results = {"model": model, "model_all_images": model, "baseline_constant": {**model, "by_group": groups},
               "anchor": bench.ANCHOR, "no_face_share": 0.0, "by_group": groups,
               "per_fold": {1: {"images": 20, "no_face": 0, "seconds": 1.0, **model}},
               "paste_gap": {"images": 0, "background": "640x480 generated smooth noise", "found_in_pasted": 0.0,
                             "mean_abs_gap": None, "mean_gap": None, "p90_abs_gap": None,
                             "pearson_aligned_vs_pasted": None, "mae_pasted_vs_truth": None},
               "targets": {}}  # fmt: skip
    text = bench.render(results)
    assert "| **DLDL-v2 head (this record)** | 20 |" in text and "20.0" not in text
    assert "Paste gap" not in text  # --paste 0
    results["paste_gap"] |= {"images": 3, "found_in_pasted": 1.0, "mean_abs_gap": 0.1}
    assert "Paste gap (3 images, " in bench.render(results)


def test_the_feature_predictor_keeps_each_faces_feature_when_the_face_filter_reads_anet_too(tmp_path):
    """Predictor's face filter and face head call _face_features with more arguments than the
    benchmark's override took: every image failed (a fresh-user trial, session 56)."""
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.face_head import FaceHead

    bench = load_benchmark("bench_attractiveness")
    bundle = load_bundle(random_bundle(tmp_path / "b.lnetanet", threshold=0.0, preset="tiny", max_faces=2))
    bundle.preprocessing["lnet"] |= {"rescue_faces": [0.0, 0.0], "verify_faces": [1e6, 0.0]}  # every face judged
    d = bundle.svm.feature_dim  # a face head of this bundle's ANet that passes every face
    head = FaceHead(np.zeros(d), np.ones(d), np.zeros(d), 0.0, anet=bundle.part_digest("anet"))
    predictor = bench.FeaturePredictor(bundle, face_head=head, backend="torch")
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    faces = predictor.analyse(image).record["faces"]
    assert faces and all(f["_feature"].shape == (bundle.svm.feature_dim,) for f in faces)
