"""argparse types the commands share: each raises argparse.ArgumentTypeError with the reason,
which argparse prints as a usage error (exit 2)."""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

SHIPPED_ASSETS = Path(__file__).resolve().parents[1] / "assets"  # the bundle and heads an install reads by default


class CommandParser(argparse.ArgumentParser):
    """The commands' argparse parser. A usage error prints three lines where argparse prints the
    whole option list (25 lines for predict): a short usage, the error (an unknown option with the
    closest known one, "did you mean --threshold?"), and where the full help is. Exit status 2, as
    argparse."""

    def error(self, message: str):
        form = self._get_formatter()
        form.add_usage(None, self._get_positional_actions(), [], prefix="")
        positionals = form.format_help().strip().removeprefix(self.prog).strip()
        usage = " ".join(filter(None, [f"usage: {self.prog}", "[options]" if self._get_optional_actions() else "",
                                       positionals]))  # fmt: skip
        self.exit(2, f"{usage}\n{self.prog}: error: {message}{self._suggestion(message)}\n"
                     f"all options: {self.prog} --help\n")  # fmt: skip

    def _suggestion(self, message: str) -> str:
        """ " (did you mean --x?)" for the unknown options of an "unrecognized arguments" error."""
        if not message.startswith("unrecognized arguments: "):
            return ""
        known = [o for o in self._option_string_actions if o.startswith("--")]
        unknown = [w.split("=")[0] for w in message.removeprefix("unrecognized arguments: ").split() if w.startswith("-")]
        close = {w: difflib.get_close_matches(w, known, n=1, cutoff=0.8) for w in unknown}
        hints = [f"{match[0]}" + (f" for {w}" if len(unknown) > 1 else "") for w, match in close.items() if match]
        return f" (did you mean {', '.join(hints)}?)" if hints else ""


def stops_on_interrupt(kept: str = "") -> Callable:
    """Decorate a command's `main(argv) -> int`: Ctrl-C ends it with one stderr line,
    "interrupted: <kept>" (what is kept and how to go on; "interrupted" alone without it), and exit
    status 130 (128 + SIGINT, what a shell reports), where Python would print a traceback."""

    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv=None) -> int:
            try:
                return main(argv)
            except KeyboardInterrupt:
                print(f"\ninterrupted{': ' + kept if kept else ''}", file=sys.stderr)
                return 130

        return run

    return wrap


def int_in(low: int, high: int | None = None):
    """An argparse type: an integer (1e8 and 100_000_000 spellings too) in [low, high] (high None:
    no upper bound)."""

    def parse(text: str) -> int:
        try:
            value = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not (math.isfinite(value) and value == int(value)):
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
        if high is None and int(value) < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        if high is not None and not low <= int(value) <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low}, {high}], got {text}")
        return int(value)

    parse.__name__ = "integer"
    return parse


def output_file(text: str) -> Path:
    """A file to write: refused at once when it names a folder (the write at the end of a long fit
    would fail there). One inside the package's shipped assets is written, with a note on stderr
    first: every run of this install that uses the defaults reads what is there."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give the file's name, e.g. {path / 'out'}")
    if path.resolve().parent == SHIPPED_ASSETS:
        print(f"note: {text} is in the package's shipped assets ({SHIPPED_ASSETS}): every run of this install "
              "that uses the defaults will read it, and any report written beside it lands there too",
              file=sys.stderr)  # fmt: skip
    return path


def same_path(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file or folder: os.path.samefile where both exist (a link,
    a hard link, another spelling), else their resolved paths."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return Path(a).resolve() == Path(b).resolve()


MAX_BATCH = 1024  # --batch-size's largest


def add_model_options(parser: argparse.ArgumentParser, batch_of: str) -> None:
    """--bundle, --batch-size (`batch_of`: "images", "frames"), --device and --backend: how the
    Predictor of predict and predict_video is loaded and fed."""
    parser.add_argument("--bundle", type=Path, help="model bundle (default: the embedded one)")
    parser.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=8, help=f"{batch_of} per LNet batch")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the networks run")
    parser.add_argument("--backend", choices=("auto", "torch", "onnxruntime"), default="auto",
                        help="auto: ONNX Runtime on the CPU (graphs exported once, cached), torch on a GPU")  # fmt: skip


def add_replace_shipped(parser: argparse.ArgumentParser) -> None:
    """The --replace-shipped flag of a command that writes a bundle or head (output_refusal)."""
    parser.add_argument("--replace-shipped", action="store_true",
                        help=f"let --out replace a file of the package's shipped assets ({SHIPPED_ASSETS.name}/): "
                             "what every default run of this install reads (a maintainer shipping a new one)")  # fmt: skip


def output_refusal(out: str | Path, inputs: dict[str, str | Path | list | None], suffix: str | None = None,
                   kind: str = "file", replace_shipped: bool = False) -> str | None:  # fmt: skip
    """Why the output `out` must not be written, in words for an "error: ..." line, or None when it
    may: it is one of the command's `inputs` ({"--from-bundle": path, "one of the runs": [paths], ...};
    None values are left out), which the write would destroy (a trial wrote a bundle over its own
    --from-bundle, the shipped one included); or, with `suffix` (".lnetanet"), it is an existing
    file whose name does not end in it, so not one of ours to replace (a trial overwrote a .jpg).
    kind: what a new name is asked for ("file name", "folder"). And, unless replace_shipped, an out
    in the package's shipped assets (however spelt: a link, '..'), which every default run of the
    install reads and a pip install cannot restore (a trial replaced the shipped bundle, exit 0)."""
    for option, given in inputs.items():
        for path in given if isinstance(given, (list, tuple)) else [given]:
            if path is not None and same_path(out, path):
                shipped = " (the bundle shipped in the package)" if Path(path).resolve().parent == SHIPPED_ASSETS else ""
                what = option if option.startswith("one of") else f"the {option} input"
                return f"--out {out} is {what}{shipped}: writing it would destroy it; give a new {kind}"
    if not replace_shipped and Path(out).resolve().parent == SHIPPED_ASSETS:
        return (f"--out {out} is in the package's shipped assets ({SHIPPED_ASSETS}), which every default run of this "
                f"install reads: give another {kind}, or add --replace-shipped to replace it on purpose")  # fmt: skip
    if suffix is not None and os.path.isfile(out) and not str(out).endswith(suffix):
        return (f"--out {out} exists and is not a {suffix} file: it would be replaced; give a new {kind} "
                f"(ending in {suffix})")
    return None


def refuse_output(args: argparse.Namespace, inputs: dict[str, str | Path | list | None], suffix: str) -> int | None:
    """Exit status 2, after one "error: ..." line, when args.out may not be written
    (output_refusal, with args.replace_shipped: add_replace_shipped); else None. For the commands
    that write one bundle or head file, before any work."""
    refused = output_refusal(args.out, inputs, suffix=suffix, kind="file name", replace_shipped=args.replace_shipped)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    return None


def quiet_closed_stdout() -> None:
    """After a BrokenPipeError (the reader of stdout stopped, `| head`): stdout pointed at
    /dev/null, so that Python's flush at exit does not complain again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass


def bundle_refusal(option: str, path: str | Path) -> str | None:
    """Why the bundle file an option names cannot be used (missing, not a bundle, truncated,
    corrupt: inference.bundle.load_bundle's check, the networks left unbuilt), as "OPTION PATH:
    REASON" for an "error: ..." line; None when it can. For the scripts that read a bundle after
    their data (a trial's --bundle of a cut-short file ended in a traceback after minutes)."""
    from lnet_anet.inference.bundle import BundleError, load_bundle

    try:
        load_bundle(path, build_nets=False)
    except (BundleError, OSError) as e:
        return f"{option} {e}"
    return None


def json_object(text: str) -> dict:
    """A JSON object ({"key": value, ...}), as the settings options take."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at character {e.pos}): {text!r}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f'must be a JSON object of settings, e.g. {{"check_faces": 1.0}}, got {text!r}')
    return value


def add_wider_label_options(parser: argparse.ArgumentParser) -> None:
    """--labels (WIDER FACE's *_bbx_gt.txt), --images and --part (tune / all of hash_part), as the
    commands that learn from a copy of WIDER FACE take them."""
    parser.add_argument("--labels", type=Path, required=True, help="WIDER FACE's *_bbx_gt.txt")
    parser.add_argument("--images", type=Path, default=None,
                        help="the photos' folder (default: the reader's, next to the labels)")
    parser.add_argument("--part", choices=("tune", "all"), default="tune",
                        help="the photos to learn from: tune, the 70%% of hash_part the benchmarks never score, or all")


def finite_float(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def float_in(low: float, high: float):
    """An argparse type: a finite number in [low, high]."""

    def parse(text: str) -> float:
        value = finite_float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be in [{low:g}, {high:g}], got {text}")
        return value

    parse.__name__ = "number"
    return parse


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """argparse's help with " (default: X)" after each option whose default is a value its help
    does not already state (None, False and argparse.SUPPRESS are not values: an option that is
    off, or whose default the help describes in words)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (not action.option_strings or default is None or default is False or default is argparse.SUPPRESS
                or "default" in text.lower()):  # fmt: skip
            return text
        return f"{text} (default: %(default)s)"


class RawDescriptionDefaultsHelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """DefaultsHelpFormatter for commands whose description and epilog are laid out by hand."""
