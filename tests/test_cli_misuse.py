"""Misuse of the entry points found by fresh-user trial 77: each is refused with one `error:` line
and exit status 2, before any work, and loses nothing."""

from __future__ import annotations

import importlib

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
