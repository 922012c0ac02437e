"""Misuse of the entry points found by fresh-user trial 77: each is refused with one `error:` line
and exit status 2, before any work, and loses nothing."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest


def _main(command: str):
    return importlib.import_module(f"lnet_anet.cli.{command}").main


@pytest.mark.parametrize("command, args", [
    ("build_bundle", ["--from-bundle", "{b}", "--age-prior", "0.3", "--out", "{b}"]),
    ("build_bundle", ["--from-bundle", "{b}", "--box-head", "{h}", "--out", "{h}"]),
    ("fit_localizer", ["--wider", "{tmp}", "--bundle", "{b}", "--out", "{b}"]),
    ("fit_std_scale", ["--target", "age", "--labels", "{tmp}", "--bundle", "{b}", "--out", "{b}"]),
    ("fit_check_map", ["--labels", "{tmp}/x.txt", "--bundle", "{b}", "--out", "{b}"]),
])  # fmt: skip
def test_an_output_that_is_the_commands_input_is_refused_before_any_work(command, args, tmp_path, capsys):
    """Trial 77 (bb04, fl05, fs06): --out equal to the bundle read was written over it with no
    word (the shipped bundle too); the input is read as it was, nothing else happens."""
    bundle, head = tmp_path / "mine.lnetanet", tmp_path / "head.safetensors"
    bundle.write_bytes(b"not read"), head.write_bytes(b"not read")
    code = _main(command)([a.format(b=bundle, h=head, tmp=tmp_path) for a in args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err, err
    assert err.startswith("error: --out ") and " input: writing it would destroy it; give a new file name" in err, err
    assert bundle.read_bytes() == b"not read" and head.read_bytes() == b"not read"


def test_the_shipped_bundle_is_named_however_out_spells_it(tmp_path, capsys):
    """--out a link to the shipped bundle, --from-bundle default: the same file (os.path.samefile)."""
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    link = tmp_path / "link.lnetanet"
    link.symlink_to(DEFAULT_BUNDLE)
    before = DEFAULT_BUNDLE.stat().st_mtime_ns
    assert _main("build_bundle")(["--from-bundle", "default", "--age-std-scale", "0.9", "--out", str(link)]) == 2
    err = capsys.readouterr().err
    assert "is the --from-bundle input (the bundle shipped in the package)" in err, err
    assert DEFAULT_BUNDLE.stat().st_mtime_ns == before


@pytest.mark.parametrize("command, args", [
    ("build_bundle", ["--from-bundle", "{b}", "--age-prior", "0.3"]),
    ("fit_localizer", ["--wider", "{tmp}", "--bundle", "{b}"]),
    ("fit_face_head", ["--faces", "{tmp}/a", "--face-free", "{tmp}/b", "--bundle", "{b}"]),
])  # fmt: skip
def test_an_output_in_the_shipped_assets_needs_replace_shipped(command, args, tmp_path, capsys):
    """Trial 79 (bb22, bb23, bb26): --out lnet_anet/assets/default.lnetanet from another bundle
    replaced what every default run reads, exit 0, however spelt (a link, '..'); now only with
    --replace-shipped (the maintainers' way to ship a bundle, MODEL_CARD)."""
    from lnet_anet.cli.arguments import SHIPPED_ASSETS, output_refusal
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    bundle = tmp_path / "mine.lnetanet"
    bundle.write_bytes(b"not read")
    link = tmp_path / "link.lnetanet"
    link.symlink_to(DEFAULT_BUNDLE)
    before = DEFAULT_BUNDLE.stat().st_mtime_ns
    for out in (DEFAULT_BUNDLE, SHIPPED_ASSETS / ".." / "assets" / DEFAULT_BUNDLE.name, link):
        code = _main(command)([*(a.format(b=bundle, tmp=tmp_path) for a in args), "--out", str(out)])
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert code == 2 and err.startswith(f"error: --out {out} is in the package's shipped assets"), err
        assert "--replace-shipped" in err
    assert DEFAULT_BUNDLE.stat().st_mtime_ns == before
    assert output_refusal(DEFAULT_BUNDLE, {"--from-bundle": bundle}, replace_shipped=True) is None
    assert output_refusal(SHIPPED_ASSETS / "new_head.safetensors", {}) is not None  # a new file there too


@pytest.mark.parametrize("command, args", [
    ("build_bundle", ["--from-bundle", "default", "--age-prior", "0.3"]),
    ("fit_localizer", ["--wider", "{tmp}"]),
    ("fit_face_head", ["--faces", "{tmp}/a", "--face-free", "{tmp}/b"]),
])  # fmt: skip
def test_an_existing_output_that_is_not_ours_is_refused(command, args, tmp_path, capsys):
    """Trial 77 (bb09): --out victim.jpg was replaced by a bundle."""
    victim = tmp_path / "victim.jpg"
    victim.write_bytes(b"a photo")
    code = _main(command)([*(a.format(tmp=tmp_path) for a in args), "--out", str(victim)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(f"error: --out {victim} exists and is not a ") and "\n" not in err, err
    assert victim.read_bytes() == b"a photo"


def test_a_head_fitted_over_its_bundle_is_refused(tmp_path, capsys):
    bundle = tmp_path / "b.lnetanet"
    bundle.write_bytes(b"not read")
    assert _main("fit_box_head")(["--labels", str(tmp_path / "x.txt"), "--bundle", str(bundle), "--out", str(bundle)]) == 2
    assert "is the --bundle input" in capsys.readouterr().err and bundle.read_bytes() == b"not read"


def test_ensemble_out_as_one_of_its_runs_is_a_usage_error(tmp_path, capsys):
    """The check the bundle writers now share (arguments.output_refusal), status 2 as theirs."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "b")
    assert _main("ensemble_dldl")([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "link")]) == 2
    assert "is one of the runs: writing it would destroy it" in capsys.readouterr().err


def test_fit_face_head_refuses_one_folder_as_faces_and_face_free(tmp_path, capsys):
    """Trial 77 (ff02): a head fitted on the same photos labelled both ways, exit 0."""
    (tmp_path / "photos").mkdir()
    args = ["--faces", str(tmp_path / "photos"), "--face-free", str(tmp_path / "x"), str(tmp_path / "photos") + "/",
            "--out", str(tmp_path / "h.safetensors")]  # fmt: skip
    assert _main("fit_face_head")(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --faces and --face-free name the same folder {tmp_path / 'photos'}"), err
    assert not (tmp_path / "h.safetensors").exists()


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_fit_localizer_refuses_an_fppi_that_is_not_positive(value, tmp_path, capsys):
    """Trial 77 (fl03): --fppi -1 wrote a bundle whose recall was 0."""
    with pytest.raises(SystemExit) as stop:
        _main("fit_localizer")(["--wider", str(tmp_path), "--fppi", value, "--out", str(tmp_path / "o.lnetanet")])
    assert stop.value.code == 2 and "argument --fppi: must be" in capsys.readouterr().err


@pytest.fixture
def damaged(tmp_path) -> dict[str, Path]:
    """A file that is not a bundle, and a train_anet run folder whose anet.safetensors is cut short."""
    bad = tmp_path / "bad.lnetanet"
    bad.write_bytes(b"\x10" * 100)
    run = tmp_path / "anet-broken"
    run.mkdir()
    (run / "model.json").write_text('{"model": "anet_lite0", "kwargs": {}}')
    (run / "anet.safetensors").write_bytes(b"\xff" * 5000)
    (run / "svm.safetensors").write_bytes(b"\xff" * 50)
    (run / "patches.json").write_text("{}")
    return {"bundle": bad, "run": run}


@pytest.mark.parametrize("command, args, says", [
    ("fit_svms", ["data=synthetic", "anet_from={bundle}"],
     "error: anet_from={bundle}: cannot be read: not a model bundle .*give a model bundle"),
    ("fit_svms", ["data=synthetic", "anet_from={run}"],
     "error: {run}/anet.safetensors: cannot be read \\(.*\\): the run folder {run} is damaged: train it again"),
    ("train_age", ["data=synthetic_age", "input=anet_features", "anet_run={bundle}"],
     "error: anet_run={bundle}: cannot be read: not a model bundle"),
    ("train_anet_dldl", ["data=synthetic_age", "init_from={bundle}"], "error: init_from={bundle}: cannot be read: not a model"),
    ("train_anet_dldl", ["data=synthetic_age", "init_from={run}"], "error: {run}/anet.safetensors: cannot be read \\("),
    ("evaluate_attributes", ["data=synthetic", "run={run}"], "error: {run}/anet.safetensors: cannot be read \\("),
])  # fmt: skip
def test_a_key_naming_a_bad_bundle_or_a_damaged_run_stops_in_one_line(damaged, command, args, says, tmp_path, launch):
    """Trial 77 (e08, e11, e12, e14, a01, a02, a04): a traceback, exit 1, a run folder left, and for a
    damaged run a SafetensorError that named no file."""
    import re

    runs = tmp_path / "runs"
    small = [] if command == "evaluate_attributes" else ["train=smoke", "train.batch_size=8", "data.index.n_images=60",
                                                          "data.index.n_identities=12"]
    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={runs}", "name=bad", *small,
                       *(a.format(**damaged) for a in args))  # fmt: skip
    last = err.strip().splitlines()[-1]
    assert code == 2 and re.match(says.format(**damaged), last), err[-3000:]
    assert not (runs / "bad").exists() and not (damaged["run"] / "eval-attributes-synthetic-val").exists()


def test_a_cut_short_cache_is_named_with_what_to_do(tmp_path):
    """Trial 77 (an04): a trunk-map cache cut short ended in zipfile's traceback, naming no file."""
    import numpy as np

    from lnet_anet.anet.features import cached_trunk_maps
    from lnet_anet.engine.runs import RunFileError

    path = tmp_path / "trunk-fit.npz"
    np.savez(path, maps=np.zeros((50, 50)))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RunFileError, match=f"^{path}: cannot be read \\(.*\\): delete it: the same command computes it again$"):
        cached_trunk_maps(path, None, None, 1, 0)


@pytest.mark.parametrize("script, args", [
    ("bench_detection", ["--format", "csv", "--labels", "{tmp}/boxes.csv", "--detectors", "lnet_anet", "--bundle", "{bad}",
                         "--out", "{tmp}/out"]),
    ("bench_end_to_end", ["--bundle", "x={bad}", "--sets", "age", "--out", "{tmp}/out"]),
    ("compare_bundles", ["{bad}", "default.lnetanet"]),
])  # fmt: skip
def test_a_benchmarks_bad_bundle_is_one_line_before_any_data(script, args, damaged, tmp_path, capsys):
    """Trial 77 (bm02, bm03, bm07): a BundleError traceback, bench_end_to_end's after reading UTKFace."""
    from tests._bench import load_benchmark

    (tmp_path / "boxes.csv").write_text("path,x0,y0,x1,y1\n")  # never read: the bundle is refused first
    main = load_benchmark(script).main
    assert main([a.format(tmp=tmp_path, bad=damaged["bundle"]) for a in args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and f"{damaged['bundle']}: not a model bundle" in err[-1], err


@pytest.mark.parametrize("command, args, setting, says", [
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "data.crop=boxx",
     "error: data.crop must be full \\(the whole image\\) or box \\(the face box\\), got 'boxx'"),
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "data.enlarge=-1", "error: data.enlarge must be a number > 0"),
    ("train_age", ["data=synthetic_age", "model=tiny_age_net"], "data.image_size=abc",
     "error: data.image_size must be a whole number of pixels >= 1 .*got 'abc'"),
    ("train_anet", ["data=synthetic"], "data.crop=boxx", "error: data.crop must be full"),
    ("evaluate_attributes", ["data=synthetic", "run={tmp}/run"], "data.crop=boxx", "error: data.crop must be full"),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic"], "canvas=abc",
     "error: canvas must be a whole number of pixels >= 16 \\(the scenes' side, e.g. canvas=224\\), got 'abc'"),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic"], "scale_range=[2,1]",
     "error: scale_range must be \\[low, high\\] with 0 < low <= high <= 1 .*got \\[2, 1\\]"),
    ("train_lnet", ["experiment=smoke_lnet", "data=synthetic"], "train_p_empty=1.5",
     "error: train_p_empty must be a share in \\[0, 1\\] \\(of face-free scenes\\), got 1.5"),
    ("evaluate_localization", ["data=synthetic", "run={tmp}/run"], "scenes=wildd",
     "error: scenes must be composed \\(faces pasted on backgrounds\\) or wild .*got 'wildd'"),
])  # fmt: skip
def test_an_unchecked_setting_stops_before_any_data_in_one_line(command, args, setting, says, tmp_path, launch):
    """Trial 77 (ea03-ea07, lx01, lx02, lx04, el01): tracebacks, exit 1 and a run folder left; for
    evaluate_localization scenes=wildd, composed scenes scored with exit 0."""
    import re

    code, err = launch(f"lnet_anet.cli.{command}", f"paths.runs={tmp_path}", "name=bad", setting,
                       *(a.format(tmp=tmp_path) for a in args))  # fmt: skip
    assert code == 2 and re.match(says, err.strip().splitlines()[-1]), err[-2000:]
    assert not (tmp_path / "bad").exists() and not (tmp_path / "run").exists()
    assert not (tmp_path / "synthetic-data").exists()  # said before the data is made


@pytest.mark.parametrize("runs", ["{tmp}/photo.jpg", "{tmp}/photo.jpg/deeper"])
def test_a_runs_folder_that_cannot_be_made_is_one_line(runs, tmp_path, launch):
    """Trial 77 (c18-c20, u01, u02): paths.runs or LNET_ANET_RUNS naming a file ended in Hydra's
    NotADirectoryError traceback, exit 1, with no word of paths.runs."""
    (tmp_path / "photo.jpg").write_bytes(b"a photo")
    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={runs.format(tmp=tmp_path)}", "data=synthetic_age",
                       "model=tiny_age_net", "name=x")  # fmt: skip
    assert code == 2 and err.strip() == (f"error: cannot make the run folder {runs.format(tmp=tmp_path)}/x: "
                                         f"{tmp_path / 'photo.jpg'} is a file, not a folder; point paths.runs=DIR (or "
                                         "LNET_ANET_RUNS) at a folder you can write to"), err[-2000:]  # fmt: skip
    assert (tmp_path / "photo.jpg").read_bytes() == b"a photo"


@pytest.mark.parametrize("name", ["", "../escaped", "/tmp/abs", "a/../../b", "."])
def test_a_name_that_is_not_a_folder_inside_the_runs_folder_is_refused(name, tmp_path, launch):
    """Trial 77 (n01, n02, n06): name= trained into the runs folder itself, name=../escaped beside it."""
    runs = tmp_path / "runs"
    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={runs}", "data=synthetic_age", "model=tiny_age_net",
                       f"name={name}")  # fmt: skip
    assert code == 2 and err.strip() == ("error: name= must name a folder inside the runs folder (e.g. name=age-try1, "
                                         "or name=ablations/try1), not empty, absolute or with '..', got "
                                         f"{name!r}"), err[-2000:]  # fmt: skip
    assert not runs.exists() and not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("inside", [False, True])
def test_predict_says_the_vis_folder_is_skipped_when_it_holds_the_only_images(inside, tmp_path, capsys):
    """Trial 77 (vi01, vi03): predict DIR --vis DIR said "no image files" of a folder of photos."""
    from lnet_anet.cli.predict import collect_images

    vis = tmp_path / "vis" if inside else tmp_path
    vis.mkdir(exist_ok=True)
    (vis / "photo.png").write_bytes(b"not read")
    assert collect_images([tmp_path], vis).paths == []
    err = capsys.readouterr().err.strip()
    assert err == (f"warning: {tmp_path}: no image files outside this run's --vis folder (it "
                   f"{'holds' if inside else 'is'} {vis}, whose pictures are not read: they are this program's "
                   "output); give --vis another folder"), err  # fmt: skip


def test_ctrl_c_ends_build_bundle_with_one_line_and_status_130(monkeypatch, capsys):
    """Trial 77 (bb10): a 109-line KeyboardInterrupt traceback."""
    import argparse

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stopped)
    assert _main("build_bundle")([]) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("interrupted: ") and "\n" not in err and "same command again" in err


@pytest.mark.parametrize(("name", "says"), [
    ("grp", "error: name=grp: {runs}/grp holds the run grp/f1: give a run its own folder, e.g. name=grp/another-name"),
    ("grp/", "error: name=grp/: {runs}/grp holds the run grp/f1: give a run its own folder, e.g. name=grp/another-name"),
    ("age-a/sub", "error: name=age-a/sub puts this run inside the run {runs}/age-a: give a run its own folder, e.g. "
                  "name=age-a-sub"),
])  # fmt: skip
def test_a_name_over_or_inside_other_runs_is_refused(name, says, tmp_path, launch):
    """Trial 79 (n13, n15, n16): name=grp/ trained into the folder that held the run grp/f1 (whose
    "remove the folder to start over" would then take grp/f1 too), and name=age-a/sub inside the
    run age-a. A run folder is known by its .hydra/, train_config.json, lock or a done marker."""
    from lnet_anet.engine.runs import _check_own_folder

    runs = tmp_path / "runs"
    (runs / "grp" / "f1" / ".hydra").mkdir(parents=True)
    (runs / "age-a").mkdir()
    (runs / "age-a" / "model.safetensors.done").write_text("{}")
    code, err = launch("lnet_anet.cli.train_age", f"paths.runs={runs}", "data=synthetic_age", "model=tiny_age_net",
                       f"name={name}")  # fmt: skip
    assert code == 2 and err.strip() == says.format(runs=runs), err[-2000:]
    assert sorted(p.relative_to(runs).as_posix() for p in runs.rglob("*")) == [
        "age-a", "age-a/model.safetensors.done", "grp", "grp/f1", "grp/f1/.hydra"]  # no folder made  # fmt: skip
    for allowed in ("grp/f2", "grp/f1", "age-a", "grp2/f1", "new"):  # nested under a plain folder; a run again
        _check_own_folder(runs / allowed, runs, allowed)
    for own in ("pretrain/train_config.json", "eval-attributes-x/2026-12-07_10-00-00/.hydra/config.yaml"):
        (runs / "age-a" / own).parent.mkdir(parents=True)  # a run's own stages and evaluations
        (runs / "age-a" / own).write_text("{}")
    _check_own_folder(runs / "age-a", runs, "age-a")
    (runs / "grp" / ".hydra").mkdir()  # a run trained into the group folder before (n13): not again (n15)
    with pytest.raises(SystemExit):
        _check_own_folder(runs / "grp", runs, "grp")


def test_predict_replaces_only_its_own_outputs(tmp_path, capsys):
    """Trial 88: --csv labels.csv and --output notes.jsonl replaced a user's own files, exit 0.
    Another program's file is refused (exit 2) and left as it is; predict's own, an empty file or
    a missing one are written."""
    from lnet_anet.predict import main

    ours, table, empty = tmp_path / "out.jsonl", tmp_path / "faces.csv", tmp_path / "empty.jsonl"
    empty.write_text("")
    for _ in range(2):  # the second run replaces the first's files
        assert main(["--demo", "--output", str(ours), "--csv", str(table)]) == 0
    assert main(["--demo", "--output", str(empty)]) == 0 and empty.read_text().count("\n") == 1
    header = table.read_text().splitlines()[0]
    old = tmp_path / "old.csv"  # predict's CSV before width, height and present came: its own too
    old.write_text(header.rsplit(",", 3)[0] + "\n")
    assert main(["--demo", "--csv", str(old)]) == 0
    labels, notes, labelled, mixed = (tmp_path / n for n in ("labels.csv", "notes.jsonl", "labelled.csv", "mixed.jsonl"))
    labels.write_text("image,age\nx.jpg,30\n")
    labelled.write_text(header + ",my_label\n")  # trial 89: predict's CSV with a column of the user's added
    notes.write_text('{"my": "notes"}\n')
    mixed.write_text(ours.read_text().splitlines()[0] + '\n{"my": "notes"}\n')  # trial 89: only line 1 was read
    table_said, records_said = "CSV (its columns: image, face, x0, ...", "JSON Lines output (every line one of its records; "
    for flag, path, said in (("--csv", labels, table_said), ("--csv", labelled, table_said),
                             ("--output", notes, records_said), ("--output", mixed, records_said)):  # fmt: skip
        before = path.read_bytes()
        assert main(["--demo", flag, str(path)]) == 2
        err = capsys.readouterr().err
        assert f"error: {flag} {path} exists and is not predict's {said}" in err and path.read_bytes() == before
