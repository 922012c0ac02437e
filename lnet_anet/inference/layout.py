"""What the bundle builder reads from training run folders (lnet_anet.inference.build), as text
importable without torch: `python -m lnet_anet.cli.build_bundle --help` prints it in a fraction of
a second."""

from __future__ import annotations

RUN_LAYOUT = """(written by the training entry points) hold `model.json` = {"model": registry
name, "kwargs": {...}} and:
  LNet          lnet.safetensors, localizer.json (Localizer kwargs plus "input_size"; optional
                "resize", "mean", "std")
  ANet          anet.safetensors, svm.safetensors (LinearSVMHead.to_arrays(), float32),
                patches.json {"canonical_size", "stride", "enlarge"}
  age / attractiveness  model.safetensors, preprocess.json {"image_size", "enlarge"} (a DLDL run,
                or an ensemble of them from python -m lnet_anet.cli.ensemble_dldl), or
                {"input": "anet_features", "anet_run", "anet_sha1"} for a head on ANet's feature:
                bundled only beside the ANet of that weights digest (check_head_reads_anet)
Each may have eval.json, data.json and .hydra/overrides.yaml: copied into the provenance."""

__all__ = ["RUN_LAYOUT"]
