"""A bundle with the embedded one's everything but its age nets' weights, built as the shipped age
head was (experiments/2026-12-04-age-gpu, round 6): an ensemble folder (the shipped folder's
model.json and preprocess.json, the weights in float16), then `build_bundle --from-bundle` with
the shipped age input (soften 2 above 4,350), then the label prior 0.25 and std scale 0.9.

    PYTHONPATH=. python experiments/2026-12-07-age-jpeg-finetune/make_bundle.py runs/age-jpeg-ft/jpeg \
        --out runs/age-jpeg-ft/jpeg.lnetanet
    PYTHONPATH=. python experiments/2026-12-07-age-jpeg-finetune/make_bundle.py shipped --out runs/age-jpeg-ft/rebuilt.lnetanet

A FOLDER holds member0.pt, member1.pt (finetune.py); `shipped` takes the shipped folder's weights.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

SHIPPED = Path("experiments/2026-12-04-age-gpu/ensemble-fp16")
EMBEDDED = "lnet_anet/assets/default.lnetanet"
AGE_INPUT = '{"soften": 2, "soften_above": 4350}'


def build(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lnet_anet.cli.build_bundle", *args], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("weights", help="a folder of member<i>.pt, or 'shipped'")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    folder = args.out.with_suffix("")  # the ensemble folder beside the bundle
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.json", "preprocess.json"):
        shutil.copy(SHIPPED / name, folder / name)
    if args.weights == "shipped":
        shutil.copy(SHIPPED / "model.safetensors", folder / "model.safetensors")
    else:
        state = {}
        for i in range(2):
            member = torch.load(Path(args.weights) / f"member{i}.pt", map_location="cpu")
            state.update({f"members.{i}.{k}": (v.half() if v.is_floating_point() else v).contiguous()
                          for k, v in member.items()})  # fmt: skip
        save_file(state, str(folder / "model.safetensors"))
    # build_bundle takes run folders, input settings and the prior in separate steps
    steps = [args.out.with_name(f"{args.out.stem}-step{k}.lnetanet") for k in (1, 2)]
    build("--from-bundle", EMBEDDED, "--age", str(folder), "--out", str(steps[0]))
    build("--from-bundle", str(steps[0]), "--age-input", AGE_INPUT, "--out", str(steps[1]))
    build("--from-bundle", str(steps[1]), "--age-prior", "0.25", "--age-std-scale", "0.9", "--out", str(args.out))


if __name__ == "__main__":
    main()
