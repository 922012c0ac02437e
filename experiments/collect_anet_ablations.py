"""One table of the ANet variants (issue 4's ablations) from their run folders' eval.json:
celeba_hq128 val, mean accuracy and mean balanced accuracy of the SVMs on patch features and of
the network's own sigmoid head. All share the fixed ImageNet trunk and its cached maps.

    python experiments/collect_anet_ablations.py
Writes experiments/<date>-anet-ablations/results.{md,json}.
"""

from __future__ import annotations

import datetime as dt

from ablation_records import finished_runs, write_record

VARIANTS = {  # label: (run folder, command)
    "locally shared C3/C4, no identity pre-training, 3 epochs (the ablations' base)":
        ("anet-celeba_hq128", "python -m lnet_anet.train_anet experiment=anet_cpu"),
    "plain (globally shared) C3/C4":
        ("anet-plain-celeba_hq128", "python -m lnet_anet.train_anet experiment=anet_plain"),
    "identity pre-training, 2 epochs":
        ("anet-pretrain-celeba_hq128", "python -m lnet_anet.train_anet experiment=anet_pretrain"),
    "identity pre-training, 20 epochs":
        ("anet-pretrain20-celeba_hq128", "python -m lnet_anet.train_anet experiment=anet_pretrain "
                                         "name=anet-pretrain20-celeba_hq128 pretrain.epochs=20"),
    "locally shared, 12 epochs (the bundle's ANet)":
        ("anet-long-celeba_hq128", "python -m lnet_anet.train_anet experiment=anet_cpu name=anet-long-celeba_hq128 "
                                   "finetune.epochs=12 trunk_cache_dir=runs/anet-celeba_hq128"),
}  # fmt: skip


def main() -> int:
    rows = [{"variant": label, "command": command, "svm": result["svm"], "sigmoid_head": result["sigmoid_head"]}
            for label, command, result in finished_runs(VARIANTS)]  # fmt: skip
    majority = rows[0]["svm"]["majority_mean_accuracy"] if rows else float("nan")
    lines = [f"# ANet ablations ({dt.date.today()})", "",
             f"celeba_hq128 val (2,987 faces); majority-class mean accuracy {majority:.4f}, balanced 0.5. "
             "Targets: mean accuracy >= 0.90, mean balanced accuracy >= 0.80.", "",
             "| variant | SVM accuracy | SVM balanced | sigmoid head accuracy | sigmoid head balanced |",
             "|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        s, h = r["svm"], r["sigmoid_head"]
        lines.append(f"| {r['variant']} | {s['mean_accuracy']:.4f} | {s['mean_balanced_accuracy']:.4f} | "
                     f"{h['mean_accuracy']:.4f} | {h['mean_balanced_accuracy']:.4f} |")  # fmt: skip
    lines += ["", "Commands:", ""] + [f"- {r['variant']}: `{r['command']}`" for r in rows]
    write_record("anet-ablations", rows, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
