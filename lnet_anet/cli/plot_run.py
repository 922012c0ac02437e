"""A training run's curves as a picture: `python -m lnet_anet.cli.plot_run RUN_DIR [--out FILE]`.

Draws RUN_DIR/metrics.jsonl (the training loss, its parts and the learning rate against the step,
and each val/ metric at each evaluation; lnet_anet.engine.plots.plot_metrics) into
RUN_DIR/curves.png, or FILE. The training commands draw curves.png themselves at each evaluation
and when a run ends or stops; this redraws it for a run still training, or an older run. A
train_anet run keeps one metrics.jsonl per stage (RUN_DIR/pretrain, RUN_DIR/finetune): name the
stage's folder. A folder without metrics.jsonl, or one with no complete line: one `error: ...`
line on stderr, exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lnet_anet.cli.arguments import CommandParser, DefaultsHelpFormatter
from lnet_anet.engine.plots import plot_metrics  # matplotlib is imported when it draws


def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.plot_run", description=__doc__.split("\n\n")[0],
                       formatter_class=DefaultsHelpFormatter,
                       epilog="exit status: 0 drawn; 1 an unexpected failure; 2 bad usage, a folder without "
                              "metrics.jsonl, one with nothing to draw yet, or an --out that cannot be written")  # fmt: skip
    ap.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a training run's folder (holding metrics.jsonl)")
    ap.add_argument("--out", type=Path, default=None, metavar="FILE",
                    help="the PNG to write (default: RUN_DIR/curves.png)")  # fmt: skip
    args = ap.parse_args(argv)
    metrics = args.run_dir / "metrics.jsonl"
    if not metrics.is_file():
        stages = sorted(p.parent.name for p in args.run_dir.glob("*/metrics.jsonl")) if args.run_dir.is_dir() else []
        hint = (f"; its stages have theirs: name one, e.g. {args.run_dir / stages[0]} ({', '.join(stages)})" if stages
                else "; is it a training run's folder?" if args.run_dir.is_dir() else f"; no folder {args.run_dir}")  # fmt: skip
        print(f"error: {metrics}: not found{hint}", file=sys.stderr)
        return 2
    out = args.out or args.run_dir / "curves.png"
    if out.is_dir():
        out = out / "curves.png"
    name = "/".join(args.run_dir.resolve().parts[-2:])
    try:
        plot_metrics(metrics, out, name)
    except ValueError as e:  # no complete line yet
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an --out that cannot be written
        print(f"error: {out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
