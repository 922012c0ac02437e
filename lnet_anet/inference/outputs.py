"""Files a pipeline can rely on: a resumable JSON Lines log of records and a flat CSV of faces.

RecordLog(path, resume): records are appended, one JSON line each and flushed, to
`<path>.part` while a run goes; `close()` writes `<path>` whole (a temporary file, fsync, then
os.replace), so `<path>` is always either the previous complete file or the new one. A run
killed at any moment leaves `<path>.part`; with resume=True the next run reads the records of
`<path>` and `<path>.part` (a half-written last line is dropped), skips every image that already
has a record without an error, retries those with one, and the closed file holds one record per
image. Records are keyed by their "image" field; those without one (arrays, --demo) are kept
and never skipped.

CsvTable(path, attributes): one row per face, written to a temporary file and renamed on
close(). Columns: image, face (1-based index within the image), x0, y0, x1, y1 (pixels of the
displayed image, exclusive ends), rotation (with --rotations, the record's "rotation": the turn the
faces were read at, degrees counterclockwise, so a box cropped from the file and turned by it is
upright; empty without --rotations), score, rescued (1: not kept by the localizer, under its
threshold or its check map, but kept by the face head, whose P(face) the record gives as
"face_probability"; 2: likewise, the whole picture as its face box, the frame try; else 0),
age_mean, age_std (years), attractiveness_mean, attractiveness_std (1-5; empty when the bundle
has no such head), then one probability column per attribute, then "error" and "model" (the
record's: what read it), then width and height (the image's as displayed, pixels; empty for an
image that could not be read) and present (the face's "present", the bundle's decisions, names
joined by PRESENT_SEP ";"). An image with no face or an error gets one row of its own, its face
columns empty and its record's error (if any) in the "error" column, so that every image read has
a row. Names are spelt as in the JSON Lines
(json_spelling: undecodable bytes as \\udcXX), so the two files join on "image".
"""

from __future__ import annotations

import csv
import errno
import fcntl
import glob
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

# Lone surrogates: the undecodable bytes of a file name as os.fsdecode gives them (U+DC80-U+DCFF).
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_spelling(text: str) -> str:
    """`text` with its lone surrogates as JSON escapes ("\\udcff"): how the JSON Lines spell them."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_line(record: dict[str, Any]) -> str:
    """One JSON Lines line (no newline) of `record`: non-ASCII text as itself (a file name
    "café.jpg" stays readable), lone surrogates as JSON escapes ("\\udcff"), so the line is valid
    UTF-8 and json.loads gives the name back as os.fsdecode had it (os.fsencode -> the bytes)."""
    return json_spelling(json.dumps(record, ensure_ascii=False))


CSV_FIXED = ["image", "face", "x0", "y0", "x1", "y1", "rotation", "score", "rescued", "age_mean", "age_std",
             "attractiveness_mean", "attractiveness_std"]  # fmt: skip
CSV_AFTER = ["width", "height", "present"]  # after the attributes, "error" and "model" (CsvTable)
PRESENT_SEP = ";"  # between the names of the CSV's "present" column (CelebA's names hold no ";")


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def replace_durably(tmp: Path, path: Path) -> None:
    """fsync `tmp`, rename it over `path`, then fsync the folder (the rename itself)."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISSOCK, "a socket"))  # fmt: skip


def output_path_problem(path: str | Path) -> str | None:
    """Why an output file cannot be written at `path` (a phrase, the path not in it), or None: it is
    a folder; it is (or a link at it points to) something other than a regular file, such as
    /dev/stdout, a named pipe or a device, which the atomic write (a temporary file renamed over
    `path`) would replace by a plain file (anything under /dev or /proc is refused so: /dev/stdout
    leads to the file a shell's `>> log` opened, which would be replaced); or a folder on its way
    is a file."""
    path = Path(path)
    if Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",)):  # /dev/stdout may lead to a file: `>> log`
        return ("a device or a stream of this process, not a file: an output is written beside it and renamed "
                "over it whole")  # fmt: skip
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # a new file, or a file on its way: said below
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        return "a folder, not a file"
    if mode is not None and not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "something else")
        return (f"{kind}, not a regular file: an output is written beside it and renamed over it whole, so it "
                "must be a regular file or a new one")  # fmt: skip
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a folder"
    return None


def output_file(path: str | Path) -> Path:
    """The file an output named `path` is written to, its folders created: `path`, or the file a
    link at `path` points to (written through the link, as a shell's `>` does, the link kept).
    Raises OutputPathError (an OSError) with output_path_problem's reason."""
    path = Path(path)
    problem = output_path_problem(path)
    if problem is not None:
        raise OutputPathError(errno.EINVAL, problem, str(path))
    path = output_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_json_file(path: str | Path, obj: Any) -> Path:
    """`obj` as one JSON document (indented, UTF-8, non-ASCII text as itself, lone surrogates
    escaped as json_line does) at `path`, atomically: a temporary file beside it, fsynced and
    renamed over it (replace_durably), so `path` is either the previous file or the new one whole;
    folders made and a link written through, as output_file does. Returns the file written.
    Raises OSError (OutputPathError with output_path_problem's reason) when it cannot be written."""
    target = output_file(path)
    tmp = _temporary(target)
    try:
        tmp.write_text(json_spelling(json.dumps(obj, ensure_ascii=False, indent=1)) + "\n", encoding="utf-8")
        replace_durably(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def output_target(path: str | Path) -> Path:
    """The file an output named `path` is written to: the file a link at `path` points to (a link
    is written through), else `path`."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def part_log(path: str | Path) -> Path:
    """`<path>.part`: the log a JSON Lines output is written to while a run goes (RecordLog), and
    the file whose lock says a run is writing it."""
    path = Path(path)
    return path.with_name(path.name + ".part")


def csv_lock(path: Path) -> Path:
    """The file whose lock says a run is writing CSV `path` (CsvTable): `.<name>.lock` beside it.
    (A JSON Lines output's is its `.part` log, RecordLog.)"""
    return path.with_name(f".{path.name}.lock")


_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)  # flock's "another process holds it"


def in_use(lock: Path) -> bool:
    """Whether another process holds `lock`'s lock (_open_locked) now; a check made before the
    models load, so that a second run into one output is refused at once."""
    try:
        f = open(lock, "rb")
    except OSError:  # none, or unreadable: writing it will say why (RecordLog, CsvTable)
        return False
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in _BUSY:
                return True
            raise
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    return False


class OutputPathError(OSError):
    """An output path that names no regular file (output_path_problem says why)."""


class OutputInUseError(OSError):
    """Another process is writing the same output (its `.part` log is locked)."""


def _open_locked(part: Path) -> TextIO:
    """`part` opened to append under an exclusive fcntl lock, held until it is closed, so that a
    second run into the same output is refused (OutputInUseError) instead of mixing its records
    with this one's (a fresh-user trial found one output with both runs' records). Checked again
    once locked: a run that renamed its .part away meanwhile leaves this one the new file."""
    while True:
        f = open(part, "a", encoding="utf-8")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            f.close()
            if e.errno not in _BUSY:
                raise
            raise OutputInUseError(errno.EBUSY, "another run is writing this output (its .part log is locked): "
                                                "wait for it to end, or give another file", str(part)) from None  # fmt: skip
        try:
            if os.path.samestat(os.fstat(f.fileno()), os.stat(part)):
                return f
        except FileNotFoundError:
            pass
        f.close()


class NotARecordLog(ValueError):
    """A file given to resume holds a line that is not one of predict's records: it is some
    other file, which a resumed run would overwrite."""


def read_records(path: Path, strict: bool = False) -> list[dict[str, Any]]:
    """The complete JSON object lines of a JSON Lines file ([] when it does not exist); a
    line that is cut short or not an object (a run killed mid-write) is left out, or with
    `strict` raises NotARecordLog naming the file and the line (blank lines pass)."""
    try:
        return read_lines(path.read_bytes(), path if strict else None)
    except FileNotFoundError:
        return []


def read_lines(data: bytes, strict: Path | None = None) -> list[dict[str, Any]]:
    """read_records on the bytes of a file (strict: the file's path, for its error)."""
    records = []
    for n, line in enumerate(data.split(b"\n"), start=1):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and "image" in record and "faces" in record:
            records.append(record)
        elif strict is not None and line.strip():
            raise NotARecordLog(f"{strict}, line {n}: not a record of predict's JSON Lines output "
                                f"({line[:60].decode('utf-8', 'replace')!r})")  # fmt: skip
    return records


def check_resumable(path: str | Path) -> None:
    """Raise NotARecordLog when `path` or its `<path>.part` log holds a line that is not one of
    predict's records (the check RecordLog(resume=True) makes), changing neither file: predict
    makes it before loading its models (seconds), so another program's file is refused at once.
    A half-written last line of the .part log (a kill) is not held against it."""
    path = Path(path)
    read_records(path, strict=True)
    part = part_log(path)
    try:
        data = part.read_bytes()
    except FileNotFoundError:
        return
    read_lines(data[: data.rfind(b"\n") + 1], part)


def _complete_lines(path: Path) -> None:
    """Cut a half-written last line off `path` (after a kill), so appending stays valid."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    end = data.rfind(b"\n") + 1
    if end != len(data):
        os.truncate(path, end)


def record_key(record: dict[str, Any]) -> Any:
    """What a record is of, for merging a resumed output: its image file (image_key), or for a
    frame of a video (predict_video's records: "image" null, "video" and "frame") the video file
    and the frame's index; None for an array or --demo, which a resumed run analyses again."""
    if record["image"] is not None:
        return image_key(record["image"])
    video, frame = record.get("video"), record.get("frame")
    if isinstance(video, str) and isinstance(frame, int) and not isinstance(frame, bool):
        return ("video", image_key(video), frame)
    return None


def image_key(image: str) -> str:
    """A record's "image" path as the file it names: absolute (relative to the working folder),
    links and ".." resolved, so that two spellings of one path are one image."""
    return os.path.normcase(os.path.realpath(image))


class RecordLog:
    """A resumable JSON Lines output (module docstring). Raises OSError when a file cannot be
    written (OutputPathError: `path` is no regular file, output_path_problem); what was logged
    stays in `<path>.part` for a rerun with resume=True. A link at `path` is written through. One
    process at a time: `<path>.part` is locked while the log is open, and a second RecordLog on it
    raises OutputInUseError. With resume, raises NotARecordLog, before anything is written, when
    `<path>` or `<path>.part` holds a line that is not a record (another program's file)."""

    def __init__(self, path: str | Path, resume: bool = False):
        self.path = output_file(path)
        self.part = part_log(self.path)
        self.previous: list[dict[str, Any]] = []  # records of earlier runs (resume)
        self._part_before = 0  # of them, those in .part (a run stopped before this one)
        self._start = 0  # where this run's records begin in .part
        self._file: TextIO = _open_locked(self.part)  # before anything is read or cut: another run may hold it
        if resume:
            _complete_lines(self.part)
            try:  # strict: a file that is not predict's output is refused, not overwritten without its lines
                in_part = read_records(self.part, strict=True)
                self.previous = read_records(self.path, strict=True) + in_part
            except NotARecordLog:
                self.abandon()
                raise
            self._part_before = len(in_part)
            self._start = self.part.stat().st_size
        else:
            self._file.truncate(0)
        # Keyed by the file itself: "photos/a.jpg" and "/home/me/photos/a.jpg" are one image.
        self.done = {image_key(r["image"]): r for r in self.previous
                     if r["image"] is not None and r.get("error") is None}  # fmt: skip
        self.written = 0

    @property
    def in_part(self) -> int:
        """How many records `<path>.part` holds: an earlier stopped run's (resume) and this run's."""
        return self._part_before + self.written

    def is_done(self, image: str) -> bool:
        """Whether an earlier run's output holds a record without error for this image file
        (the same file however its path is written)."""
        return image_key(image) in self.done

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (one line, flushed: a kill loses at most this line)."""
        self._file.write(json_line(record) + "\n")
        self._file.flush()
        self.written += 1

    def close(self) -> int:
        """Write `path` whole, one record per image (the last one logged), atomically; remove
        the .part log. Returns the number of records in `path`; `self.records` holds them, in its
        order."""
        try:  # the lock is held until `path` is written and .part gone: no other run reads it half done
            self._file.flush()
            merged = self._merged()
            tmp = _temporary(self.path)
            with open(tmp, "w", encoding="utf-8") as f:
                for record in merged.values():
                    f.write(json_line(record) + "\n")
            replace_durably(tmp, self.path)
            self.part.unlink(missing_ok=True)
        finally:
            self._file.close()
        self.records = list(merged.values())
        return len(merged)

    def _merged(self) -> dict[Any, dict[str, Any]]:
        """The earlier runs' records and this run's, one per image or video frame (the last logged
        wins, in the first one's place); earlier records without a path (arrays, --demo) were
        analysed again and are dropped."""
        with open(self.part, "rb") as f:
            f.seek(self._start)
            mine = read_lines(f.read())
        earlier = [r for r in self.previous if record_key(r) is not None]
        merged: dict[Any, dict[str, Any]] = {}
        for n, record in enumerate(earlier + mine):
            merged[record_key(record) or ("no path", n)] = record
        return merged

    def abandon(self) -> None:
        """Close the .part log without writing `path` (an interrupted run: resume later); a log
        that holds nothing, this run's or an earlier one's (a refused --resume), is removed."""
        if self.part.exists() and self.part.stat().st_size == 0:  # while the lock is held
            self.part.unlink()
        self._file.close()


def reading_options(record: dict[str, Any]) -> dict[str, Any]:
    """The predict options a record says it was read with (the keys Predictor adds: "mirror",
    "box_jitter", "rotation", "descriptor_heads", "rescue" / "refine_boxes" false when the
    bundle's were turned off, "face_head" / "box_head" / "crowd_box_head" / "upright_head", the digest of a head other
    than the shipped one, and "bundle", the bundle file's identity), as predict's flags: {"--mirror": bool,
    "--box-jitter": bool, "--rotations": bool, "descriptor heads": [names], "--no-rescue": bool,
    "--no-refine-boxes": bool, "--face-head" / "--box-head" / "--crowd-box-head" / "--upright-head": digest or None,
    "--bundle": identity or None (None: a record written before records said it), "model": the
    bundle's identity with its heads and the package version (Predictor.model_identity; None
    likewise), "settings": the
    localization settings changed from the bundle's (Predictor.reading_settings: --threshold,
    --secondary-threshold, --detail, --attractiveness-patches), {} for none}. Meaningful for a
    record without error (an error record carries none of them)."""
    return {"--mirror": bool(record.get("mirror")), "--box-jitter": bool(record.get("box_jitter")),
            "--rotations": "rotation" in record, "descriptor heads": sorted(record.get("descriptor_heads") or []),
            "--no-rescue": record.get("rescue") is False, "--no-refine-boxes": record.get("refine_boxes") is False,
            "--face-head": record.get("face_head"), "--box-head": record.get("box_head"),
            "--crowd-box-head": record.get("crowd_box_head"), "--upright-head": record.get("upright_head"),
            "--bundle": record.get("bundle"), "model": record.get("model"),
            "settings": record.get("settings") or {}}  # fmt: skip


def _rescued(face: dict[str, Any]) -> int:
    """The CSV's rescued column: 0 the localizer's face, 1 the rescue's, 2 the frame try's."""
    if "face_probability" not in face:
        return 0
    return 2 if face.get("frame") else 1


def face_rows(record: dict[str, Any], attributes: Iterable[str]) -> Iterator[list[Any]]:
    """CSV rows (CSV_FIXED + attributes) of one record's faces."""
    attributes = list(attributes)
    for n, face in enumerate(record["faces"], start=1):
        age, attr = face.get("age") or {}, face.get("attractiveness") or {}
        yield [json_spelling(record["image"]) if record["image"] is not None else "", n,
               *face["box"], record.get("rotation", ""), face["score"], _rescued(face), age.get("mean", ""), age.get("std", ""),
               attr.get("mean", ""), attr.get("std", ""),
               *(face["attributes"].get(a, "") for a in attributes)]  # fmt: skip


class CsvTable:
    """One row per face, one per image without a face or with an error (module docstring); the
    file appears whole on close()."""

    def __init__(self, path: str | Path, attributes: Iterable[str]):
        self.path = output_file(path)  # a link written through; no device or pipe (OutputPathError)
        self.attributes = list(attributes)
        self._lock = csv_lock(self.path)
        self._held = _open_locked(self._lock)  # one run at a time (OutputInUseError), as RecordLog
        for stale in self.path.parent.glob(f".{glob.escape(self.path.name)}.tmp*"):  # a killed run's
            stale.unlink(missing_ok=True)
        self._tmp = _temporary(self.path)
        self._file = open(self._tmp, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file, lineterminator="\n")  # as pandas writes: line tools see no \r
        # error and model after them: the other columns keep their places; model names what read the
        # row (Predictor.model_identity), so a table published from the CSV alone can be traced (a
        # trial); then CSV_AFTER, added since (trial 88): the image's size, to scale its boxes, and
        # the face's "present", the bundle's decisions README says to read for yes / no
        self._writer.writerow([*CSV_FIXED, *self.attributes, "error", "model", *CSV_AFTER])
        self.rows = 0

    def add(self, record: dict[str, Any]) -> None:
        error = "" if record.get("error") is None else json_spelling(record["error"])
        model = record.get("model") or ""
        size = [record.get("width") or "", record.get("height") or ""]
        rows = [[*row, error, model, *size, PRESENT_SEP.join(face.get("present") or [])]
                for row, face in zip(face_rows(record, self.attributes), record["faces"], strict=True)]  # fmt: skip
        if not rows:  # every image read has a row: a spreadsheet shows what is missing, and why
            image = json_spelling(record["image"]) if record["image"] is not None else ""
            rows = [[image, *[""] * (len(CSV_FIXED) - 1 + len(self.attributes)), error, model, *size, ""]]
            rows[0][CSV_FIXED.index("rotation")] = record.get("rotation", "")  # read at a turn, faces or not
        self._writer.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        try:
            self._file.close()
            replace_durably(self._tmp, self.path)
        finally:
            self._release()

    def abandon(self) -> None:
        self._file.close()
        self._tmp.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        self._lock.unlink(missing_ok=True)  # while held: a run waiting on it finds it gone (_open_locked)
        self._held.close()


def printable(text: str) -> str:
    """`text` safe for any UTF-8 output: bytes a file name could not decode (os.fsdecode's
    surrogates) shown as \\xNN escapes, the rest unchanged."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


__all__ = ["CSV_AFTER", "CSV_FIXED", "CsvTable", "PRESENT_SEP", "NotARecordLog", "OutputInUseError", "OutputPathError", "RecordLog", "face_rows",
           "csv_lock", "in_use", "json_spelling", "part_log", "output_file", "output_path_problem", "output_target", "printable",
           "read_records", "replace_durably", "write_json_file"]
