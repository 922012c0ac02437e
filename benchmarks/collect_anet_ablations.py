"""One table of the ANet variants (issue 4's ablations) from their run folders' eval.json:
celeba_hq128 val, mean accuracy and mean balanced accuracy of the SVMs on patch features and of
the network's own sigmoid head. SVM decisions at p >= 0.5, and (runs that have them) at the
per-attribute thresholds chosen on the tune split. All share the ImageNet stem and blocks 0-1.

    python benchmarks/collect_anet_ablations.py
Writes experiments/<date>-anet-ablations/results.{md,json}.
"""

from __future__ import annotations

import datetime as dt

from ablation_records import finished_runs, parse_args, write_record

VARIANTS = {  # label: (run folder, command)
    "locally shared C3/C4, no identity pre-training, 3 epochs (the ablations' base)":
        ("anet-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_cpu"),
    "plain (globally shared) C3/C4":
        ("anet-plain-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_plain"),
    "identity pre-training, 2 epochs":
        ("anet-pretrain-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_pretrain"),
    "identity pre-training, 20 epochs":
        ("anet-pretrain20-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_pretrain "
                                         "name=anet-pretrain20-celeba_hq128 pretrain.epochs=20"),
    "locally shared, 12 epochs":
        ("anet-long-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_cpu name=anet-long-celeba_hq128 "
                                   "finetune.epochs=12 trunk_cache_dir=runs/anet-celeba_hq128"),
    "locally shared, 12 epochs, trunk block 2 trained":
        ("anet-block2-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_block2"),
    "... and each face's mirror view in its features":
        ("anet-block2m-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_block2 "
                                      "name=anet-block2m-celeba_hq128 patches.mirror=true"),
    "... and 24 epochs (the bundle's ANet)":
        ("anet-block2m24-celeba_hq128", "python -m lnet_anet.cli.train_anet experiment=anet_block2 "
                                        "name=anet-block2m24-celeba_hq128 patches.mirror=true finetune.epochs=24"),
}  # fmt: skip


def main() -> int:
    rows = [{"variant": label, "command": command, "svm_at_0.5": result.get("svm_threshold_0.5", result["svm"]),
             "svm_tuned_thresholds": result["svm"] if "svm_threshold" in result else None,
             "sigmoid_head": result["sigmoid_head"], "majority": result["svm"]["majority_mean_accuracy"]}
            for label, command, result in finished_runs(VARIANTS)]  # fmt: skip
    majority = rows[0]["majority"] if rows else float("nan")
    lines = [f"# ANet ablations ({dt.date.today()})", "",
             f"celeba_hq128 val (2,987 faces); majority-class mean accuracy {majority:.4f}, balanced 0.5. "
             "Targets: mean accuracy >= 0.90, mean balanced accuracy >= 0.80.", "",
             "| variant | SVM, p >= 0.5: accuracy | balanced | SVM, tuned thresholds: accuracy | balanced "
             "| sigmoid head: accuracy | balanced |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    pair = lambda m: "- | -" if m is None else f"{m['mean_accuracy']:.4f} | {m['mean_balanced_accuracy']:.4f}"  # noqa: E731
    for r in rows:
        lines.append(f"| {r['variant']} | {pair(r['svm_at_0.5'])} | {pair(r['svm_tuned_thresholds'])} | "
                     f"{pair(r['sigmoid_head'])} |")  # fmt: skip
    lines += ["", "Commands:", ""] + [f"- {r['variant']}: `{r['command']}`" for r in rows]
    write_record("anet-ablations", rows, lines)
    return 0


if __name__ == "__main__":
    parse_args(__doc__)
    raise SystemExit(main())
