"""The predict CLI on real folders: every Pillow format, symlinked folders, any file name,
visualisations that cannot be written, --output/--resume (a run killed half-way), --csv and
numeric flags."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lnet_anet.data.attributes import CELEBA_ATTRIBUTES
from lnet_anet.inference.build import random_bundle
from lnet_anet.inference.bundle import load_bundle
from lnet_anet.inference.outputs import CSV_AFTER, CSV_FIXED, read_records
from lnet_anet.inference.predictor import Predictor
from lnet_anet.inference.upright import UprightHead
from lnet_anet.predict import main

pytestmark = pytest.mark.usefixtures("one_thread")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return random_bundle(tmp_path_factory.mktemp("bundle") / "tiny.lnetanet", threshold=0.0,
                         max_faces=2)  # fmt: skip


def _image(path: Path, seed: int = 0, size: tuple[int, int] = (40, 32), **kw) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, **kw)
    return path


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.strip().splitlines()]


def test_folder_scan_reads_every_format_follows_links_once_and_sums_up(bundle, tmp_path, capsys):
    root = tmp_path / "photos"
    for n, name in enumerate(("a.jpg", "b.gif", "c.tif", "d.TIFF", "e.webp", "sub/f.png")):
        _image(root / name, n)
    (root / "notes.txt").write_text("not an image")
    (root / "sub" / "clip.eps").write_text("%!PS")
    elsewhere = _image(tmp_path / "elsewhere" / "g.bmp", 7).parent
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)  # a cycle
    (root / "again").symlink_to(root / "sub", target_is_directory=True)  # sub, twice
    (root / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # a macOS resource fork: not a photo
    _image(root / ".thumbnails" / "t.png", 8)  # a hidden folder: not the user's photos
    assert main([str(root), "--json", "--bundle", str(bundle)]) == 1  # bad.png: its error record
    out = capsys.readouterr()
    names = sorted(Path(r["image"]).name for r in _records(out.out))
    assert names == ["a.jpg", "b.gif", "bad.png", "c.tif", "d.TIFF", "e.webp", "f.png", "g.bmp"]
    assert "summary: 7 analysed (0 with no face), 1 error, 6 skipped (--verbose names them)" in out.err
    assert main([str(root), "--json", "--bundle", str(bundle), "--verbose"]) == 1
    err = capsys.readouterr().err
    assert "notes.txt (not an image suffix)" in err and "clip.eps (not an image suffix)" in err
    assert "._a.jpg (hidden file)" in err and ".thumbnails (hidden folder)" in err
    assert err.count("already scanned through another link") == 2


def _names() -> list[bytes]:
    return [
        b"caf\xe9 latin-1.png",  # not UTF-8
        "with spaces and émoji 😀.png".encode(),
        b"x" * 240 + b".png",  # near the 255-byte limit
        b"\xff\xfe.jpg",
    ]


def test_any_file_name_in_json_table_csv_and_vis(bundle, tmp_path, capsys):
    root = tmp_path / "names"
    root.mkdir()
    for n, raw in enumerate(_names()):
        _image(Path(os.fsdecode(os.path.join(os.fsencode(root), raw))), n)
    vis, table = tmp_path / "vis", tmp_path / "faces.csv"
    log = tmp_path / "out.jsonl"
    argv = [str(root), "--json", "--vis", str(vis), "--csv", str(table), "--output", str(log), "--bundle", str(bundle)]
    assert main(argv) == 0
    out = capsys.readouterr()
    out.out.encode("utf-8")  # valid UTF-8: undecodable bytes stay escaped (\udcXX) ...
    assert "\\udce9" in out.out and "\\udcff\\udcfe" in out.out
    assert "émoji 😀" in out.out  # ... and readable names stay readable
    records = _records(out.out)
    assert all(r["error"] is None for r in records)
    assert {os.fsencode(Path(r["image"]).name) for r in records} == set(_names())
    assert log.read_text(encoding="utf-8").splitlines() == out.out.splitlines()  # the same lines
    written = {os.fsencode(p.name) for p in vis.iterdir()}
    assert b"caf\xe9 latin-1.png.png" in written and b"\xff\xfe.jpg.png" in written  # each picture named by its file
    assert all(len(n) <= 255 for n in written) and len(written) == 4
    assert {os.fsencode(Path(r["vis"]).name) for r in records} == written  # each record names its picture
    assert main([str(root), "--bundle", str(bundle)]) == 0  # the table prints them too
    assert "caf\\xe9 latin-1.png" in capsys.readouterr().out
    with open(table, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*CSV_FIXED, *CELEBA_ATTRIBUTES, "error", "model", *CSV_AFTER]
    assert len(rows) - 1 == sum(max(1, len(r["faces"])) for r in records)
    model, width, present = (rows[0].index(k) for k in ("model", "width", "present"))
    assert {row[model] for row in rows[1:]} == {records[0]["model"]}  # every row names what read it (trial 69)
    # trial 88: each row has its image's size and its face's decisions, as the records give them
    expected = [[(str(r["width"]), str(r["height"]), ";".join(f["present"])) for f in r["faces"]]
                or [(str(r["width"]), str(r["height"]), "")] for r in records]  # fmt: skip
    assert [(row[width], row[width + 1], row[present]) for row in rows[1:]] == sum(expected, [])
    assert b"\r" not in table.read_bytes()  # lines end in \n, as pandas writes them (cut, awk: no stray \r)


def test_a_visualisation_that_cannot_be_written_is_that_images_error(bundle, tmp_path, capsys,
                                                                      monkeypatch):  # fmt: skip
    root = tmp_path / "in"
    for n in range(3):
        _image(root / f"{n}.png", n)
    import errno

    import lnet_anet.inference.visualize as visualize

    def disk_full(path, rgb):
        raise OSError(errno.ENOSPC, f"{path}: could not write the PNG (No space left on device)")

    vis = tmp_path / "vis"
    with monkeypatch.context() as m:
        m.setattr(visualize, "save_png", disk_full)
        assert main([str(root), "--json", "--vis", str(vis), "--bundle", str(bundle)]) == 1
    captured = capsys.readouterr()
    records = _records(captured.out)
    assert len(records) == 3 and all("visualisation not written" in r["error"] for r in records)
    assert all(r["faces"] for r in records)  # the analysis itself is kept
    # and the last line says so, not "none of the 3 images could be analysed"
    assert f"error: 3 of the 3 pictures could not be written into --vis {vis}" in captured.err

    real, calls = visualize.save_png, []

    def disk_full_once(path, rgb):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, f"{path}: could not write the PNG (No space left on device)")
        return real(path, rgb)

    monkeypatch.setattr(visualize, "save_png", disk_full_once)
    assert main([str(root), "--json", "--vis", str(tmp_path / "vis"), "--bundle", str(bundle)]) == 1
    records = _records(capsys.readouterr().out)
    assert [r["error"] is None for r in records] == [True, False, True]
    assert "No space left" in records[1]["error"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_vis_into_a_read_only_folder(bundle, tmp_path, capsys):
    vis = tmp_path / "ro"
    vis.mkdir()
    vis.chmod(0o500)
    try:
        assert main([str(_image(tmp_path / "x.png")), "--json", "--vis", str(vis),
                     "--bundle", str(bundle)]) == 1  # fmt: skip
    finally:
        vis.chmod(0o700)
    assert "visualisation not written" in _records(capsys.readouterr().out)[0]["error"]


def _mixed_folder(root: Path, good: int, bad: int) -> None:
    for n in range(good):
        _image(root / f"img{n:03d}.png", n, size=(24, 20))
    for n in range(bad):
        (root / f"bad{n:03d}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really" * (n + 1))


def test_output_jsonl_and_csv_on_a_mixed_folder(bundle, tmp_path, capsys):
    root = tmp_path / "mixed"
    _mixed_folder(root, good=30, bad=2)
    out, table = tmp_path / "o" / "out.jsonl", tmp_path / "faces.csv"
    # 1: the 2 bad files could not be read; the 30 others are written all the same
    assert main([str(root), "--output", str(out), "--csv", str(table), "--bundle", str(bundle),
                 "--batch-size", "4"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "summary: 30 analysed" in err and "2 errors" in err
    assert f"0 skipped; written: {out}, {table}\n" in err  # where the files went (trial 65)
    records = read_records(out)
    assert len(records) == 32 and not out.with_name("out.jsonl.part").exists()
    assert sum(r["error"] is not None for r in records) == 2
    assert len({r["bundle"] for r in records}) == 1  # every record names its bundle, an error record too
    assert not [p for p in out.parent.iterdir() if p.name != "out.jsonl"]  # no temporaries
    with open(table, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(max(1, len(r["faces"])) for r in records) > 0  # a row for the bad files too
    assert sorted(r["image"] for r in rows if r["error"]) == sorted(r["image"] for r in records if r["error"])
    first = next(r for r in records if r["faces"])
    row = next(r for r in rows if r["image"] == first["image"])
    assert float(row["x0"]) == first["faces"][0]["box"][0]
    assert float(row["Smiling"]) == first["faces"][0]["attributes"]["Smiling"]


def test_interrupted_run_resumes_without_repeats_or_losses(bundle, tmp_path, capsys, monkeypatch):
    from lnet_anet.inference.predictor import Predictor

    root = tmp_path / "mixed"
    _mixed_folder(root, good=10, bad=1)
    out = tmp_path / "out.jsonl"
    real, analysed, stopped = Predictor._analyse_batch, [], []

    def counting(self, read):
        if len(analysed) == 6 and not stopped:  # Ctrl-C after six images
            stopped.append(True)
            raise KeyboardInterrupt
        analysed.extend(source for _, source, _ in read)
        return real(self, read)

    monkeypatch.setattr(Predictor, "_analyse_batch", counting)
    table = tmp_path / "faces.csv"
    argv = [str(root), "--output", str(out), "--csv", str(table), "--bundle", str(bundle),
            "--batch-size", "1"]  # fmt: skip
    assert main(argv) == 130
    assert not table.exists()  # written whole or not at all
    err = capsys.readouterr().err
    assert "rerun with --resume" in err and f"--csv {table} is written when a run ends: --resume writes it whole" in err
    assert not out.exists() and len(read_records(out.with_name("out.jsonl.part"))) == 6
    assert main(argv) == 2  # the same command without --resume would empty the log (trial 60): refused
    assert "out.jsonl.part holds 6 records of a run that was stopped" in capsys.readouterr().err
    assert len(read_records(out.with_name("out.jsonl.part"))) == 6 and len(analysed) == 6
    assert main([*argv, "--resume"]) == 1  # bad000.jpg is still an error
    assert "5 already in the output" in capsys.readouterr().err  # 6 logged, 1 an error: retried
    records = read_records(out)
    images = [r["image"] for r in records]
    assert len(images) == len(set(images)) == 11
    good = [a for a in analysed if "img" in a]
    assert len(good) == len(set(good)) == 10  # each good image analysed once, none lost
    with open(table, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # the table lists the output's records in its order: the retried bad file in its place, not last
    assert list(dict.fromkeys(r["image"] for r in rows)) == [r["image"] for r in records]
    assert len(rows) == sum(max(1, len(r["faces"])) for r in records)
    assert main([*argv, "--resume"]) == 1  # all done: only the bad file is tried again, and fails
    assert len(analysed) == 13 and analysed[-1].endswith("bad000.jpg")
    assert read_records(out) == records
    monkeypatch.chdir(tmp_path)  # the same folder spelt relative: the same images, not new ones
    assert main(["mixed", *argv[1:], "--resume"]) == 1
    assert len(analysed) == 14 and "10 already in the output" in capsys.readouterr().err
    assert len(read_records(out)) == 11


def test_a_resumed_run_interrupted_again_counts_every_record_in_its_log(bundle, tmp_path, capsys, monkeypatch):
    """The count said is of the .part log, the earlier stopped run's records included (a
    fresh-user trial was told 64 where the log held 136)."""
    from lnet_anet.inference.predictor import Predictor

    root = tmp_path / "photos"
    _mixed_folder(root, good=6, bad=0)
    out, real, analysed, stops = tmp_path / "out.jsonl", Predictor._analyse_batch, [], [2, 4]

    def counting(self, read):
        if stops and len(analysed) == stops[0]:  # Ctrl-C after two images, then after two more
            stops.pop(0)
            raise KeyboardInterrupt
        analysed.extend(source for _, source, _ in read)
        return real(self, read)

    monkeypatch.setattr(Predictor, "_analyse_batch", counting)
    argv = [str(root), "--output", str(out), "--bundle", str(bundle), "--batch-size", "1"]
    assert main(argv) == 130 and "; 2 records are in" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 130 and "; 4 records are in" in capsys.readouterr().err
    assert len(read_records(out.with_name("out.jsonl.part"))) == 4
    assert main([*argv, "--resume"]) == 0 and len(read_records(out)) == 6


def test_a_resume_with_a_new_vis_folder_says_which_kept_records_have_no_picture(bundle, tmp_path, capsys, monkeypatch):
    """Trial 93: a run stopped without --vis, resumed with it, drew only the new images, unsaid."""
    from lnet_anet.inference.predictor import Predictor

    root, vis = tmp_path / "photos", tmp_path / "vis"
    _mixed_folder(root, good=5, bad=0)
    out, real, analysed, stops = tmp_path / "out.jsonl", Predictor._analyse_batch, [], [2]

    def stop_after_two(self, read):
        if stops and len(analysed) == stops[0]:  # Ctrl-C after two images, once
            stops.pop()
            raise KeyboardInterrupt
        analysed.extend(source for _, source, _ in read)
        return real(self, read)

    monkeypatch.setattr(Predictor, "_analyse_batch", stop_after_two)
    argv = [str(root), "--output", str(out), "--bundle", str(bundle), "--batch-size", "1"]
    assert main(argv) == 130
    capsys.readouterr()
    assert main([*argv, "--vis", str(vis), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "note: --resume: 2 records kept from the stopped run have no picture in" in err, err
    assert len(list(vis.glob("*.png"))) == 3 and len(read_records(out)) == 5
    assert main([*argv, "--vis", str(tmp_path / "vis2")]) == 0  # a new run draws every picture, no note
    assert "no picture" not in capsys.readouterr().err and len(list((tmp_path / "vis2").glob("*.png"))) == 5


def test_resume_from_another_working_folder_is_refused_not_appended_again(bundle, tmp_path, capsys, monkeypatch):
    """Trial 60: records keep paths as given, relative to where the run began; resumed from another
    folder, no image matched and all were analysed and appended again (48 records for 26 images)."""
    _mixed_folder(tmp_path / "photos", good=3, bad=0)
    monkeypatch.chdir(tmp_path)
    assert main(["photos", "--output", "out.jsonl", "--bundle", str(bundle)]) == 0
    before = (tmp_path / "out.jsonl").read_bytes()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    capsys.readouterr()
    assert main(["../photos", "--output", "../out.jsonl", "--bundle", str(bundle), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "none of the 3 images given is among the 3 records of ../out.jsonl by path, though 3 have" in err
    assert "relative to the folder the first run was started in" in err
    assert (tmp_path / "out.jsonl").read_bytes() == before
    (tmp_path / "sub" / "other").mkdir()  # other images altogether are added, as before
    _image(tmp_path / "sub" / "other" / "new.png")
    assert main(["other", "--output", "../out.jsonl", "--bundle", str(bundle), "--resume"]) == 0
    assert len(read_records(tmp_path / "out.jsonl")) == 4


def test_a_resumed_run_spells_its_paths_as_the_records_it_resumes(bundle, tmp_path, monkeypatch):
    """Resumed by another spelling of the same folder (absolute where the first run was relative, or
    the reverse), the new records spell their paths as the output's records do: one spelling per file."""
    _mixed_folder(tmp_path / "photos", good=2, bad=0)
    monkeypatch.chdir(tmp_path)
    first, *rest = sorted(p.name for p in (tmp_path / "photos").iterdir())
    for given, again, out in ((f"photos/{first}", str(tmp_path / "photos"), "relative.jsonl"),
                              (str(tmp_path / "photos" / first), "photos", "absolute.jsonl")):  # fmt: skip
        assert main([given, "--output", out, "--bundle", str(bundle)]) == 0
        assert main([again, "--output", out, "--bundle", str(bundle), "--resume"]) == 0
        images = [r["image"] for r in read_records(tmp_path / out)]
        assert len(images) == 2 and os.path.basename(images[1]) == rest[0], images
        assert {os.path.isabs(i) for i in images} == {out == "absolute.jsonl"}, images


def test_outputs_are_regular_files_written_through_links_by_one_run_at_a_time(bundle, tmp_path, capsys):
    """Trial 60: --output /dev/stdout (or a named pipe) was replaced by a plain file; a link was
    replaced by a file; two runs into one --output mixed their records."""
    from lnet_anet.inference.outputs import OutputInUseError, RecordLog

    photo = _image(tmp_path / "a.png")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for flag in ("--output", "--csv"):
        assert main([str(photo), flag, str(pipe), "--bundle", str(bundle)]) == 1
        err = capsys.readouterr().err
        assert f"error: cannot write {flag} {pipe}: a named pipe, not a regular file" in err
        assert pipe.is_fifo() and not list(tmp_path.glob(".pipe*")) and not list(tmp_path.glob("pipe.*"))
    link, target = tmp_path / "link.jsonl", tmp_path / "kept" / "real.jsonl"
    target.parent.mkdir()
    link.symlink_to(target)
    assert main([str(photo), "--output", str(link), "--bundle", str(bundle)]) == 0
    assert link.is_symlink() and [r["image"] for r in read_records(target)] == [str(photo)]
    held = RecordLog(tmp_path / "busy.jsonl")  # another run writing this output
    with pytest.raises(OutputInUseError):
        RecordLog(tmp_path / "busy.jsonl", resume=True)
    capsys.readouterr()
    assert main([str(photo), "--output", str(tmp_path / "busy.jsonl"), "--bundle", str(bundle)]) == 1
    assert "another run is writing it: wait for it to end" in capsys.readouterr().err  # before the models load
    held.write({"image": "x.png", "faces": [], "error": None})
    # Trial 62: with records in the held log, a run without --resume was told to remove it (exit 2)
    assert main([str(photo), "--output", str(tmp_path / "busy.jsonl"), "--bundle", str(bundle)]) == 1
    assert "another run is writing it: wait for it to end" in capsys.readouterr().err
    assert held.close() == 1 and [r["image"] for r in read_records(tmp_path / "busy.jsonl")] == ["x.png"]
    assert main([str(photo), "--output", str(tmp_path / "busy.jsonl"), "--bundle", str(bundle), "--resume"]) == 0
    assert len(read_records(tmp_path / "busy.jsonl")) == 2  # free once the first has closed


def test_a_linked_output_a_shared_csv_and_dev_paths_are_guarded_too(bundle, tmp_path, capsys):
    """Trial 62: the checks made before the models load looked for the .part beside a link, not
    beside its file (a stopped run's records were emptied); two runs shared one --csv unguarded;
    --output /dev/stdout with stdout redirected to a file replaced that file; a killed run's CSV
    temporary stayed; a faceless row read at a turn had no rotation."""
    from lnet_anet.inference.outputs import CsvTable, OutputInUseError, output_path_problem

    photo = _image(tmp_path / "a.png")
    target, link = tmp_path / "kept" / "real.jsonl", tmp_path / "link.jsonl"
    target.parent.mkdir()
    link.symlink_to(target)
    stopped = target.with_name("real.jsonl.part")
    stopped.write_text(json.dumps({"image": "old.png", "faces": [], "error": None}) + "\n")
    assert main([str(photo), "--output", str(link), "--bundle", str(bundle)]) == 2
    assert "real.jsonl.part holds 1 records of a run that was stopped" in capsys.readouterr().err
    assert len(read_records(stopped)) == 1
    for stream in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        assert output_path_problem(stream).startswith("a device or a stream of this process")
    table = tmp_path / "faces.csv"
    stale = tmp_path / ".faces.csv.tmp999999"
    stale.write_text("left by a killed run")
    held = CsvTable(table, ["Smiling"])
    assert not stale.exists()
    with pytest.raises(OutputInUseError):
        CsvTable(table, ["Smiling"])
    assert main([str(photo), "--csv", str(table), "--bundle", str(bundle)]) == 1
    assert f"error: cannot write --csv {table}: another run is writing it" in capsys.readouterr().err
    held.add({"image": "turned.png", "faces": [], "error": None, "rotation": 90})
    held.close()
    rows = list(csv.DictReader(table.open()))
    assert [(r["image"], r["rotation"]) for r in rows] == [("turned.png", "90")]
    assert main([str(photo), "--csv", str(table), "--bundle", str(bundle)]) == 0  # free once closed
    assert not list(tmp_path.glob(".faces.csv*"))


def test_a_run_interrupted_before_its_first_record_does_not_name_a_log_to_resume(bundle, tmp_path, capsys, monkeypatch):
    """Stopped before any record was written, the empty .part log is removed: the message says
    to rerun the command instead of naming that file (a fresh-user trial, session 50)."""
    from lnet_anet.inference.predictor import Predictor

    root = tmp_path / "mixed"
    _mixed_folder(root, good=2, bad=0)
    out = tmp_path / "out.jsonl"

    def stopped(self, read):
        raise KeyboardInterrupt

    monkeypatch.setattr(Predictor, "_analyse_batch", stopped)
    assert main([str(root), "--output", str(out), "--bundle", str(bundle)]) == 130
    err = capsys.readouterr().err
    assert "no record was written, so there is nothing to resume" in err and ".part" not in err
    assert not out.exists() and not out.with_name("out.jsonl.part").exists()
    assert "--csv" not in err
    table = tmp_path / "faces.csv"  # --csv alone: the table is written when a run ends, and the message says so
    assert main([str(root), "--csv", str(table), "--bundle", str(bundle)]) == 130
    err = capsys.readouterr().err
    assert f"--csv {table} is written when a run ends, so it was not written (with --output FILE.jsonl" in err
    assert not table.exists()


def test_ctrl_c_while_the_bundle_loads_is_one_line_not_a_traceback(bundle, tmp_path, capsys, monkeypatch):
    """Ctrl-C in the first seconds (torch importing, the bundle read) ends with the interrupt line
    and status 130, as later (a fresh-user trial, session 55)."""
    from lnet_anet.inference import predictor

    root = tmp_path / "mixed"
    _mixed_folder(root, good=1, bad=0)

    def loading(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(predictor.Predictor, "load", loading)
    assert main([str(root), "--bundle", str(bundle)]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_resume_refuses_an_output_read_with_other_options(bundle, tmp_path, capsys):
    """--resume into an output written with other reading options (--mirror, --box-jitter,
    --rotations, descriptor heads) stops with exit 2 and names them, instead of mixing records
    read two ways in one file; the same options resume."""
    root = tmp_path / "photos"
    _mixed_folder(root, good=3, bad=0)
    out = tmp_path / "out.jsonl"
    argv = [str(root), "--output", str(out), "--bundle", str(bundle)]
    assert main([*argv, "--box-jitter"]) == 0
    records = read_records(out)
    assert records and all(r["box_jitter"] is True for r in records)
    _image(root / "img100.png", 100, size=(24, 20))  # one more image to do
    assert main([*argv, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds records read with other options (--box-jitter on)" in err
    assert read_records(out) == records  # the output is untouched
    assert not out.with_name("out.jsonl.part").exists()  # and no empty log is left beside it
    assert main([*argv, "--resume", "--box-jitter", "--mirror"]) == 2
    assert "--mirror off" in capsys.readouterr().err
    out.rename(out.with_name("out.jsonl.part"))  # a stopped run left its .part log only: that file is named (trial 71)
    assert main([*argv, "--resume"]) == 2
    assert f"--resume: {out}.part holds records read with other options" in capsys.readouterr().err
    out.with_name("out.jsonl.part").rename(out)
    assert main([*argv, "--resume", "--box-jitter"]) == 0
    assert "3 already in the output" in capsys.readouterr().err
    assert len(read_records(out)) == 4 and all(r["box_jitter"] for r in read_records(out))
    # another bundle (a retrained one, say) never adds its records to this output
    other = random_bundle(tmp_path / "other.lnetanet", threshold=0.0, max_faces=2, seed=1)
    assert load_bundle(other).identity != load_bundle(bundle).identity == read_records(out)[0]["bundle"]
    _image(root / "img101.png", 101, size=(24, 20))
    assert main([str(root), "--output", str(out), "--bundle", str(other), "--resume", "--box-jitter"]) == 2
    err = capsys.readouterr().err
    assert f"--bundle of identity {load_bundle(bundle).identity}" in err and "the model" not in err  # said once
    # the same bundle with another head file (an upgrade, trial 69): "model" differs, and it is refused
    kept = read_records(out)
    out.write_text("".join(json.dumps({**r, "model": "0123456789ab"}) + "\n" for r in kept))
    assert main([*argv, "--resume", "--box-jitter"]) == 2
    assert "the model (the bundle with its heads and lnet_anet's version) 0123456789ab where this run has " \
           f"{kept[0]['model']}: a head or lnet_anet changed since" in capsys.readouterr().err
    old = [{k: v for k, v in r.items() if k not in ("bundle", "model")} for r in kept]  # written before records said them
    out.write_text("".join(json.dumps(r) + "\n" for r in old))
    assert main([str(root), "--output", str(out), "--bundle", str(other), "--resume", "--box-jitter"]) == 0


def test_resume_refuses_a_file_that_is_not_predicts_output(bundle, tmp_path, capsys, monkeypatch):
    """--resume into another program's file (a line that is not a record) stops with exit 2,
    naming the file and line, and leaves the file as it was: before, it was replaced silently.
    It is refused before the models load (that took seconds, and exported ONNX graphs)."""
    from lnet_anet.inference.predictor import Predictor

    root = tmp_path / "photos"
    _mixed_folder(root, good=2, bad=0)
    out = tmp_path / "notes.jsonl"
    mine = '{"image": "x.jpg", "faces": []}\n{"note": "my own lines"}\n'
    out.write_text(mine)
    with monkeypatch.context() as m:
        m.setattr(Predictor, "load", classmethod(lambda cls, *a, **k: pytest.fail("loaded the models first")))
        assert main([str(root), "--output", str(out), "--bundle", str(bundle), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"{out}, line 2: not a record of predict's JSON Lines output" in err and "my own lines" in err
    assert out.read_text() == mine and not out.with_name("notes.jsonl.part").exists()
    part = out.with_name("notes.jsonl.part")  # a foreign line in the .part log is refused alike
    out.write_text(mine.splitlines(keepends=True)[0])
    part.write_text('{"image": "y.jpg", "faces": []}\nsome other text\n')
    assert main([str(root), "--output", str(out), "--bundle", str(bundle), "--resume"]) == 2
    assert f"{part}, line 2" in capsys.readouterr().err and part.read_text().endswith("some other text\n")
    part.unlink()
    # predict's own output, with a half-written last line in .part after a kill, still resumes
    assert main([str(root), "--output", str(out), "--bundle", str(bundle)]) == 0
    out.with_name("notes.jsonl.part").write_text('{"image": "cut sh')
    assert main([str(root), "--output", str(out), "--bundle", str(bundle), "--resume"]) == 0
    assert len(read_records(out)) == 2


def test_images_may_follow_options(bundle, tmp_path, capsys):
    """predict a.jpg --json b.jpg reads both images (argparse's intermixed parsing), as other
    command-line tools take files around their flags."""
    for n in range(2):
        _image(tmp_path / f"img{n}.png", n, size=(24, 20))
    assert main([str(tmp_path / "img0.png"), "--json", "--bundle", str(bundle), str(tmp_path / "img1.png")]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [Path(r["image"]).name for r in records] == ["img0.png", "img1.png"]


SLOW_RUNNER = """
import sys, time
from lnet_anet.inference.predictor import Predictor
real = Predictor._analyse_batch
def slow(self, read):
    time.sleep(0.25)
    return real(self, read)
Predictor._analyse_batch = slow
from lnet_anet.cli.predict import main
sys.exit(main(sys.argv[1:]))
"""


def _slow_run_until(argv: list[str], part: Path, lines: int, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """`predict argv` in a process of its own, slowed (SLOW_RUNNER), once `part` holds `lines`
    records: for the tests that stop it half-way (stderr: PIPE only for a run read with
    communicate, whose few lines cannot fill the pipe before it stops)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUNNER, *argv], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if part.exists() and part.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be stopped"
    return proc


def test_kill_9_half_way_then_resume(bundle, tmp_path, capsys):
    root = tmp_path / "mixed"
    _mixed_folder(root, good=16, bad=1)
    out = tmp_path / "out.jsonl"
    part = out.with_name("out.jsonl.part")
    argv = [str(root), "--output", str(out), "--bundle", str(bundle), "--batch-size", "1"]
    proc = _slow_run_until([*argv, "--json"], part, 5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["image"] for r in read_records(part) if r["error"] is None}
    assert 4 <= len(before) < 16 and not out.exists()  # 5 lines: the bad file and 4 good
    assert main([*argv, "--resume", "--json"]) == 1  # the bad file, retried, fails again
    second = {r["image"] for r in _records(capsys.readouterr().out)}
    assert not before & second  # nothing analysed twice
    records = read_records(out)
    images = [r["image"] for r in records]
    assert len(images) == len(set(images)) == 17  # nothing lost, one record each
    assert before | second == set(images)


@pytest.mark.parametrize(
    "flags",
    [["--threshold", "nan"], ["--threshold", "inf"], ["--threshold", "x"], ["--max-pixels", "0"],
     ["--max-pixels", "nan"], ["--batch-size", "1.5"], ["--batch-size", "100000"], ["--top", "-1"],
     ["--resume"]],  # fmt: skip
)
def test_numeric_flags_are_validated(tmp_path, flags, capsys):
    assert main([str(tmp_path), *flags]) == 2
    assert "error" in capsys.readouterr().err


def test_max_pixels_flag_and_unwritable_output(bundle, tmp_path, capsys):
    path = _image(tmp_path / "big.png", size=(200, 100))
    assert main([str(path), "--json", "--max-pixels", "1e4", "--bundle", str(bundle)]) == 1
    assert "over the limit of 0.01 megapixels (--max-pixels 10000; Predictor.load(max_pixels=))" in _records(capsys.readouterr().out)[0]["error"]
    assert main([str(path), "--json", "--max-pixels", "2e4", "--bundle", str(bundle)]) == 0
    capsys.readouterr()
    folder = tmp_path / "taken"
    folder.mkdir()
    assert main([str(path), "--output", str(folder), "--bundle", str(bundle)]) == 1
    assert f"error: cannot write --output {folder}: a folder, not a file" in capsys.readouterr().err
    (tmp_path / "plain.txt").write_text("a file where a folder should be")
    table = tmp_path / "plain.txt" / "faces.csv"
    assert main([str(path), "--csv", str(table), "--output", str(tmp_path / "o.jsonl"), "--bundle", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot write --csv {table}: " in err and ".tmp" not in err  # the file given, not the temporary one


def test_rotations_flag_tries_every_quarter_turn(bundle, tmp_path, capsys):
    photo = _image(tmp_path / "side.png", size=(48, 32))
    # The shipped upright head reads the shipped ANet's feature: refused for this bundle, once.
    assert main([str(photo), "--json", "--bundle", str(bundle), "--rotations"]) == 1
    assert "another ANet" in capsys.readouterr().err
    assert main([str(photo), "--bundle", str(bundle), "--upright-head", str(tmp_path / "u.safetensors")]) == 2
    assert "--upright-head needs --rotations" in capsys.readouterr().err
    d = Predictor.load(bundle).bundle.svm.feature_dim
    UprightHead(np.zeros(d), np.ones(d), np.ones(d), 0.0).save(tmp_path / "u.safetensors")
    assert main([str(photo), "--json", "--bundle", str(bundle), "--rotations", "--csv", str(tmp_path / "turned.csv"),
                 "--upright-head", str(tmp_path / "u.safetensors")]) == 0  # fmt: skip
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["rotation"] in (0, 90, 180, 270) and record["error"] is None and record["faces"]
    for face in record["faces"]:  # boxes in the file's own pixels, whatever the turn
        x0, y0, x1, y1 = face["box"]
        assert 0 <= x0 < x1 <= 48 and 0 <= y0 < y1 <= 32
    # The CSV says the turn too (trial 59: a CSV-only pipeline could not crop the face upright)
    rows = list(csv.DictReader((tmp_path / "turned.csv").open()))
    assert [r["rotation"] for r in rows] == [str(record["rotation"])] * len(record["faces"])
    assert main([str(photo), "--json", "--bundle", str(bundle), "--csv", str(tmp_path / "plain.csv")]) == 0
    assert "rotation" not in json.loads(capsys.readouterr().out.splitlines()[0])
    assert {r["rotation"] for r in csv.DictReader((tmp_path / "plain.csv").open())} == {""}


def test_output_on_a_terminal_that_is_not_utf8_is_escaped(bundle, tmp_path, monkeypatch):
    root = tmp_path / "names"
    root.mkdir()
    _image(root / "émoji 😀.png", 0)
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main([str(root), "--json", "--bundle", str(bundle)]) == 0
    stdout.flush()
    text = stdout.buffer.getvalue().decode("cp1252")
    assert text.isascii() and Path(json.loads(text)["image"]).name == "émoji 😀.png"
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert main([str(root), "--bundle", str(bundle)]) == 0  # the table too: escaped, not an error
    ascii_out.flush()
    assert "\\xe9moji \\U0001f600.png" in ascii_out.buffer.getvalue().decode("ascii")


def test_resume_refuses_an_output_read_with_other_localization_settings(bundle, tmp_path, capsys):
    """--threshold, --secondary-threshold and --detail change which faces are found: records say
    them ("settings", Predictor.reading_settings) and --resume refuses to mix them (a fresh-user
    trial resumed with another --detail and got records read two ways in one file)."""
    root = tmp_path / "photos"
    _mixed_folder(root, good=2, bad=0)
    out = tmp_path / "out.jsonl"
    argv = [str(root), "--output", str(out), "--bundle", str(bundle)]
    assert main([*argv, "--threshold", "0.5", "--detail", "0.5"]) == 0
    records = read_records(out)
    assert records and all(r["settings"] == {"threshold": 0.5, "detail_ratio": 0.5} for r in records)
    _image(root / "img100.png", 100, size=(24, 20))
    assert main([*argv, "--resume", "--threshold", "0.5"]) == 2
    assert "(settings: threshold=0.5, detail_ratio=0.5 where this run has threshold=0.5)" in capsys.readouterr().err
    assert read_records(out) == records
    assert main([*argv, "--resume", "--threshold", "0.5", "--detail", "0.5"]) == 0
    assert len(read_records(out)) == 3
    plain = tmp_path / "plain.jsonl"
    assert main([str(root), "--output", str(plain), "--bundle", str(bundle)]) == 0
    assert all("settings" not in r for r in read_records(plain))  # as the bundle says: no key


def test_resume_refuses_other_options_before_the_models_load(bundle, tmp_path, capsys, monkeypatch):
    """--resume --mirror, --bundle B or --threshold T into an output read otherwise is refused from
    the arguments and the bundle's header, before the Predictor loads: a bundle's first load
    exports its ONNX graphs (seconds, with a "note: first use of this graph" line), and the run
    was refused only after that."""
    root = tmp_path / "photos"
    _mixed_folder(root, good=2, bad=0)
    out = tmp_path / "out.jsonl"
    argv = [str(root), "--output", str(out), "--bundle", str(bundle)]
    assert main(argv) == 0
    capsys.readouterr()
    records = read_records(out)
    other = random_bundle(tmp_path / "other.lnetanet", threshold=0.0, max_faces=2, seed=1)
    _image(root / "img100.png", 100, size=(24, 20))
    monkeypatch.setattr(Predictor, "load", classmethod(lambda cls, *a, **k: pytest.fail("loaded the models first")))
    for extra, says in ((["--mirror"], "(--mirror off)"), (["--box-jitter"], "(--box-jitter off)"),
                        (["--bundle", str(other)], f"--bundle of identity {records[0]['bundle']} where this run has "
                                                   f"{load_bundle(other).identity}"),
                        (["--threshold", "0.5"], "settings: the bundle's (threshold=0.0) where this run has threshold=0.5"),
                        (["--detail", "0.5", "--attractiveness-patches", "grid"], "where this run has detail_ratio=0.5, "
                                                                                 "patches={'attractiveness': 'grid'}"),
                        (["--closeups"], "where this run has zoom_in_lone_skip_share=0.6")):  # fmt: skip
        assert main([*argv, "--resume", *extra]) == 2
        err = capsys.readouterr().err
        assert says in err and "note:" not in err, err
    assert read_records(out) == records and not out.with_name("out.jsonl.part").exists()


def test_closeups_with_a_bundle_that_never_reads_a_lone_face_again_is_refused(bundle, tmp_path, capsys):
    """--closeups changes a setting of the bundle's second reading of a lone face
    (zoom_in_lone_p); a bundle without that reading says so and nothing is written."""
    root = tmp_path / "photos"
    _mixed_folder(root, good=1, bad=0)
    out = tmp_path / "out.jsonl"
    assert main([str(root), "--closeups", "--output", str(out), "--bundle", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "--closeups:" in err and "zoom_in_lone_p" in err, err
    assert not out.exists()


def test_resume_takes_a_restated_value_as_the_runs_and_refuses_another(tmp_path, capsys):
    """--resume --threshold 0.123 into an output read at the bundle's threshold 0.1234567 restates
    it (as 0.662 restates the shipped bundle's 0.6624905531191163, which the README gives as
    0.662): resumed, read at 0.1234567, so that the records still say no setting. It was refused.
    0.12 and 0.124 are other values: refused, the message giving the bundle's. --detail alike."""
    bundle = random_bundle(tmp_path / "b.lnetanet", threshold=0.1234567, max_faces=2)
    root = tmp_path / "photos"
    _mixed_folder(root, good=2, bad=0)
    out = tmp_path / "out.jsonl"
    argv = [str(root), "--output", str(out), "--bundle", str(bundle)]
    assert main(argv) == 0
    _image(root / "img100.png", 100, size=(24, 20))
    for other in ("0.12", "0.124"):
        assert main([*argv, "--resume", "--threshold", other]) == 2
        assert (f"settings: the bundle's (threshold=0.1234567) where this run has threshold={other}"
                in capsys.readouterr().err)  # fmt: skip
    assert main([*argv, "--resume", "--threshold", "0.123"]) == 0
    assert "note: --resume: --threshold 0.123 taken as 0.1234567" in capsys.readouterr().err
    assert len(read_records(out)) == 3 and all("settings" not in r for r in read_records(out))
    detail = tmp_path / "detail.jsonl"  # the other numbers a run records: --secondary-threshold, --detail
    argv = [str(root), "--output", str(detail), "--bundle", str(bundle)]
    assert main([*argv, "--secondary-threshold", "0.3456789", "--detail", "0.2345678"]) == 0
    said = {"secondary_threshold": 0.3456789, "detail_ratio": 0.2345678}
    assert all(r["settings"] == said for r in read_records(detail))
    _image(root / "img101.png", 101, size=(24, 20))
    assert main([*argv, "--resume", "--secondary-threshold", "0.346", "--detail", "0.24"]) == 2
    assert main([*argv, "--resume", "--secondary-threshold", "0.35", "--detail", "0.235"]) == 2
    assert main([*argv, "--resume", "--secondary-threshold", "0.346", "--detail", "0.235"]) == 0
    assert len(read_records(detail)) == 4 and all(r["settings"] == said for r in read_records(detail))


def test_output_and_csv_never_overwrite_a_photo_or_each_other(bundle, tmp_path, capsys):
    """--output / --csv naming a picture (`--csv *.jpg` makes the first photo the CSV) or the same
    file are usage errors (exit 2), checked before anything is read: the photo is untouched."""
    photo = tmp_path / "victim.jpg"
    _image(photo, 1, size=(24, 20))
    before = photo.read_bytes()
    for argv in (["--output", str(photo)], ["--csv", str(tmp_path / "other.png")],
                 ["--output", str(tmp_path / "o.jsonl"), "--csv", str(tmp_path / "o.jsonl")]):  # fmt: skip
        assert main([str(photo), "--bundle", str(bundle), *argv]) == 2
        assert "names a picture" in (err := capsys.readouterr().err) or "name the same file" in err
    assert photo.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["victim.jpg"]


def test_sigterm_stops_predict_as_ctrl_c_does_and_leaves_no_temporary_file(bundle, tmp_path):
    """A job scheduler's SIGTERM: exit 130, the records so far kept in the .part for --resume, no
    hidden temporary CSV left (a fresh-user trial found `.o.csv.tmp<pid>` after a SIGTERM)."""
    root = tmp_path / "photos"
    _mixed_folder(root, good=16, bad=0)
    out, csv = tmp_path / "o.jsonl", tmp_path / "o.csv"
    part = out.with_name("o.jsonl.part")
    argv = [str(root), "--output", str(out), "--csv", str(csv), "--bundle", str(bundle), "--batch-size", "1"]
    proc = _slow_run_until(argv, part, 3, stderr=subprocess.PIPE)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"interrupted" in err
    assert part.exists() and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl.part", "photos"]  # no .o.csv.tmp*


def test_resume_keeps_the_pictures_of_the_records_it_keeps(bundle, tmp_path, capsys):
    """--resume --vis: a new image whose name an earlier record's picture holds (a file of that
    name in another folder) gets a numbered picture; the earlier one is not written over."""
    first, second = _image(tmp_path / "a" / "noise.png", 1), _image(tmp_path / "b" / "noise.png", 2)
    out, vis = tmp_path / "out.jsonl", tmp_path / "vis"
    argv = ["--output", str(out), "--vis", str(vis), "--bundle", str(bundle)]
    assert main([str(first), *argv]) == 0
    kept = (vis / "noise.png.png").read_bytes()
    assert main([str(first), str(second), *argv, "--resume"]) == 0
    capsys.readouterr()
    records = {Path(r["image"]).parent.name: r["vis"] for r in read_records(out)}
    assert records == {"a": str(vis / "noise.png.png"), "b": str(vis / "noise.png_2.png")}
    assert (vis / "noise.png.png").read_bytes() == kept and (vis / "noise.png_2.png").is_file()


def test_a_folder_lists_a_linked_file_once_and_names_its_heic_photos(bundle, tmp_path, capsys):
    """A file link beside its target is one image (stdout, --output and --csv agree); a broken
    HEIC photo in a folder gets its own error record saying why, not a silent skip."""
    root = tmp_path / "photos"
    _image(root / "chip.png", 1)
    (root / "link.png").symlink_to(root / "chip.png")
    (root / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    out, table = tmp_path / "o.jsonl", tmp_path / "faces.csv"
    assert main([str(root), "--json", "--output", str(out), "--csv", str(table), "--bundle", str(bundle),
                 "--verbose"]) == 1  # fmt: skip
    assert "link.png (file already listed through another link)" in capsys.readouterr().err
    # the link given as well as found in its folder: said once, counted once
    assert main([str(root / "link.png"), str(root), "--bundle", str(bundle), "--verbose"]) == 1
    err = capsys.readouterr().err
    assert err.count("link.png (file already listed through another link)") == 1 and "1 skipped" in err
    records = read_records(out)
    assert sorted(Path(r["image"]).name for r in records) == ["IMG_0001.HEIC", "chip.png"]
    heic = next(r for r in records if r["image"].endswith(".HEIC"))
    assert "HEIC/HEIF photo that pillow-heif cannot decode" in heic["error"]
    with open(table, encoding="utf-8") as f:
        rows = {Path(r["image"]).name: r for r in csv.DictReader(f)}
    assert set(rows) == {"chip.png", "IMG_0001.HEIC"} and rows["IMG_0001.HEIC"]["error"] == heic["error"]


def test_a_file_reached_through_two_arguments_is_read_once(bundle, tmp_path, capsys):
    """A folder and a file in it, or a folder and its subfolder: each file once on stdout, in the
    JSONL and in the CSV, the first spelling kept and the others named with --verbose."""
    root = tmp_path / "photos"
    _image(root / "a.png", 1)
    _image(root / "sub" / "b.png", 2)
    out, table = tmp_path / "o.jsonl", tmp_path / "faces.csv"
    argv = [str(root), str(root / "a.png"), str(root / "sub"), "--json", "--output", str(out), "--csv", str(table),
            "--bundle", str(bundle), "--verbose"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    printed = sorted(r["image"] for r in _records(captured.out))
    assert printed == sorted(r["image"] for r in read_records(out)) == [str(root / "a.png"), str(root / "sub" / "b.png")]
    assert f"{root / 'a.png'} (listed twice)" in captured.err and f"{root / 'sub' / 'b.png'} (listed twice)" in captured.err
    with open(table, encoding="utf-8") as f:
        images = [r["image"] for r in csv.DictReader(f)]
    assert len(images) == len(set(images))


# ----------------------------------------------------------------------------- a fresh-user trial's findings


def test_csv_gives_every_image_a_row_and_keeps_the_face_rows(bundle, tmp_path, capsys):
    """--csv: an image with no face or an error gets one row, its face columns empty and its error
    in the column before the last (model, which read it); face rows are face_rows' own, with an
    empty error and the model after them."""
    from lnet_anet.inference.outputs import face_rows

    root = tmp_path / "in"
    _image(root / "a.png", 1)
    _image(root / "b.png", 2)
    (root / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    table = tmp_path / "faces.csv"
    argv = [str(root), "--json", "--csv", str(table), "--bundle", str(bundle)]
    assert main([*argv, "--threshold", "1e9"]) == 1  # no face anywhere; bad.jpg an error
    records = {Path(r["image"]).name: r for r in _records(capsys.readouterr().out)}
    with open(table, encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header == [*CSV_FIXED, *CELEBA_ATTRIBUTES, "error", "model", *CSV_AFTER]
    assert [Path(row[0]).name for row in rows] == ["a.png", "b.png", "bad.jpg"]
    error, model = header.index("error"), header.index("model")
    assert all(len(row) == len(header) and not any(row[1:error]) and not row[-1] for row in rows)  # face columns empty
    assert [row[error] for row in rows] == ["", "", records["bad.jpg"]["error"]]
    assert {row[model] for row in rows} == {records["bad.jpg"]["model"]}  # an error row names its model too
    assert [row[header.index("width")] for row in rows] == [str(records["a.png"]["width"]), str(records["b.png"]["width"]), ""]
    assert main(argv) == 1
    records = {Path(r["image"]).name: r for r in _records(capsys.readouterr().out)}
    with open(table, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    faces = [[str(v) for v in row] + ["", records[name]["model"]] for name in ("a.png", "b.png")
             for row in face_rows(records[name], CELEBA_ATTRIBUTES)]  # fmt: skip
    after = len(CSV_AFTER)
    assert faces and [row[:-after] for row in rows[:-1]] == faces
    assert rows[-1][-after - 2] == records["bad.jpg"]["error"]


def test_csv_spells_undecodable_name_bytes_as_the_json_lines_do(bundle, tmp_path, capsys):
    root = tmp_path / "names"
    name = _image(Path(os.fsdecode(os.fsencode(root) + b"/x\xff.png")))
    table = tmp_path / "faces.csv"
    assert main([str(root), "--json", "--csv", str(table), "--bundle", str(bundle)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    spelt = os.fsdecode(os.fsencode(root)) + "/x\\udcff.png"  # the JSON Lines' text: \udcff, not \xff
    assert f'"image": "{spelt}"' in line and json.loads(line)["image"] == str(name)
    with open(table, encoding="utf-8") as f:
        assert {row["image"] for row in csv.DictReader(f)} == {spelt}


def test_a_control_character_in_a_name_stays_on_its_table_line(bundle, tmp_path, capsys):
    """A newline in a file name: escaped in the table (one line per face), as it is in JSON."""
    root = tmp_path / "odd"
    _image(root / "new\nline.png")
    (root / "bad\tone.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    assert main([str(root), "--bundle", str(bundle)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("image  box")
    assert lines[1].startswith(f"{root}/bad\\tone.jpg  ERROR  ") and lines[1].count("bad\\tone.jpg") == 1
    assert lines[2].startswith(f"{root}/new\\nline.png  [")
    assert main([str(root), "--json", "--bundle", str(bundle)]) == 1  # JSON as it was: json.dumps' escape
    assert '/new\\nline.png"' in capsys.readouterr().out


def test_vis_below_a_file_is_refused_before_any_image_is_read(bundle, tmp_path, capsys, monkeypatch):
    from lnet_anet.inference.predictor import Predictor

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(Predictor, "load", lambda *a, **k: pytest.fail("loaded the models"))
    for vis in (blocker / "vis", blocker / "deeper" / "vis"):
        assert main([str(_image(tmp_path / "x.png")), "--json", "--vis", str(vis), "--bundle", str(bundle)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and f"--vis {vis} cannot be made: {blocker} is a file" in captured.err


def test_the_detail_note_names_the_face_sizes_neither_reading_finds():
    """A 4032 x 3024 phone photo: the embedded bundle's reading misses faces under ~360 px,
    --detail 0.5 reads faces up to ~110 px and --detail 0.35 up to ~250 px, so the note names both
    and says that faces in between are often missed by every reading (a fresh-user trial followed the
    note's --detail 0.5 for 250 px faces and found nothing; experiments/2026-12-06-detail-confirm)."""
    from lnet_anet.cli.predict import detail_note
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    lnet = load_bundle(DEFAULT_BUNDLE, build_nets=False).preprocessing["lnet"]
    note = detail_note([("IMG_0001.jpg", 4032, 3024)], lnet)
    assert "faces under ~360 px" in note and "faces of ~250-360 px are often missed by every reading" in note
    assert "try --detail 0.5 for faces of about 50-110 px, --detail 0.35 for faces of about 110-250 px" in note
    assert "missed by every" not in detail_note([("IMG_0002.jpg", 2000, 1500)], lnet)  # reads faces over ~180 px


def test_the_detail_note_of_photos_of_several_sizes_gives_the_range_of_their_figures():
    """A trial (58b): photos of 4032 x 3024 and 6000 x 4000 with no face got the first photo's figures
    (~0.11 px per pixel, faces under ~360 px) for both; the 6000 x 4000 photo's are ~0.075 and ~540."""
    from lnet_anet.cli.predict import detail_note
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    lnet = load_bundle(DEFAULT_BUNDLE, build_nets=False).preprocessing["lnet"]
    alone = detail_note([("big.jpg", 6000, 4000)], lnet)
    assert "reads it at ~0.075 px per pixel" in alone and "faces under ~540 px" in alone
    both = detail_note([("phone.jpg", 4032, 3024), ("big.jpg", 6000, 4000), ("phone2.jpg", 4032, 3024)], lnet)
    assert "no face passed the localizer in 3 photos" in both and "the first: phone.jpg, 4032x3024)" in both
    assert "reads them at ~0.075-0.11 px per pixel" in both and "faces under ~360-540 px" in both
    assert "faces of ~250-540 px are often missed by every reading" in both and "reads them in tiles" in both


def test_a_large_photo_with_no_face_ends_with_one_detail_note(bundle, tmp_path, capsys, monkeypatch):
    """Photos over LARGE_PHOTO_PIXELS with no face found: one note on stderr for the run (not one per
    photo) suggesting --detail; the records and the table stay as they are."""
    import lnet_anet.cli.predict as cli

    monkeypatch.setattr(cli, "LARGE_PHOTO_PIXELS", 40 * 32)  # 40 x 32 photos stand for 12 MP ones: at the bound, noted
    photos = [str(_image(tmp_path / f"{n}.png", n)) for n in range(2)]
    argv = [*photos, "--json", "--bundle", str(bundle), "--threshold", "1e9"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert [r["faces"] for r in _records(captured.out)] == [[], []]
    notes = [line for line in captured.err.splitlines() if "--detail 0.5" in line]
    assert notes == [line for line in captured.err.splitlines() if line.startswith("note: no face passed")]
    assert len(notes) == 1 and notes[0].startswith("note: no face passed the localizer in 2 photos LNet reads shrunk "
                                                   f"(0.00128 megapixels or more, or a long strip; the first: {photos[0]}, "
                                                   "40x32): ")  # fmt: skip
    assert "(~40 px as read)" in notes[0] and "missed by every" not in notes[0]  # 40 x 32: no face of ~250 px
    assert main([*argv, "--detail", "0.5"]) == 0  # --detail on: nothing to suggest
    assert "--detail" not in capsys.readouterr().err
    monkeypatch.setattr(cli, "LARGE_PHOTO_PIXELS", 12_000_000)  # a small photo: no note
    assert main(argv) == 0 and "note: no face passed" not in capsys.readouterr().err


def test_a_long_strip_is_read_shrunk_as_a_large_photo_is():
    """A trial (71): an 8000 x 600 panorama (4.8 MP) lost its 13 faces of 450 px with no note, since the
    note asked for 12 MP; LNet reads it at half a 12 MP photo's ratio. --detail 0.35 found them all."""
    from lnet_anet.cli.predict import detail_note, read_shrunk
    from lnet_anet.data.preprocess import LNetInput
    from lnet_anet.inference.bundle import load_bundle
    from lnet_anet.inference.shipped import DEFAULT_BUNDLE

    shipped = load_bundle(DEFAULT_BUNDLE, build_nets=False).preprocessing["lnet"]
    lnet = {**shipped, "wide_canvas": None}  # letterboxed, as every photo was before session 66
    setting = LNetInput.from_dict(lnet)
    assert read_shrunk(8000, 600, setting) and read_shrunk(4000, 600, setting) and read_shrunk(4032, 3024, setting)
    assert not read_shrunk(3000, 600, setting) and not read_shrunk(1920, 1080, setting)
    note = detail_note([("pano.jpg", 8000, 600)], lnet)
    assert "(12 megapixels or more, or a long strip; pano.jpg, 8000x600)" in note and "faces under ~710 px" in note
    # the shipped bundle reads a strip on a canvas up to 6 inputs long (wide_canvas): 8000 x 600 at 3.6
    # times a 12 MP photo's ratio, no longer shrunk as one; a strip past 6:1 by far still is
    wide = LNetInput.from_dict(shipped)
    assert wide.wide_canvas == (3.0, 6.0)
    assert not read_shrunk(8000, 600, wide) and read_shrunk(40000, 600, wide) and read_shrunk(4032, 3024, wide)


def test_a_large_photo_whose_only_face_is_the_rescues_gets_the_detail_note(bundle, tmp_path, capsys, monkeypatch):
    """A trial (59): a 12 MP group photo where only the rescue kept a (doubtful) face got no note,
    though --detail 0.5 found its six faces. A photo whose faces are all the rescue's is noted too."""
    import lnet_anet.cli.predict as cli
    from lnet_anet.inference.predictor import _Rescued

    monkeypatch.setattr(cli, "LARGE_PHOTO_PIXELS", 40 * 32)
    monkeypatch.setattr(Predictor, "_detect", lambda self, images, analyses=None:
                        [[_Rescued((np.array([4.0, 4.0, 20.0, 24.0]), 0.3), 0.9)] for _ in images])  # fmt: skip
    photo = str(_image(tmp_path / "p.png", 0))
    assert main([photo, "--json", "--bundle", str(bundle)]) == 0
    captured = capsys.readouterr()
    (record,) = _records(captured.out)
    assert record["rescued"] is True and len(record["faces"]) == 1
    assert "note: no face passed the localizer in 1 photo" in captured.err


def test_a_vis_folder_inside_the_input_folder_is_not_read_as_photos(bundle, tmp_path, capsys):
    """A trial: `predict photos/ --vis photos/vis` run twice read its own pictures as photos the second
    time (and wrote vis/x.png.png). This run's --vis folder is skipped and counted as such."""
    root = tmp_path / "photos"
    for n in range(2):
        _image(root / f"p{n}.png", n)
    argv = [str(root), "--json", "--bundle", str(bundle), "--vis", str(root / "vis"), "--verbose"]
    for _ in range(2):
        assert main(argv) == 0
        out = capsys.readouterr()
        assert sorted(Path(r["image"]).name for r in _records(out.out)) == ["p0.png", "p1.png"]
    assert f"skipped: {root / 'vis'} (this run's --vis folder)" in out.err
    assert sorted(p.name for p in (root / "vis").iterdir()) == ["p0.png.png", "p1.png.png"]  # no p0.png.png.png
    assert main([str(root), "--json", "--bundle", str(bundle)]) == 0  # without --vis the pictures are photos like any
    assert len(_records(capsys.readouterr().out)) == 4


def test_several_files_given_by_name_end_with_a_summary_line(bundle, tmp_path, capsys):
    """A trial: `predict *.jpg` (a shell pattern: files, not a folder) showed no progress and no
    summary. Several images get both (the bar on a terminal only); one file gets neither."""
    photos = [str(_image(tmp_path / f"f{n}.png", n)) for n in range(3)]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not a photo")
    assert main([*photos, str(bad), "--json", "--bundle", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "summary: 3 analysed" in err and "1 error, 0 skipped" in err
    assert main([photos[0], "--json", "--bundle", str(bundle)]) == 0
    assert "summary:" not in capsys.readouterr().err


def test_words_after_a_double_dash_are_images(bundle, tmp_path, capsys, monkeypatch):
    """A trial (71): `predict -- -leading-dash.jpg` was refused ("unrecognized arguments"), as
    parse_intermixed_args took the lone "--"; after "--" every word is an image, as in any Unix tool."""
    monkeypatch.chdir(tmp_path)
    _image(tmp_path / "-dash.png", 0)
    _image(tmp_path / "--json.png", 1)
    assert main(["--json", "--bundle", str(bundle), "--", "-dash.png", "--json.png"]) == 0
    assert [r["image"] for r in _records(capsys.readouterr().out)] == ["-dash.png", "--json.png"]
    assert main(["--bundle", str(bundle), "--", "-dash.png", "--verbose"]) == 1  # after "--", an option is a file name too
    assert "--verbose  ERROR  file not found" in capsys.readouterr().out
    assert main(["-dash.png", "--bundle", str(bundle)]) == 2  # without "--": said how to name it
    assert "-dash.png is a file whose name starts with '-': put it after -- (predict -- -dash.png)" in capsys.readouterr().err


def test_duplicates_that_leave_one_image_are_still_said(bundle, tmp_path, capsys):
    """A trial (71): `predict a.jpg a.jpg ./a.jpg --verbose` printed one record and nothing on stderr:
    no "skipped ... (listed twice)" and no summary, where two distinct files got both."""
    photo = _image(tmp_path / "a.png", 0)
    assert main([str(photo), str(photo), "--json", "--verbose", "--bundle", str(bundle)]) == 0
    captured = capsys.readouterr()
    assert len(_records(captured.out)) == 1
    assert f"skipped: {photo} (listed twice)" in captured.err
    assert "summary: 1 analysed" in captured.err and "1 skipped" in captured.err
