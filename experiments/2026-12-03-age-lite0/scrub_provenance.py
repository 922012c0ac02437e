"""The embedded bundle's provenance without dataset file names (session 30).

    PYTHONPATH=. python experiments/2026-12-03-age-lite0/scrub_provenance.py lnet_anet/assets/default.lnetanet

Bundles built before this session copied each run's data.json into provenance.<part>.data,
including the list of files the reader left out (five malformed UTKFace names). The builder now
keeps their count (lnet_anet.inference.build._provenance); this rewrites a bundle's lists the
same way, every tensor and setting unchanged, and records the step in provenance.built.
"""

from __future__ import annotations

import sys

from lnet_anet.inference.build import _editable, _record_build
from lnet_anet.inference.bundle import save_bundle


def main(path: str) -> None:
    config, parts = _editable(path)
    scrubbed = []
    for name, record in config["provenance"].items():
        data = record.get("data") if isinstance(record, dict) else None
        if isinstance(data, dict) and isinstance(data.get("skipped"), list):
            data["skipped"] = len(data["skipped"])
            scrubbed.append(name)
    _record_build(config, path, f"python {' '.join(sys.argv)}", "provenance: dataset file names replaced by counts",
                  scrubbed=scrubbed)  # fmt: skip
    save_bundle(path, parts, config)
    print(f"{path}: {scrubbed or 'nothing'} scrubbed")


if __name__ == "__main__":
    main(sys.argv[1])
