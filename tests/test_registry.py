"""lnet_anet.models.registry: a model family added outside lnet_anet.models is found again by the
module path its runs record (a contributor's trial: such a model trained, then could not be loaded)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lnet_anet.models.registry import create_model, registered_name

FAMILY = '''
import torch
from lnet_anet.models.registry import register_model


@register_model
def micro_net(width: int = 4, pretrained: str = "none"):
    """A (B, 3) -> (B, width) linear map: a stand-in for a contributor's model."""
    return torch.nn.Linear(3, width)
'''


def test_runs_record_a_shipped_builder_by_name_and_another_by_its_module_path():
    assert registered_name("lnet_anet.models.dldl.tiny_age_net") == "tiny_age_net"
    assert registered_name("my_lab.models.micro_net") == "my_lab.models.micro_net"
    assert registered_name("tiny_age_net") == "tiny_age_net"


def test_a_family_outside_the_package_is_rebuilt_in_a_new_process(tmp_path):
    (tmp_path / "my_family_x.py").write_text(FAMILY)
    spec = {"model": registered_name("my_family_x.micro_net"), "kwargs": {"width": 5}}
    (tmp_path / "model.json").write_text(json.dumps(spec))
    code = ("import json, sys; from lnet_anet.models.registry import create_model; "
            "spec = json.load(open(sys.argv[1])); net = create_model(spec['model'], pretrained='none', **spec['kwargs']); "
            "print(type(net).__name__, net.out_features)")  # fmt: skip
    env_path = f"{tmp_path}:{Path(__file__).resolve().parents[1]}"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "model.json")], capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, check=True)  # fmt: skip
    assert done.stdout.split() == ["Linear", "5"]


def test_a_dotted_name_that_registers_nothing_is_a_key_error(tmp_path, monkeypatch):
    (tmp_path / "my_family_y.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(KeyError, match="my_family_y registers no micro_net"):
        create_model("my_family_y.micro_net")
    with pytest.raises(KeyError, match="its module no_such_family_z cannot be imported"):
        create_model("no_such_family_z.micro_net")
