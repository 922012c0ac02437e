"""Join finished DLDL runs into one ensemble run folder, which build_bundle takes as --age or
--attractiveness:

    python -m lnet_anet.cli.ensemble_dldl runs/age-a runs/age-b --out runs/age-ensemble

The members must predict the same target over the same bins from the same face crops
(preprocess.json). The ensemble's distribution is the mean of theirs (models.dldl.DLDLEnsemble),
so its expectation is the mean of their expectations and its spread the mixture's: its figures
come from the members' predictions.csv on the same faces, with no pass over the images.
Writes model.json, model.safetensors, preprocess.json, and (write_regression_report) eval.json,
eval.md and predictions.csv.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lnet_anet.cli.arguments import CommandParser, RawDescriptionDefaultsHelpFormatter

EXIT_STATUS = """\
exit status:
  0    the ensemble was written to --out
  1    a run cannot be read or averaged (not finished, no checkpoint, other bins or targets)
  2    bad usage: fewer than 2 runs, the same run twice, --out naming one of the runs or a folder
       that holds other files"""


def main(argv: list[str] | None = None) -> int:
    ap = CommandParser(prog="python -m lnet_anet.cli.ensemble_dldl", description=__doc__,
                       formatter_class=RawDescriptionDefaultsHelpFormatter, epilog=EXIT_STATUS)  # fmt: skip
    ap.add_argument("runs", nargs="+", type=Path, help="finished DLDL run folders (2 or more)")
    ap.add_argument("--out", type=Path, required=True, help="the ensemble's run folder")
    try:  # argparse exits on bad usage (2) and --help (0); main returns the code instead
        args = ap.parse_args(argv)
        if len(args.runs) < 2:
            ap.error(f"give at least 2 run folders to average, got {len(args.runs)}")
    except SystemExit as e:
        return int(e.code or 0)
    # torch and timm load only once the arguments are good, so that --help is instant
    from lnet_anet.dldl.ensemble import build_ensemble, check_out

    try:  # the runs and --out themselves (the same run twice, --out a run): a usage mistake, status 2
        check_out(args.runs, args.out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        result = build_ensemble(args.runs, args.out)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.out}: MAE {result['mae']:.3f} on {result['split']} "
          f"(members: {', '.join(f'{v:.3f}' for v in result['member_mae'])})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
