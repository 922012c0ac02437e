"""One table of the LNet variants trained on the same composed CelebA-HQ scenes (issue 3's
ablations), from their run folders' eval.json (val scenes of val-partition faces, each response
map with its own threshold and localizer settings searched on tune scenes).

    python benchmarks/collect_lnet_ablations.py
Writes experiments/<date>-lnet-ablations/results.{md,json}.
"""

from __future__ import annotations

import datetime as dt

from ablation_records import finished_runs, parse_args, write_record

# label: (run folder, command; all share experiment=lnet_cpu's 12,000 cached scenes unless noted)
VARIANTS = {
    "ImageNet, fixed backbone, 1x1 neck, max-pooled face tag (the bundle's LNet)":
        ("lnet-celeba_hq128", "python -m lnet_anet.cli.train_lnet experiment=lnet_cpu"),
    "same, backbone from scratch (random, fixed)":
        ("lnet-scratch-celeba_hq128", "python -m lnet_anet.cli.train_lnet experiment=lnet_scratch"),
    "same, global-average face tag (older localizer: box scaled from the window)":
        ("lnet-local-celeba_hq128", "python -m lnet_anet.cli.train_lnet experiment=lnet_cpu name=lnet-local-celeba_hq128 "
                                    "model.face_pool=avg model.response=face train.epochs=5"),
    "last stage trained too, 3x3 neck, global-average face tag (older localizer search)":
        ("lnet-laststage-celeba_hq128", "at commit 360713a: python -m lnet_anet.cli.train_lnet experiment=lnet_cpu "
                                        "(last stage trained, 3x3 neck, face map read, 5 epochs)"),
}  # fmt: skip
KEYS = ("recall", "mean_iou", "false_positives_per_image", "empty_image_rate", "peak_in_box")


def main() -> int:
    rows = []
    for label, command, result in finished_runs(VARIANTS):
        for response, metrics in result.get("by_response", {"?": result}).items():
            rows.append({"variant": label, "response": response, "command": command,
                         **{k: metrics[k] for k in KEYS}})  # fmt: skip
    lines = [f"# LNet ablations ({dt.date.today()})", "",
             "600 val scenes (val-partition CelebA-HQ faces pasted on face-free backgrounds at 224 px, half of "
             "them face-free). Targets: recall@IoU0.5 >= 0.95, false positives per image <= 0.05, face-free "
             "images with no box >= 0.95.", "",
             "| variant | response map | recall@0.5 | mean IoU | FP / image | face-free empty | peak in box |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['variant']} | {r['response']} | " + " | ".join(f"{r[k]:.3f}" for k in KEYS) + " |" for r in rows]
    lines += ["", "Each row is one stage (LNet_o) with its box fitted on the tune scenes (localizer.fit_box), unless "
              "it says otherwise; the bundle adds the LNet_s cascade on top of the first row's face map "
              "(experiments/2026-11-24-lnet-celeba_hq128: 0.974 / 0.026, IoU 0.776). train_lnet picks the response "
              "map by recall - FP on the tune scenes (the face map for the bundle's LNet). Pre-training is "
              "the difference between the first two variants on the same map (the paper found +74 points of "
              "recall).",
              "", "Commands:", ""] + [f"- {label}: `{cmd}`" for label, (_, cmd) in VARIANTS.items()]
    write_record("lnet-ablations", rows, lines)
    return 0


if __name__ == "__main__":
    parse_args(__doc__)
    raise SystemExit(main())
