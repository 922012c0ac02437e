"""The stage entry points end to end on synthetic data (Hydra configs, run folders, resume)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = ["train=smoke", "model.pretrained=none", "train.batch_size=16", "data.index.n_images=240",
         "data.index.n_identities=40"]  # fmt: skip


def run(module: str, *overrides: str, runs: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", module, f"paths.runs={runs}", *overrides]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="session")
def anet_run(tmp_path_factory) -> Path:
    """An ANet run trained on synthetic data (SMOKE), once per test worker; the three tests below
    each take one branch from it, so that the branches share the workers. Its runs folder (the
    parent) holds the synthetic data too (a run is tied to its data's folder: a copy elsewhere is
    refused), so the test that resumes it writes into it: what it redoes (the SVM step, one more
    evaluation folder) leaves the ANet the other tests read as it was."""
    runs = tmp_path_factory.mktemp("anet-runs")
    run("lnet_anet.cli.train_anet", "data=synthetic", "name=anet", "svm.C=[0.1]", *SMOKE, runs=runs)
    return runs / "anet"


@pytest.mark.slow
def test_anet_run_resumes_refuses_another_layout_and_is_scored(anet_run, launch):
    anet, tmp_path = anet_run, anet_run.parent
    for name in ("anet.safetensors", "svm.safetensors", "model.json", "patches.json", "data.json",
                 "eval.md", ".hydra/config.yaml", "pretrain/checkpoints/last.pt", "finetune/metrics.jsonl"):  # fmt: skip
        assert (anet / name).exists(), name
    # the SVMs' file as readable as the weights beside it (safetensors alone writes 0600)
    assert (anet / "svm.safetensors").stat().st_mode & 0o777 == (anet / "anet.safetensors").stat().st_mode & 0o777
    summary = json.loads((anet / "eval.json").read_text())
    assert 0 <= summary["svm"]["mean_accuracy"] <= 1 and summary["svm"]["n_images"] > 10
    assert set(summary["svm_per_attribute"]) == set(json.loads((anet / "data.json").read_text())["attributes"])
    # The thresholds' balance weight: the best tune balanced accuracy within 0.005 of the best tune accuracy.
    tune, chosen = summary["svm_balance_weight"]["tune"], summary["svm_balance_weight"]["chosen"]
    most = max(t["mean_accuracy"] for t in tune.values())
    eligible = {w: t for w, t in tune.items() if t["mean_accuracy"] >= most - 0.005}
    assert tune[str(chosen)]["mean_balanced_accuracy"] == max(t["mean_balanced_accuracy"] for t in eligible.values())

    # Re-running finds each stage done and only redoes the cheap SVM step.
    again = run("lnet_anet.cli.train_anet", "data=synthetic", "name=anet", "svm.C=[0.1]", *SMOKE, runs=tmp_path)
    assert "stage finetune: done before" in again.stderr + again.stdout or "done before" in (anet / "train_anet.log").read_text()
    # ... and another patch layout is refused: its stages would load as they were, under a patches.json they never saw
    code, err = launch("lnet_anet.cli.train_anet", f"paths.runs={tmp_path}", "data=synthetic", "name=anet", "svm.C=[0.1]",
                       *SMOKE, "patches.canonical_size=144")  # fmt: skip
    assert code == 2 and "patches.canonical_size: 160 -> 144" in err, err[-2000:]
    # the run's log says why that launch ended, as the terminal did (the folder is kept: it holds a trained run)
    assert err.strip().splitlines()[-1] in (anet / "train_anet.log").read_text().splitlines()[-1]
    assert json.loads((anet / "patches.json").read_text())["canonical_size"] == 160

    run("lnet_anet.cli.evaluate_attributes", "data=synthetic", f"run={anet}", "num_workers=0",
        "data.index.n_images=240", "data.index.n_identities=40", runs=tmp_path)  # fmt: skip
    # a rerun keeps the figures before it: one folder per launch; with no data=, the data the run was
    # trained on (its .hydra record), not the config's default celeba_hq
    said = run("lnet_anet.cli.evaluate_attributes", f"run={anet}", "num_workers=0", runs=tmp_path).stderr
    assert "note: scoring on the data" in said and "data=synthetic data.index.n_images=240" in said, said[-2000:]
    reports = sorted(anet.glob("eval-attributes-synthetic-val/*/attributes.md"))
    assert len(reports) == 2 and reports[0].read_text() == reports[1].read_text()
    assert "majority class" in reports[0].read_text() and "Smiling" in reports[0].read_text()


@pytest.mark.slow
def test_svms_refitted_on_boxed_crops_replace_a_bundles_anet(anet_run, capsys, launch):
    """The run's SVMs refitted on boxed crops of its faces (the cascade's fit_svms), ANet unchanged,
    then put into a bundle in place of its ANet and SVMs."""
    anet, runs = anet_run, anet_run.parent
    images = sorted((runs / "synthetic-data" / "seed0" / "img_align_celeba").iterdir())
    boxes = runs / "boxes.csv"
    boxes.write_text("name,x0,y0,x1,y1\n" + "".join(f"{p.name},6,4,58,60\n" for p in images))
    fit = ["data=synthetic", f"anet_from={anet}", "svm.C=[0.1]", "data.crop=box", f"data.boxes={boxes}",
           "data.index.n_images=240", "data.index.n_identities=40", "train.batch_size=16", "train.num_workers=0"]
    run("lnet_anet.cli.fit_svms", *fit, "data.enlarge=1.0", "name=svms", runs=runs)
    svms = runs / "svms"
    assert json.loads((svms / "source.json").read_text())["crop"] == "box"
    assert {"features-fit.npz", "features-tune.npz", "features-eval.npz", "svm.safetensors"} <= {p.name for p in svms.iterdir()}
    assert json.loads((svms / "eval.json").read_text())["svm"]["n_images"] > 10
    code, err = launch("lnet_anet.cli.fit_svms", f"paths.runs={runs}", *fit, "data.enlarge=1.3", "name=svms-bad")
    assert code == 2 and "predictor's; pass data.enlarge=1.0 (" in err.strip().splitlines()[-1], err
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.inference.build import random_bundle
    from lnet_anet.inference.bundle import load_bundle

    base = random_bundle(runs / "base-svms.lnetanet", threshold=0.0, max_faces=1)
    # the folder's cached features are its ANet's: another anet_from is refused, not fitted on them
    code, err = launch("lnet_anet.cli.fit_svms", f"paths.runs={runs}", *fit, "data.enlarge=1.0", "name=svms",
                       f"anet_from={base}")  # fmt: skip
    assert code == 2 and "trained from another ANet (anet_sha1" in err, err
    assert json.loads((svms / "source.json").read_text())["anet_from"] == str(anet)
    assert build_main(["--from-bundle", str(base), "--anet", str(svms), "--out", str(runs / "new.lnetanet")]) == 0
    new = load_bundle(runs / "new.lnetanet")
    assert new.config["provenance"]["built"]["replaced"] == ["anet"]
    assert new.preprocessing["anet"] == json.loads((svms / "patches.json").read_text())
    assert new.preprocessing["lnet"] == load_bundle(base).preprocessing["lnet"]


@pytest.mark.slow
def test_age_head_on_an_anet_runs_features_goes_only_with_that_anet(anet_run, capsys, launch):
    anet, runs = anet_run, anet_run.parent
    from lnet_anet.cli.build_bundle import main as build_main
    from lnet_anet.inference.build import random_bundle

    run("lnet_anet.cli.train_dldl_head", "data=synthetic_age", f"anet_run={anet}", "name=age-head",
        "train.epochs=3", "train.batch_size=32", "data.index.n_images=240", "data.index.n_identities=40",
        runs=runs)  # fmt: skip
    age = json.loads((runs / "age-head" / "eval.json").read_text())
    assert age["mae"] < 40 and (runs / "age-head" / "features-train.npz").exists()
    head_input = json.loads((runs / "age-head" / "preprocess.json").read_text())
    assert head_input["input"] == "anet_features" and head_input["anet_run"] == str(anet.resolve())
    # a head on ANet's features goes only with the ANet it was trained on: the run's own ANet is
    # accepted, the random bundle's ANet is refused, naming the head's record
    base = random_bundle(runs / "base-age.lnetanet", threshold=0.0, max_faces=1)
    assert build_main(["--from-bundle", str(base), "--anet", str(anet), "--age", str(runs / "age-head"),
                       "--out", str(runs / "with-age.lnetanet")]) == 0  # fmt: skip
    assert build_main(["--from-bundle", str(base), "--age", str(runs / "age-head"),
                       "--out", str(runs / "wrong.lnetanet")]) == 1  # fmt: skip
    assert "trained on the features of another ANet" in capsys.readouterr().err and not (runs / "wrong.lnetanet").exists()
    # ... and its run folder refuses another anet_run rather than reusing the first ANet's cached features
    code, err = launch("lnet_anet.cli.train_dldl_head", f"paths.runs={runs}", "data=synthetic_age", f"anet_run={base}",
                       "name=age-head", "train.epochs=3", "data.index.n_images=240", "data.index.n_identities=40")  # fmt: skip
    assert code == 2 and "anet.weights_sha1:" in err, err[-2000:]


@pytest.mark.slow
def test_anet_dldl_trains_the_age_layers_from_an_attribute_run(anet_run):
    runs = anet_run.parent
    # ANet's layers trained for age from the attribute run's: its C3/C4 sizes (conf/model/anet.yaml's)
    # are taken from the run, whatever conf/model/anet_dldl.yaml says.
    run("lnet_anet.cli.train_anet_dldl", "data=synthetic_age", f"init_from={anet_run}", "name=age-anet",
        "model.pretrained=none", "model.mirror=true", "train=smoke",
        "train.batch_size=16", "data.index.n_images=240", "data.index.n_identities=40",
        "framings=[{zoom: 1.5, fill: blur, jitter: 0.05, flip: true}]", "balance={edges: [0, 30, 101], power: 0.5}",
        "augmented_views=1", runs=runs)  # fmt: skip
    out = runs / "age-anet"
    assert {"trunk-train.npz", "trunk-train-mirror.npz", "trunk-val.npz", "trunk-val-mirror.npz", "model.safetensors",
            "eval.md", "trunk-train-zoom1.5-blur-j0.05-flip.npz", "trunk-train-aug0.npz"} <= {p.name for p in out.iterdir()}
    import numpy as np

    plain, drawn = np.load(out / "trunk-train.npz"), np.load(out / "trunk-train-aug0.npz")
    assert np.array_equal(plain["index"], drawn["index"]) and not np.array_equal(plain["maps"], drawn["maps"])
    result = json.loads((out / "eval.json").read_text())
    assert result["split"] == "val" and result["n"] > 10 and 0 <= result["mae"] < 60
    assert json.loads((out / "preprocess.json").read_text())["image_size"] == 160
    spec = json.loads((out / "model.json").read_text())
    assert spec["model"] == "anet_dldl" and (spec["kwargs"]["c3_channels"], spec["kwargs"]["c4_channels"]) == (96, 128)


@pytest.mark.slow
def test_anet_caches_the_frozen_stages_and_trains_block_2_above_them(tmp_path, launch):
    """model.frozen_stages=3: the maps below block 2 are cached once; block 2 and the upper
    layers train on them; the stem and blocks 0-1 keep their ImageNet weights. patches.mirror:
    the SVMs see each face's mirror view too."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from lnet_anet.models.backbones import package_weights_path

    run("lnet_anet.cli.train_anet", "data=synthetic", "name=anet3", "svm.C=[0.1]", "pretrain.epochs=0",
        "model.frozen_stages=3", "patches.mirror=true", *[o for o in SMOKE if o != "model.pretrained=none"],
        runs=tmp_path)  # fmt: skip
    out = tmp_path / "anet3"
    assert (out / "stage3-eval-mirror.npz").exists() and json.loads((out / "patches.json").read_text())["mirror"]
    cache = np.load(out / "stage3-fit.npz")
    assert cache["maps"].shape[1:] == (24, 36, 36)  # block 1's output for the 160 px canonical crop
    assert not (out / "trunk-fit.npz").exists()
    trained = load_file(str(out / "anet.safetensors"))
    imagenet = torch.load(package_weights_path(), map_location="cpu", weights_only=True)
    torch.testing.assert_close(
        trained["trunk.blocks.1.0.conv_pw.weight"], imagenet["blocks.1.0.conv_pw.weight"]
    )
    assert not torch.equal(
        trained["trunk.blocks.2.0.conv_pw.weight"], imagenet["blocks.2.0.conv_pw.weight"]
    )
    assert json.loads((out / "eval.json").read_text())["svm"]["n_images"] > 10

    # Trained further from that run on image patches with photometric draws (experiment=anet_photometric's
    # recipe): the stem and blocks 0-1 still ImageNet's, block 2 moved on from the run it started from.
    photo = ["data=synthetic", "svm.C=[0.1]", "pretrain.epochs=0", "model.frozen_stages=3", f"init_from={out}",
             "photometric={p: 1.0, p_gray: 0.5, p_jpeg: 0.5}", *[o for o in SMOKE if o != "model.pretrained=none"]]
    code, err = launch("lnet_anet.cli.train_anet", f"paths.runs={tmp_path}", *photo, "name=anet3-cached")
    assert code != 0 and "add cache_trunk=false" in err
    done = run("lnet_anet.cli.train_anet", *photo, "cache_trunk=false", "name=anet3-photo", runs=tmp_path)
    assert "ANet weights loaded" in done.stderr + (tmp_path / "anet3-photo" / "train_anet.log").read_text()
    further = load_file(str(tmp_path / "anet3-photo" / "anet.safetensors"))
    torch.testing.assert_close(further["trunk.blocks.1.0.conv_pw.weight"], imagenet["blocks.1.0.conv_pw.weight"])
    assert not torch.equal(further["trunk.blocks.2.0.conv_pw.weight"], trained["trunk.blocks.2.0.conv_pw.weight"])
    assert not (tmp_path / "anet3-photo" / "stage3-fit.npz").exists()  # patches, not cached maps
    assert json.loads((tmp_path / "anet3-photo" / "eval.json").read_text())["svm"]["n_images"] > 10


@pytest.mark.slow
def test_dldl_entry_point_writes_report_and_model(tmp_path, launch):
    run("lnet_anet.cli.train_age", "data=synthetic_age", "name=age", "model=tiny_age_net", "data.image_size=32",
        *[o for o in SMOKE if o != "model.pretrained=none"], runs=tmp_path)  # fmt: skip
    out = tmp_path / "age"
    assert json.loads((out / "model.json").read_text())["model"] == "tiny_age_net"
    assert "age band" in (out / "eval.md").read_text()
    assert "bias: mean of predicted - true, in years (> 0: predicted higher)" in (out / "eval.md").read_text()
    result = json.loads((out / "eval.json").read_text())
    assert result["n"] > 0
    import pandas as pd

    preds = pd.read_csv(out / "predictions.csv")  # one row per scored face, named by its file
    assert len(preds) == result["n"] and preds["image"].str.fullmatch(r"[^/]+\.(jpg|png)").all()
    assert abs((preds["pred"] - preds["true"]).abs().mean() - result["mae"]) < 1e-4

    # Choosing settings: train on the fit part of train with a looser framing drawn per sample, score the tune part.
    run("lnet_anet.cli.train_age", "data=synthetic_age", "name=age-tune", "model=tiny_age_net", "data.image_size=32",
        "tune_split={frac: 0.3, seed: 1}", "framings=[{zoom: 1.5, fill: blur, photometric: {gray: true}}]",
        *[o for o in SMOKE if o != "model.pretrained=none"], runs=tmp_path)  # fmt: skip
    tune = pd.read_csv(tmp_path / "age-tune" / "predictions.csv")
    assert len(tune) > 0 and not set(tune["image"]) & set(preds["image"])  # train faces, none of the val part's
    assert json.loads((tmp_path / "age-tune" / "eval.json").read_text())["split"] == "tune"
    assert (tmp_path / "age-tune" / "eval.md").read_text().startswith(f"age on the tune split ({len(tune)} faces)")
    # The same folder refuses other training settings: its tune part would hold faces it trained on.
    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={tmp_path}", "data=synthetic_age", "name=age-tune",
                       "model=tiny_age_net", "data.image_size=32", "tune_split={frac: 0.5, seed: 7}",
                       "framings=[{zoom: 1.5, fill: blur, photometric: {gray: true}}]",
                       *[o for o in SMOKE if o != "model.pretrained=none"])  # fmt: skip
    assert code != 0 and "with other training settings (tune_split differ" in err
    assert json.loads((tmp_path / "age-tune" / "recipe.json").read_text())["tune_split"] == {"frac": 0.3, "seed": 1}


@pytest.mark.slow
def test_lnet_entry_points_train_calibrate_and_evaluate(tmp_path, launch):
    lnet_args = ["data=synthetic", "canvas=96", "calibration_images=16", "eval_images=16", "train_fraction=1.0",
                 "data.index.n_images=120", "data.index.n_identities=20"]  # fmt: skip
    # experiment=smoke_lnet (the README's first LNet run): 16 tune scenes are too few to fit box models
    # (tests/test_localization.py and test_cascade.py fit them): box_scale instead, and one stage.
    run("lnet_anet.cli.train_lnet", "name=lnet", "experiment=smoke_lnet", *lnet_args,
        "+localizer.search.box_scale=[1.0,1.5]", "model.pretrained=none", runs=tmp_path)  # fmt: skip
    out = tmp_path / "lnet"
    localizer = json.loads((out / "localizer.json").read_text())
    assert localizer["input_size"] == 96 and localizer["threshold"] == json.loads((out / "eval.json").read_text())["threshold"]
    assert (out / "eval_grid.png").stat().st_size > 1000
    # no data= (nor the run's canvas): the data and size the run was trained at, from its records
    run("lnet_anet.cli.evaluate_localization", f"run={out}", "images=8", runs=tmp_path)
    metrics = json.loads(next(out.glob("eval-localization-synthetic-val/*/localization.json")).read_text())
    assert {"recall", "mean_iou", "false_positives_per_image", "empty_image_rate"} <= set(metrics)
    # the finished run relaunched with another train.lr: refused (nothing would train with it), its record kept
    code, err = launch("lnet_anet.cli.train_lnet", f"paths.runs={tmp_path}", "name=lnet", "experiment=smoke_lnet",
                       *lnet_args, "+localizer.search.box_scale=[1.0,1.5]", "model.pretrained=none", "train.lr=0.5")
    assert code == 2 and "LNet finished training with other train settings (lr " in err
    assert "train.lr=0.5" not in (out / ".hydra" / "overrides.yaml").read_text()


@pytest.mark.slow
def test_lnet_cached_scenes_train_only_the_upper_part(tmp_path):
    """cache_scenes: fixed scenes, the lower part's maps cached, the ImageNet lower part kept
    (here the last stage trains too: model.tune_last_stage)."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from lnet_anet.models.backbones import package_weights_path

    run("lnet_anet.cli.train_lnet", "name=cached", "data=synthetic", "canvas=96", "cache_scenes=40", "train_p_empty=0.3",
        "calibration_images=16", "eval_images=16", "data.index.n_images=120", "data.index.n_identities=20",
        "model.stride=8", "model.neck_channels=16", "model.face_tag=true", "model.tune_last_stage=true",
        "localizer.fit_box=false", "cascade.enabled=false", "tune_curve=true",
        *[o for o in SMOKE[:3] if o != "model.pretrained=none"], runs=tmp_path)  # fmt: skip
    out = tmp_path / "cached"
    # tune_curve: the localizer fitted on the tune scenes at each evaluation, its figures logged (trial 83)
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    curve = [m for m in logged if "val/tune_recall" in m]
    assert curve and all(0 <= m["val/tune_recall"] <= 1 and m["val/tune_false_positives_per_image"] >= 0 for m in curve)
    assert (out / "curves.png").stat().st_size > 1000
    cache = np.load(out / "scenes-fit.npz")
    assert cache["image"].shape[0] == cache["fine"].shape[0] == 40 == len(cache["has_face"])
    assert set(np.unique(cache["has_face"])) == {0.0, 1.0}
    assert (cache["attributes"][cache["has_face"] == 0] == 0).all()
    trained = load_file(str(out / "lnet.safetensors"))
    imagenet = torch.load(package_weights_path(), map_location="cpu", weights_only=True)
    torch.testing.assert_close(trained["backbone.blocks.3.0.conv_pw.weight"], imagenet["blocks.3.0.conv_pw.weight"])
    assert not torch.equal(trained["backbone.blocks.4.0.conv_pw.weight"], imagenet["blocks.4.0.conv_pw.weight"])
    assert trained["attribute_filters.weight"].shape[0] == 41
    evaluation = json.loads((out / "eval.json").read_text())
    assert evaluation["n_empty"] > 0 and set(evaluation["by_response"]) == {"face", "attributes"}
    chosen = json.loads((out / "model.json").read_text())["kwargs"]["response"]  # picked on the tune scenes
    tune = evaluation["tune_by_response"]
    assert tune[chosen]["recall"] - tune[chosen]["false_positives_per_image"] == max(
        t["recall"] - t["false_positives_per_image"] for t in tune.values())
    assert evaluation["by_response"][chosen]["recall"] == evaluation["recall"]


@pytest.mark.parametrize("name", ["fit_descriptor_head", "ensemble_dldl", "lnet_boxes", "demo"])
def test_help_names_the_command_as_it_is_run(name, capsys):
    """--help prints `python -m lnet_anet.cli.<name>` as the program (not `<name>.py`) and,
    for fit_descriptor_head, its whole first paragraph and readable default folders."""
    import importlib

    main = importlib.import_module(f"lnet_anet.cli.{name}").main
    try:
        code = main(["--help"])
    except SystemExit as e:
        code = e.code
    assert code == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: python -m lnet_anet.cli.{name} ")
    if name == "fit_descriptor_head":
        flat = " ".join(text.split())
        assert "or age on UTKFace's train part." in flat
        assert "PosixPath" not in text and "attractiveness: " in flat and "UTKFace)" in flat


HYDRA_COMMANDS = ["train_lnet", "train_anet", "fit_svms", "train_age", "train_anet_dldl", "train_dldl_head",
                  "evaluate_attributes", "evaluate_localization"]  # fmt: skip
# --config-name configs of train_age / train_anet_dldl / train_dldl_head, each with its own --help header
ATTRACTIVENESS_CONFIGS = ["train_attractiveness", "train_attractiveness_anet", "train_attractiveness_head"]
COMMAND_OF_CONFIG = dict(zip(ATTRACTIVENESS_CONFIGS, ["train_age", "train_anet_dldl", "train_dldl_head"], strict=True))


def test_hydra_commands_help_says_what_each_does():
    """Each Hydra command's --help opens with its name, what it does and how it is run (its
    config's hydra.help.header), not Hydra's generic line; one is run for real."""
    from hydra import compose, initialize_config_dir

    import lnet_anet

    conf = str(Path(lnet_anet.__file__).parent / "conf")
    headers = {}
    with initialize_config_dir(config_dir=conf, version_base="1.3"):
        for name in HYDRA_COMMANDS:
            headers[name] = compose(name, return_hydra_config=True).hydra.help.header
    for name, header in headers.items():
        assert header.startswith(f"{name}: ") and f"python -m lnet_anet.cli.{name} " in header
    assert len(set(headers.values())) == len(HYDRA_COMMANDS)  # each its own, none inherited
    shown = subprocess.run([sys.executable, "-m", "lnet_anet.cli.train_anet_dldl", "--help"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert shown.startswith(headers["train_anet_dldl"].splitlines()[0]) and "Choices (group=option" in shown
    assert "lnet_paper" not in shown  # another command's option: Hydra's own list would name it


def _choices(header: str) -> dict[str, list[str]]:
    """The "Choices" block of a command's help header: {group: [options, the default first]}."""
    block = header.split("Choices (group=option; the default first):\n", 1)[1]
    return {group.strip(): [o.strip() for o in options.split(",")]
            for group, options in (line.split(":", 1) for line in block.splitlines() if line.strip())}  # fmt: skip


def test_hydra_commands_help_lists_the_choices_that_compose_with_them():
    """Each choice a command's --help offers composes with that command and builds its network,
    its default is listed first, and every option file under conf/ (but paths and hydra) is
    offered by some command."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    import lnet_anet
    from lnet_anet.engine.runs import _check_experiment_command

    conf = Path(lnet_anet.__file__).parent / "conf"
    offered: set[str] = set()
    built: set[str] = set()  # each network once: several commands offer the same model option
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        for name in [*HYDRA_COMMANDS, *ATTRACTIVENESS_CONFIGS]:
            cfg = compose(name, return_hydra_config=True)
            choices, defaults = _choices(cfg.hydra.help.header), cfg.hydra.runtime.choices
            for group, options in choices.items():
                assert options[0] == (defaults.get(group) or "(none)"), (name, group)
                for option in options[1:] if options[0] == "(none)" else options:
                    cfg = compose(name, overrides=[f"{group}={option}"])  # raises for an option that does not fit
                    _check_experiment_command(cfg, COMMAND_OF_CONFIG.get(name, name))  # a recipe it would refuse
                    network = OmegaConf.to_yaml(cfg.model) if "model" in cfg else ""
                    if group in ("model", "experiment", "input") and network and network not in built:  # it builds
                        built.add(network)
                        instantiate({**OmegaConf.to_container(cfg.model, resolve=False), "pretrained": "none"}
                                    if "pretrained" in cfg.model else cfg.model)  # fmt: skip
                    offered.add(f"{group}/{option}")
    files = {str(f.relative_to(conf).with_suffix("")) for f in conf.glob("*/**/*.yaml")}
    unlisted = files - offered - {f for f in files if f.startswith(("paths/", "hydra/"))}
    assert not unlisted, (f"option files no command's --help offers: {sorted(unlisted)}; list each in the "
                          "hydra.help.header of the commands that take it (conf/<command>.yaml, CONTRIBUTING.md)")


def test_fit_descriptor_head_names_a_missing_dataset_folder(tmp_path, capsys):
    from lnet_anet.cli.fit_descriptor_head import main

    missing = tmp_path / "SCUT"
    assert main(["--root", str(missing), "--out", str(tmp_path / "h.safetensors")]) == 1
    assert capsys.readouterr().err == f"error: {missing}: no such folder; pass --root DIR (your copy of the dataset)\n"


def test_evaluate_attributes_names_a_framing_the_run_was_not_trained_on(tmp_path):
    """SVMs fitted on LNet's box crops (fit_svms: data.crop=box, data.boxes=CSV) would score
    lower on the full aligned images evaluate_attributes reads by default: it says so."""
    from omegaconf import OmegaConf

    from lnet_anet.cli.evaluate_attributes import framing_differences

    run = tmp_path / "svms"
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"paths": {"runs": "runs"},
                                     "data": {"crop": "box", "boxes": "${paths.runs}/boxes.csv", "enlarge": 1.1}}),
                   run / ".hydra" / "config.yaml")  # fmt: skip
    default = OmegaConf.create({"crop": "full", "boxes": None, "enlarge": 1.1})
    assert framing_differences(run, default) == ["data.crop=box", "data.boxes=runs/boxes.csv"]
    assert framing_differences(run, OmegaConf.create({"crop": "box", "boxes": "runs/boxes.csv", "enlarge": 1.1})) == []
    assert framing_differences(tmp_path / "no-config", default) == []
    lfwa = OmegaConf.create({"name": "lfwa", "crop": "full", "boxes": None, "enlarge": 1.1})
    OmegaConf.save(OmegaConf.create({"data": {"name": "celeba_hq128", "crop": "box", "boxes": "b.csv", "enlarge": 1.1}}),
                   run / ".hydra" / "config.yaml")  # fmt: skip
    assert framing_differences(run, lfwa) == ["data.crop=box", "data.boxes=CSV"]  # not CelebA-HQ's boxes
    # a run trained on whole images: its config's unused boxes / enlarge defaults are no difference (a trial)
    OmegaConf.save(OmegaConf.create({"data": {"crop": "full", "boxes": "b.csv", "enlarge": 1.1}}), run / ".hydra" / "config.yaml")
    assert framing_differences(run, OmegaConf.create({"crop": "full", "boxes": None, "enlarge": 1.0})) == []
    assert framing_differences(run, OmegaConf.create({"crop": "box", "boxes": None, "enlarge": 1.0})) == ["data.crop=full"]


def test_evaluate_attributes_records_the_framing_it_scored_with(tmp_path):
    """attributes.json and attributes.md say how the faces were cut (data.crop; with crop=box the
    boxes CSV and data.enlarge), so that two eval folders of one run can be told apart."""
    from omegaconf import OmegaConf

    from lnet_anet.cli.evaluate_attributes import framing_of, write_report

    metrics = {"mean_accuracy": 0.76, "mean_balanced_accuracy": 0.7, "majority_mean_accuracy": 0.6, "n_images": 8,
               "per_attribute": {"Smiling": {"accuracy": 0.75, "balanced_accuracy": 0.7, "majority_accuracy": 0.6,
                                             "positive_rate": 0.4}}}  # fmt: skip
    full = OmegaConf.create({"crop": "full", "boxes": None, "enlarge": 1.1})
    boxed = OmegaConf.create({"crop": "box", "boxes": "runs/boxes.csv", "enlarge": 1.1})
    assert framing_of(full) == {"crop": "full"}  # the whole image: boxes and enlarge are not read
    assert framing_of(boxed) == {"crop": "box", "boxes": "runs/boxes.csv", "enlarge": 1.1}
    for name, cfg in (("full", full), ("box", boxed)):
        (tmp_path / name).mkdir()
        scored = write_report(tmp_path / name, metrics, "run on celeba val", framing_of(cfg))
        assert json.loads((tmp_path / name / "attributes.json").read_text()) == scored == {**metrics,
                                                                                         "framing": framing_of(cfg)}
    assert (tmp_path / "box" / "attributes.md").read_text().startswith(
        "# run on celeba val\n\nFaces framed as data.crop=box data.boxes=runs/boxes.csv data.enlarge=1.1.\n\n8 images.")
    assert "Faces framed as data.crop=full.\n" in (tmp_path / "full" / "attributes.md").read_text()
    assert "| Smiling | 0.7500 |" in (tmp_path / "full" / "attributes.md").read_text()


ARGPARSE_COMMANDS = ["predict", "demo", "build_bundle", "ensemble_dldl", "fit_descriptor_head", "fit_localizer",
                     "fit_upright", "fit_face_head", "fit_box_head", "fit_check_map", "lnet_boxes", "fit_std_scale",
                     "predict_video", "plot_run"]  # fmt: skip
# Every argparse command answers --help without loading torch (well under a second)
LIGHT_HELP = ARGPARSE_COMMANDS


def test_help_of_the_light_commands_loads_no_torch():
    """`python -m lnet_anet.cli.X --help` of each LIGHT_HELP command prints its help without
    importing torch, torchvision or timm (each costs seconds on a cold start)."""
    script = (
        "import contextlib, io, sys, importlib\n"
        f"for name in {LIGHT_HELP!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            importlib.import_module(f'lnet_anet.cli.{name}').main(['--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    heavy = sorted(m for m in ('torch', 'torchvision', 'timm') if m in sys.modules)\n"
        "    print(name, len(out.getvalue()) > 200, ','.join(heavy) or '-')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:-1] == [f"{name} True -" for name in LIGHT_HELP]


@pytest.mark.parametrize("name", ["train_age", "train_dldl_head", "train_anet_dldl"])
def test_help_of_the_dldl_training_commands_loads_no_torch(name):
    """The Hydra commands whose recipe lives in the package answer --help without importing
    torch, torchvision, timm or pandas (9 s before on this project's 2-core machine; 1.5 s now):
    the recipe is imported when the command runs, and engine.runs loads them where used."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", f"lnet_anet.cli.{name}", "--help"],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])  # fmt: skip
    assert done.returncode == 0 and "== Config ==" in done.stdout, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "hydra" in imported and not imported & {"torch", "torchvision", "timm", "pandas"}


@pytest.mark.parametrize("name", ["predict", "build_bundle", "fit_localizer", "fit_upright", "fit_face_head",
                                  "fit_box_head", "fit_check_map", "fit_descriptor_head", "fit_std_scale",
                                  "predict_video", "plot_run"])
def test_each_argparse_commands_help_ends_with_its_exit_statuses(name, capsys):
    """README says so; a docs audit (trial 61) found five fit_* commands whose --help had none."""
    import importlib
    import re

    try:
        importlib.import_module(f"lnet_anet.cli.{name}").main(["--help"])
    except SystemExit as e:
        assert e.code in (0, None)
    shown = " ".join(capsys.readouterr().out.split())
    assert "exit status" in shown, shown[-500:]
    statuses = shown[shown.index("exit status"):]
    assert all(re.search(rf"(^|[ :;]){code} ", statuses) for code in ("0", "1", "2")), statuses


@pytest.mark.parametrize("name", ARGPARSE_COMMANDS)
def test_a_usage_error_is_three_lines_with_the_closest_option(name, capsys):
    """A mistyped option prints a short usage, the error with the closest option and where the
    full help is (it printed every option before: 25 lines for predict), exit status 2."""
    import importlib

    main = importlib.import_module(f"lnet_anet.cli.{name}").main
    try:  # some commands turn argparse's exit into their own return status
        code = main(["--hlp", "--no-such-option-at-all"])
    except SystemExit as e:
        code = e.code
    assert code == 2
    lines = capsys.readouterr().err.splitlines()
    prog = f"python -m lnet_anet.{'predict' if name == 'predict' else 'cli.' + name}"
    assert len(lines) == 3 and lines[0].startswith(f"usage: {prog} [options]"), lines
    assert lines[1].startswith(f"{prog}: error: ") and lines[2] == f"all options: {prog} --help", lines
    if "unrecognized arguments" in lines[1]:  # the commands with required arguments name those first
        assert lines[1].endswith("--hlp --no-such-option-at-all (did you mean --help for --hlp?)"), lines[1]


@pytest.mark.parametrize("name", ARGPARSE_COMMANDS)
def test_every_option_of_a_command_says_its_default(name, monkeypatch):
    """Each option of each argparse command has help, and its --help states the default whenever
    it is a value (not None, False: off, or described in words)."""
    import argparse
    import importlib

    seen = []

    def caught(self, *args, **kwargs):
        seen.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", caught)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_intermixed_args", caught)  # predict's: images after options
    try:  # some commands turn argparse's exit into their own return status
        importlib.import_module(f"lnet_anet.cli.{name}").main(["--help"])
    except SystemExit:
        pass
    parser = seen[0]
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings or action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{name} {action.option_strings[0]}: no help"
        shown = formatter._expand_help(action) if action.help else ""
        if action.default not in (None, False, argparse.SUPPRESS):
            assert "default" in shown.lower(), f"{name} {action.option_strings[0]}: default {action.default!r} not said"


@pytest.mark.parametrize("model, says", [
    # bins 1-5 on ages would clamp every label to 5 and train on
    # ... and the error names the bins that would cover them (a fresh-user trial was told to pick the model it had)
    ("lite0_attractiveness", "error: data synthetic_age's age labels run .* bins cover 1-5.*Set model.low=\\d+ model.high=\\d+ "),
    ("anet", "error: model anet \\(ANet\\) is not an age / attractiveness \\(DLDL\\) model; input=image trains"),
    ("anet_dldl", "error: model anet_dldl trains with input=anet_layers, not input=image"),
])  # fmt: skip
def test_a_model_that_does_not_fit_the_recipe_or_labels_stops_before_training(tmp_path, launch, model, says):
    """train_age with a model of another kind or other bins: one line saying what to pick instead,
    status 2, and no run folder left behind."""
    import re

    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={tmp_path}", "data=synthetic_age", "name=mismatch",
                       f"model={model}", *SMOKE)
    assert code == 2, err[-2000:]
    assert re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "mismatch").exists()


@pytest.mark.parametrize("setting, says", [
    ("framings=[{zoom: 0.8}]", "error: framings\\[0\\]: zoom must be >= 1, got 0.8"),
    ("framings=[{zoom: 1.5, fil: blur}]", "error: framings\\[0\\] has unknown keys \\['fil'\\]"),
    ("framings=[{zoom: 1.5, photometric: {bright: 2}}]", "error: framings\\[0\\] has unknown keys \\['photometric.bright'\\]"),
    ("framings=[{fill: blur}]", "error: framings\\[0\\] must be a mapping with a zoom"),
    ("framings=1.5", "error: framings must be a list"),
    ("tune_split={frac: 1.5, seed: 1}", "error: tune_split.frac must be a share in \\(0, 1\\), got 1.5"),
    ("tune_split={frac: 0.3}", "error: tune_split takes exactly frac and seed.*seed: missing"),
    ("tune_split=0.3", "error: tune_split must be a mapping"),
    ("balance={edges: [0, 13], pow: 0.5}", "error: balance must be .*unexpected keyword argument 'pow'"),
    # trial 67: each of these started training, or ended, in a traceback (exit 1, the run folder left)
    ("data.sigma=abc", "error: data.sigma must be a number >= 0 \\(the label distribution's spread, in age's units\\), got 'abc'"),
    ("model.step=0.3", "error: model=tiny_age_net: \\(high - low\\) / step = 333.333 is not a whole number of bins"),
    ("target=agee", "error: target must be age or attractiveness, got 'agee'"),
    ("+data.sigmaa=5", "error: unknown data options \\['sigmaa'\\]; known: \\['box_scale', 'boxes', 'crop'"),
    # trial 72: Hydra's own errors (a traceback or its multi-line message, exit 1, the run folder left)
    ("model._target_=lnet_anet.models.dldl.tiny_age_nett", "error: Error locating target "
     "'lnet_anet.models.dldl.tiny_age_nett': Are you sure .* \\(full_key: model\\)"),
    ("+data.index.n_image=50", "error: Error in call to target .*read_synthetic': read_synthetic\\(\\) got an "
     "unexpected keyword argument 'n_image' \\(it takes images, n_images, "),
    ("data.index.root=???", "error: data.index.root is required \\(\\?\\?\\? in its config\\)"),
    ("data.image_size=16", "error: model=tiny_age_net cannot read 16 px crops \\(data.image_size=16\\): Given input"),
])  # fmt: skip
def test_bad_framings_or_tune_split_stop_before_any_data_is_read(tmp_path, launch, setting, says):
    """train_age input=image: one line naming the setting, status 2, no run folder left behind."""
    import re

    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={tmp_path}", "data=synthetic_age", "name=bad",
                       "model=tiny_age_net", setting, *[o for o in SMOKE if o != "model.pretrained=none"])  # fmt: skip
    assert code == 2, err[-2000:]
    assert re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("command, args, setting, says", [
    ("train_anet", ["data=synthetic", "svm.C=[0.1]", *SMOKE], "tune_split={frac: 0, seed: 1}",
     "error: tune_split.frac must be a share in \\(0, 1\\), got 0"),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic", "model.pretrained=none", "canvas=96"], "tune_split=null",
     "error: tune_split is needed here"),
    ("train_anet", ["data=synthetic", "svm.C=[0.1]", "data.crop=box", "data.boxes=missing.csv", *SMOKE],
     "tune_split={frac: 0.1, seed: 0}", "error: missing.csv: no such boxes CSV .*data.crop=full"),
    ("train_anet", ["data=synthetic", *SMOKE], "svm.C=2", "error: svm.C must be a list of numbers > 0 .*'svm.C=\\["),
    ("train_anet", ["data=synthetic", "svm.C=[0.1]", *SMOKE], "finetune.lr=-1", "error: finetune.lr must be > 0, got -1"),
    ("train_anet", ["data=synthetic", "svm.C=[0.1]", *SMOKE], "train.epochs=3",
     "error: train_anet trains in stages and does not read train.epochs: set pretrain.epochs and finetune.epochs"),
    ("fit_svms", ["data=synthetic"], "svm.balance_weight=[-1]", "error: svm.balance_weight must be a list of numbers >= 0"),
])  # fmt: skip
def test_a_bad_tune_split_stops_the_attribute_commands_before_any_data(tmp_path, launch, command, args, setting, says):
    """train_anet / train_lnet (and fit_svms: data.from_config.attribute_splits) check tune_split
    as train_age does, and a missing boxes CSV (data.crop=box) before the dataset is made: one
    line naming it, status 2, no run folder left behind."""
    import re

    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={tmp_path}", "name=bad", setting, *args)
    assert code == 2, err[-2000:]
    assert re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "bad").exists() and not (tmp_path / "synthetic-data").exists()


@pytest.mark.parametrize("command, args", [
    ("train_anet", ["data=synthetic", "svm.C=[0.1]", *SMOKE]),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic", "model.pretrained=none", "canvas=96", "cache_scenes=8"]),
    ("train_anet_dldl", ["data=synthetic_age", "init_from=${lnet_anet.asset:default.lnetanet}", "train=smoke",
                         "data.index.n_images=60", "data.index.n_identities=12"]),
    ("train_dldl_head", ["data=synthetic_age", "anet_run=${lnet_anet.asset:default.lnetanet}", "train=smoke",
                         "data.index.n_images=60", "data.index.n_identities=12"]),
])  # fmt: skip
def test_a_batch_larger_than_the_training_set_stops_before_any_map_is_cached(tmp_path, launch, command, args):
    """A trial: train.batch_size larger than the fit part was refused by the Trainer, after
    train_anet had cached every trunk map (minutes on a real set). Now it stops before: one line
    naming train.batch_size, status 2, no cached maps in the run folder."""
    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={tmp_path}", "name=big", *args, "train.batch_size=100000")
    assert code == 2, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert "training samples make no full batch of 100000: set train.batch_size to" in last, last
    assert not list((tmp_path / "big").rglob("*.npz"))  # train_anet_dldl / train_dldl_head: trunk maps, features


@pytest.mark.parametrize("command, args, setting, says", [
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "data.holdout=0.3",
     "error: data.holdout must be a mapping .* \\(e.g. data.holdout='\\{frac: 0.2, seed: 0, by: null, holdout: val\\}'\\), "
     "got 0.3"),
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "data.holdout={frac: 1.5, seed: 0}",
     "error: data.holdout.frac must be a share in \\(0, 1\\), got 1.5 \\(e.g. data.holdout="),
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "+data.fold={k: 7, n: 5}",
     "error: data.fold.k must be the fold scored, an integer in 1..5, got 7 \\(e.g. data.fold="),
    ("train_anet_dldl", ["data=synthetic_age"], "data.holdout=0.3", "error: data.holdout must be a mapping"),
    ("train_anet", ["data=synthetic", "svm.C=[0.1]"], "data.holdout=0.2", "error: data.holdout must be a mapping"),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic", "canvas=96"], "data.holdout={frac: 0.2, holdout: train}",
     "error: data.holdout.holdout must be val or test"),
    ("fit_svms", ["data=synthetic"], "data.holdout=0.2", "error: data.holdout must be a mapping"),
])  # fmt: skip
def test_a_bad_holdout_or_fold_stops_every_training_command_in_one_line(tmp_path, launch, command, args, setting, says):
    """A trial: data.holdout=0.2 (a share, not a rule) ended train_age in "TypeError: 'float' object
    is not iterable" and data.holdout.frac=1.5 in a raw ValueError, leaving the run folder behind.
    Now, as train.lr=-1: one line saying what a valid rule looks like, status 2, no run folder, and
    no generated dataset (said before the reader runs)."""
    import re

    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={tmp_path}", "name=bad", setting, *args)
    assert code == 2, err[-2000:]
    assert re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "bad").exists() and not (tmp_path / "synthetic-data").exists()


@pytest.mark.parametrize("args, says", [
    (["lnet_anet.cli.train_age", "data=synthetic_age", "model=tiny_age_net", "data.eval_split=tset"],
     "error: the dataset has no 'tset' rows \\(its splits: \\[.*'val'\\]\\); score another one with data.eval_split="),
    (["lnet_anet.cli.train_age", "data=synthetic", "model=tiny_age_net"],
     "error: the data \\(synthetic\\) has no 'age' labels, which this command learns"),
    (["lnet_anet.cli.train_age", "data=celeba_hq", "model=tiny_age_net"],  # its loss reads data.sigma, which it lacks
     "error: the data \\(celeba_hq128\\) has no 'age' labels, which this command learns \\(it is attributes data\\)"),
    (["lnet_anet.cli.train_anet", "data=celeba", "data.index.root={celeba}", "data.index.images=img_align_celeba",
      "svm.C=[0.1]"],
     "error: identity pre-training \\(pretrain.epochs > 0\\) needs identity labels.*pretrain.epochs=0"),
    (["lnet_anet.cli.train_anet", "data=celeba", "data.index.root={celeba}", "svm.C=[0.1]"],
     "error: .*celeba: several image folders .*pass data.index.images=<one of them>"),
    (["lnet_anet.cli.train_anet", "data=synthetic_age", "svm.C=[0.1]"],  # as a CelebA copy without list_attr_celeba
     "error: synthetic_age .* has no attribute labels, which this command learns from: CelebA's list_attr_celeba"),
])  # fmt: skip
def test_data_that_cannot_serve_the_command_stops_it_in_one_line(tmp_path, launch, args, says):
    """A split the data does not have, labels of another task, a CelebA copy without its identity
    file (Kaggle's) for identity pre-training: one line saying what to do, status 2, no run folder."""
    import re

    from lnet_anet.data.synthetic.celeba_tree import read_synthetic

    celeba = tmp_path / "celeba"
    if any("{celeba}" in a for a in args):
        read_synthetic(celeba, n_images=40, n_identities=8)
        (celeba / "identity_CelebA.txt").unlink()
    smoke = [o for o in SMOKE if (o != "model.pretrained=none" or args[0].endswith("train_anet"))
             and not (o.startswith("data.index.n_") and any(a.startswith("data=celeba") for a in args))]  # fmt: skip
    code, err = launch(args[0], f"paths.runs={tmp_path}", "name=bad", *(a.format(celeba=celeba) for a in args[1:]), *smoke)
    assert code == 2, err[-2000:]
    assert re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "bad").exists()


@pytest.mark.parametrize("command, setting, says", [
    ("evaluate_attributes", "batch_size=0", "error: batch_size must be an integer >= 1, got 0"),
    ("evaluate_attributes", "num_workers=-1", "error: num_workers must be an integer >= 0, got -1"),
    ("evaluate_attributes", "device=gpu", "error: device must be auto, cpu, cuda or cuda:N, got 'gpu'"),
    ("evaluate_localization", "images=0", "error: images must be an integer >= 1, got 0"),
])  # fmt: skip
def test_the_evaluation_commands_check_their_settings_and_leave_no_folder(tmp_path, launch, command, setting, says):
    """A trial: images=0 or batch_size=0 ended in torch's traceback and left an output folder holding
    nothing inside the run scored; now one line, status 2, and the folder Hydra made is removed."""
    scored = tmp_path / "run"
    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={tmp_path}", f"run={scored}", "data=synthetic", setting)
    assert code == 2 and err.strip().splitlines()[-1].startswith(says), err[-2000:]
    assert not scored.exists()


def test_an_evaluation_without_data_takes_the_data_its_run_was_trained_on(tmp_path, capsys):
    """evaluate_localization run=runs/lnet-synthetic and evaluate_attributes run=runs/anet-synthetic
    failed with "CelebA root folder not found": with no data=, they compose the run's own data= and
    data.* and paths.* overrides (its .hydra record), the user's data.* overrides coming after and replacing
    the run's; data= given, no run=, or a run without a record: the arguments as they were. (The
    slow tests above score smoke runs this way.)"""
    from omegaconf import OmegaConf

    from lnet_anet.engine.runs import with_run_data

    record = tmp_path / "lnet-synthetic" / ".hydra"
    record.mkdir(parents=True)
    OmegaConf.save({"hydra": {"runtime": {"choices": {"data": "synthetic", "model": "lnet"}}}}, record / "hydra.yaml")
    OmegaConf.save(["paths.runs=/x", "name=lnet-synthetic", "data=synthetic", "data.index.n_images=120",
                    "data.index.n_identities=20", "canvas=96"], record / "overrides.yaml")  # fmt: skip
    run = f"run={tmp_path / 'lnet-synthetic'}"
    # paths.* too: where the run read or made its data (a user trial: paths.runs / paths.datasets were lost)
    assert with_run_data(["--config-name", "x", run, "images=8"]) == [
        "--config-name", "x", "data=synthetic", "paths.runs=/x", "data.index.n_images=120", "data.index.n_identities=20",
        run, "images=8"]  # fmt: skip
    assert "note: scoring on the data" in capsys.readouterr().err
    assert with_run_data([run, "data.index.n_images=60", "paths.runs=/y"]) == [
        "data=synthetic", "data.index.n_identities=20", run, "data.index.n_images=60", "paths.runs=/y"]  # the user's own replaces it
    for kept in ([run, "data=celeba"], ["images=8"], [f"run={tmp_path}", "images=8"]):
        assert with_run_data(kept) == kept


def test_evaluate_attributes_scores_a_fit_svms_run_on_the_faces_it_was_fitted_on(tmp_path, capsys):
    """Trial 65: fit_svms' own config sets data.crop=box, which no override names, so
    evaluate_attributes run=RUN scored whole images (0.7517 against the run's 0.7325) and only
    warned. The run's composed config now gives its framing too, unless the user gives it."""
    from omegaconf import OmegaConf

    from lnet_anet.cli.evaluate_attributes import run_framing
    from lnet_anet.engine.runs import with_run_data

    record = tmp_path / "svms" / ".hydra"
    record.mkdir(parents=True)
    OmegaConf.save({"hydra": {"runtime": {"choices": {"data": "lfwa"}}}}, record / "hydra.yaml")
    OmegaConf.save(["data=lfwa", "data.enlarge=1.0", "name=svms"], record / "overrides.yaml")
    OmegaConf.save({"paths": {"runs": "my runs"}, "data": {"name": "lfwa", "crop": "box", "enlarge": 1.0,
                                                           "boxes": "${paths.runs}/boxes.csv"}}, record / "config.yaml")  # fmt: skip
    run = f"run={tmp_path / 'svms'}"
    assert with_run_data([run], run_framing) == ["data=lfwa", "data.enlarge=1.0", "data.crop=box",
                                                 "data.boxes='my runs/boxes.csv'", run]  # fmt: skip
    assert "data.crop=box" in capsys.readouterr().err
    assert with_run_data([run, "data.crop=full"], run_framing) == ["data=lfwa", "data.enlarge=1.0",
                                                                   "data.boxes='my runs/boxes.csv'", run, "data.crop=full"]  # fmt: skip
    OmegaConf.save({"data": {"name": "lfwa", "crop": "full", "boxes": None}}, record / "config.yaml")
    assert with_run_data([run], run_framing) == ["data=lfwa", "data.enlarge=1.0", "data.crop=full", run]
    assert with_run_data([run]) == ["data=lfwa", "data.enlarge=1.0", run]  # evaluate_localization: no framing


def test_an_evaluation_given_a_file_as_its_run_stops_with_one_error_line(tmp_path, launch):
    """A fresh-user trial passed the shipped bundle as run=: Hydra made its output folder inside
    the file and failed with a traceback. Now one line, exit 2, before Hydra; folders go on."""
    code, err = launch("lnet_anet.cli.evaluate_attributes", "run=${lnet_anet.asset:default.lnetanet}")
    assert code == 2, err[-2000:]
    assert err.strip().splitlines() == [
        f"error: run={REPO / 'lnet_anet' / 'assets' / 'default.lnetanet'} is a file (a bundle: benchmarks/bench_attributes.py "
        "scores a bundle's attributes on labelled files); evaluate_attributes scores a training run's folder, e.g. run=runs/NAME"]
    from lnet_anet.engine.runs import refuse_run_file

    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SystemExit, match="2"):
        refuse_run_file([f"run={tmp_path / 'notes.txt'}"], "evaluate_localization")
    for fine in ([f"run={tmp_path}"], ["images=8"], ["run=${paths.runs}/x"]):  # a folder, none, another key's value
        refuse_run_file(fine, "evaluate_localization")


def test_evaluate_localization_given_a_bundle_names_the_detection_benchmark(launch):
    """A trial: given a bundle, evaluate_localization pointed to the attributes benchmark."""
    code, err = launch("lnet_anet.cli.evaluate_localization", "run=${lnet_anet.asset:default.lnetanet}")
    assert code == 2, err[-2000:]
    assert "(a bundle: benchmarks/bench_detection.py scores a bundle's localization" in err
    assert "bench_attributes" not in err


def test_a_commands_warnings_are_log_lines_without_code_locations(tmp_path):
    """A reader's warning (a CelebA copy without its partition file) reaches the user as a log
    line, "UserWarning: <message>", not as "<our file>.py:<line>: UserWarning" plus a source line."""
    from lnet_anet.data.synthetic.celeba_tree import read_synthetic

    celeba = tmp_path / "celeba"
    read_synthetic(celeba, n_images=40, n_identities=8)
    (celeba / "list_eval_partition.txt").unlink()
    cmd = [sys.executable, "-m", "lnet_anet.cli.train_anet", f"paths.runs={tmp_path}", "data=celeba",
           f"data.index.root={celeba}", "data.index.images=img_align_celeba", "svm.C=[0.1]", "train=smoke"]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True)
    assert done.returncode == 2 and "error: the dataset has no 'train' rows" in done.stderr, done.stderr[-2000:]
    said = done.stdout + done.stderr  # Hydra's console log is on the standard output
    assert f"WARNING] - UserWarning: {celeba}: no list_eval_partition file" in said, said[-2000:]
    assert ".py:" not in said and "warnings.warn" not in said, said[-2000:]


def test_a_trunk_cache_of_other_faces_is_a_config_error(tmp_path):
    from lnet_anet.dldl.training import check_cache_key
    from lnet_anet.engine.config import ConfigError

    npz = tmp_path / "stage3-all-160.npz"
    check_cache_key(npz, {"faces": 10})
    check_cache_key(npz, {"faces": 10})  # the same faces: fine
    with pytest.raises(ConfigError, match="cached for other faces or settings"):
        check_cache_key(npz, {"faces": 11})


def test_labels_inside_the_bins_pass_the_check(caplog):
    import pandas as pd
    from omegaconf import OmegaConf

    from lnet_anet.dldl.label_distribution import make_bins
    from lnet_anet.dldl.recipes import check_labels_fit_bins
    from lnet_anet.engine.config import ConfigError

    cfg = OmegaConf.create({"target": "attractiveness", "data": {"name": "scut"}})
    scores = pd.DataFrame({"split": ["train"] * 100 + ["val"] * 10, "attractiveness": [1.0, 4.98] * 50 + [9.0] * 10})
    check_labels_fit_bins(cfg, scores, make_bins(low=1, high=5, step=0.1))  # the val rows are not read
    assert "outside the model's bins" not in caplog.text
    scores.loc[:0, "attractiveness"] = 6.0  # 1% beyond the top bin (UTKFace's 101-116 under bins to 100): trained, said
    with caplog.at_level("WARNING", logger="lnet_anet.train"):
        check_labels_fit_bins(cfg, scores, make_bins(low=1, high=5, step=0.1))
    assert "1 of 100 training attractiveness labels (1.00%) lie outside the model's bins 1-5" in caplog.text
    scores.loc[:1, "attractiveness"] = 6.0  # 2% of the train rows beyond the top bin
    with pytest.raises(ConfigError, match=r"2.0% of the training labels lie outside them \(at most 1% is trained"):
        check_labels_fit_bins(cfg, scores, make_bins(low=1, high=5, step=0.1))


def test_evaluate_attributes_matches_the_label_columns_to_the_run_by_name(tmp_path):
    """A label file listing the attributes in another order is scored in the run's order (its SVMs'),
    and data without labels, or without some of the run's attributes, is a ConfigError."""
    import pandas as pd
    import torch
    from safetensors.torch import save_file

    from lnet_anet.cli.evaluate_attributes import attributes_to_score
    from lnet_anet.engine.config import ConfigError

    save_file({"w": torch.zeros(1)}, str(tmp_path / "anet.safetensors"), {"attributes": "Smiling,Male,Young"})
    index = pd.DataFrame({"path": ["a.jpg"], "Young": [1], "Smiling": [0], "Eyeglasses": [0], "Male": [1]})
    index.attrs["attributes"] = ["Young", "Smiling", "Eyeglasses", "Male"]
    assert attributes_to_score(tmp_path, index, "lfwa", 3) == ["Smiling", "Male", "Young"]
    with pytest.raises(ConfigError, match="no labels for 1 of the 3.*Male"):
        attributes_to_score(tmp_path, index.drop(columns="Male").assign(), "lfwa", 3)
    bare = pd.DataFrame({"path": ["a.jpg"]})
    with pytest.raises(ConfigError, match="no attribute labels"):
        attributes_to_score(tmp_path, bare, "celeba", 3)
    save_file({"w": torch.zeros(1)}, str(tmp_path / "anet.safetensors"))  # an old run: no names recorded
    with pytest.raises(ConfigError, match="has 3 SVMs; lfwa has 4"):
        attributes_to_score(tmp_path, index, "lfwa", 3)


def test_data_that_cannot_be_read_as_configured_is_a_config_error(tmp_path):
    """data.crop=box on data without boxes, and a folder in which every row is left out, stop with a
    ConfigError that says why (not a ValueError from deep in the dataset, or 'no train rows')."""
    from omegaconf import OmegaConf
    from PIL import Image

    from lnet_anet.data.from_config import build_index
    from lnet_anet.engine.config import ConfigError

    folder = tmp_path / "UTKFace"
    folder.mkdir()
    for name in ("25_0_0_20170116174525125.jpg.chip.jpg", "61_1_0_20170109150557335.jpg.chip.jpg"):
        Image.new("RGB", (40, 40)).save(folder / name)
    cfg = OmegaConf.create({"name": "utkface", "crop": "box", "boxes": None,
                            "index": {"_target_": "lnet_anet.data.readers.age.read_utkface", "folder": str(folder)}})
    with pytest.raises(ConfigError, match="data.crop=box needs a face box.*data.boxes=CSV"):
        build_index(cfg)
    cfg.crop = "full"
    assert len(build_index(cfg)) == 2
    cfg.index.folder = str(tmp_path)  # the parent of UTKFace/: no chips there
    with pytest.raises(ConfigError, match="utkface .*no images|utkface .*left out"):
        build_index(cfg)


def test_an_age_run_refuses_another_input_size_or_loss_once_trained(tmp_path):
    """recipe.json keeps how faces are read and the loss: a resumed run at another data.image_size
    would train the rest at a size its recorded preprocessing does not say."""
    from omegaconf import OmegaConf

    from lnet_anet.dldl.recipes import record_recipe
    from lnet_anet.engine.runs import RunRefusedError

    def cfg(size=64, sigma=2.0, lambda_l1=1.0):
        return OmegaConf.create({"tune_split": None, "framings": [], "balance": None,
                                 "data": {"image_size": size, "crop": "full", "enlarge": 1.0, "sigma": sigma},
                                 "loss": {"_target_": "x", "sigma": "${data.sigma}", "lambda_l1": lambda_l1}})  # fmt: skip

    record_recipe(tmp_path, cfg())
    (tmp_path / "checkpoints").mkdir()
    record_recipe(tmp_path, cfg())  # the same recipe resumes
    for changed, says in ((cfg(size=48), "input"), (cfg(sigma=3.0), "input, loss"), (cfg(lambda_l1=0.5), "loss")):
        with pytest.raises(RunRefusedError, match=f"with other training settings \\({says} differ"):
            record_recipe(tmp_path, changed)
    old = {"tune_split": None, "framings": [], "balance": None}  # a recipe.json written before input and loss were kept
    (tmp_path / "recipe.json").write_text(json.dumps(old))
    record_recipe(tmp_path, cfg(size=48))  # taken as they are now, and kept from here on
    assert json.loads((tmp_path / "recipe.json").read_text())["input"]["image_size"] == 48
    with pytest.raises(RunRefusedError, match=r"input differs .*: input\.image_size: 48 -> 64\)"):  # the value in the folder, the new one
        record_recipe(tmp_path, cfg())


def test_an_age_run_refuses_another_model_naming_each_change(tmp_path):
    """A trial: train_age name=age-res, then again with model=tiny_age_net, ended in "holds a checkpoint
    of another model (Missing key(s) in state_dict: ...)". recipe.json keeps the model as configured
    (record_recipe runs before the net is built or a checkpoint read), so the rerun is refused naming
    each change as `key: old -> new`; a recipe.json from before the model was kept takes this one's."""
    from omegaconf import OmegaConf

    from lnet_anet.dldl.recipes import record_recipe
    from lnet_anet.engine.runs import RunRefusedError

    lite0 = OmegaConf.load(REPO / "lnet_anet" / "conf" / "model" / "lite0_dldl.yaml")
    tiny = OmegaConf.load(REPO / "lnet_anet" / "conf" / "model" / "tiny_age_net.yaml")

    def cfg(model):
        return OmegaConf.create({"tune_split": None, "framings": [], "balance": None, "model": model,
                                 "data": {"image_size": 64, "crop": "full", "enlarge": 1.0, "sigma": 2.0}})  # fmt: skip

    record_recipe(tmp_path, cfg(lite0))
    (tmp_path / "checkpoints").mkdir()
    record_recipe(tmp_path, cfg(lite0))  # the same model resumes
    with pytest.raises(RunRefusedError, match=r"\(model differs from its recipe.json: model\._target_: "
                       r"lnet_anet\.models\.dldl\.lite0_dldl -> lnet_anet\.models\.dldl\.tiny_age_net; "
                       r"model\.drop_rate: 0\.2 -> None; model\.pretrained: package -> None\)") as err:
        record_recipe(tmp_path, cfg(tiny))
    assert "state_dict" not in str(err.value)
    with pytest.raises(RunRefusedError, match=r"\(model differs .*: model\.high: 100 -> 80\)"):
        record_recipe(tmp_path, cfg({**lite0, "high": 80}))
    old = json.loads((tmp_path / "recipe.json").read_text())
    del old["model"]  # a recipe.json written before the model was kept
    (tmp_path / "recipe.json").write_text(json.dumps(old))
    record_recipe(tmp_path, cfg(tiny))  # taken as it is now, and kept from here on
    assert json.loads((tmp_path / "recipe.json").read_text())["model"]["_target_"].endswith("tiny_age_net")


@pytest.mark.parametrize("command", ["fit_box_head", "fit_face_head", "fit_upright", "fit_localizer", "fit_check_map",
                                     "fit_descriptor_head", "lnet_boxes"])  # fmt: skip
def test_an_output_file_that_is_a_folder_stops_the_command_before_any_work(command, tmp_path, capsys):
    """--out naming a folder was found by the write at the end of the fit: a traceback, the fit lost."""
    import importlib

    main = importlib.import_module(f"lnet_anet.cli.{command}").main
    with pytest.raises(SystemExit) as stop:
        main(["--out", str(tmp_path)])
    assert stop.value.code == 2 and f"argument --out: {tmp_path} is a folder; give the file's name" in capsys.readouterr().err


def test_an_output_file_in_the_shipped_assets_is_taken_with_a_note(tmp_path, capsys):
    """--out lnet_anet/assets/...: the fit replaced what every default run reads, and its report landed
    in the package, with no word said."""
    from lnet_anet.cli.arguments import SHIPPED_ASSETS, output_file

    assert output_file(str(SHIPPED_ASSETS / "box_head.safetensors")) == SHIPPED_ASSETS / "box_head.safetensors"
    assert "is in the package's shipped assets" in capsys.readouterr().err
    assert output_file(str(tmp_path / "head.safetensors")) == tmp_path / "head.safetensors"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", ["fit_localizer", "fit_box_head", "fit_face_head", "fit_upright", "fit_check_map",
                                     "fit_descriptor_head"])  # fmt: skip
def test_ctrl_c_ends_a_fit_command_with_one_line_and_status_130(command, capsys, monkeypatch):
    """A fit of minutes stopped with Ctrl-C printed a traceback; it now says what is kept (a trial, session 55)."""
    import argparse
    import importlib

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stopped)
    assert importlib.import_module(f"lnet_anet.cli.{command}").main([]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("interrupted: ") and "\n" not in err and "same command" in err
