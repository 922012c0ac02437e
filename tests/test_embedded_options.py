"""Every opt-in setting of `predict` and of a derived bundle works with the embedded bundle.

The options are tested one by one on small random bundles elsewhere; a setting of the embedded
bundle can still break one of them (session 28's weak_threshold broke --detail on every large
photo). Each case reads one real photo (scikit-image's astronaut, enlarged so that the detail pass
runs) end to end through the CLI and asks for a readable record with the same face.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from lnet_anet.inference.predictor import DEFAULT_BUNDLE
from tests._extras import needs_dlib

pytestmark = [pytest.mark.usefixtures("one_thread"),
              pytest.mark.skipif(not DEFAULT_BUNDLE.is_file(), reason="no embedded bundle")]  # fmt: skip

OPTIONS = [
    [],
    ["--mirror"],
    ["--box-jitter"],
    ["--rotations"],
    ["--detail", "0.5"],
    ["--no-rescue"],
    ["--no-refine-boxes"],
    ["--arbitrate", "off"],
    ["--closeups"],
    ["--threshold", "2.5", "--secondary-threshold", "2.0"],
    ["--mirror", "--rotations", "--detail", "0.5", "--no-refine-boxes"],
    pytest.param(["--attractiveness-descriptor", "--age-descriptor", "--detail", "0.5"],
                 marks=needs_dlib),
]
BUNDLE_SETTINGS = [
    {"detail_ratio": 0.5},
    {"frame_read": "picture"},
    {"verify_faces": [2.0, 0.01]},
    {"verify_faces": [2.0, 0.01], "verify_luma": [50, 200]},
    {"arbitrate_nested": None, "arbitrate_picture": False},  # the embedded bundle's arbitration off
]


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    import cv2
    from skimage.data import astronaut

    path = tmp_path_factory.mktemp("photo") / "astronaut-1200.jpg"
    big = cv2.resize(astronaut(), (1200, 1200), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def _faces(argv, capsys) -> list[dict]:
    from lnet_anet.predict import main

    assert main([*argv, "--json"]) == 0, capsys.readouterr().err
    (record,) = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert record.get("error") is None
    return record["faces"]


@pytest.fixture(scope="module")
def plain_box(photo):
    from lnet_anet.inference.predictor import Predictor

    return Predictor.load().predict(str(photo))["faces"][0]["box"]


def _same_face(faces: list[dict], box: list[float]) -> bool:
    boxes = torch.tensor([f["box"] for f in faces], dtype=torch.float64)
    return bool(len(faces)) and float(box_iou(boxes, torch.tensor([box], dtype=torch.float64)).max()) >= 0.5


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: " ".join(o) or "plain")
def test_each_predict_option_reads_the_photo_with_the_embedded_bundle(options, photo, plain_box, capsys):
    faces = _faces([str(photo), *options], capsys)
    assert _same_face(faces, plain_box)
    for face in faces:
        assert np.isfinite(face["age"]["mean"]) and 0 <= face["attributes"]["Smiling"] <= 1


@pytest.mark.parametrize("settings", BUNDLE_SETTINGS, ids=lambda s: ",".join(s))
def test_each_opt_in_bundle_setting_builds_and_reads_the_photo(settings, photo, plain_box, tmp_path, capsys):
    from lnet_anet.cli.build_bundle import main as build

    out = tmp_path / "derived.lnetanet"
    assert build(["--from-bundle", str(DEFAULT_BUNDLE), "--lnet-input", json.dumps(settings), "--out", str(out)]) == 0
    capsys.readouterr()
    assert _same_face(_faces([str(photo), "--bundle", str(out)], capsys), plain_box)


def test_secondary_threshold_holds_every_further_face_and_a_crowd_bundle_reads_the_photo(photo, plain_box, tmp_path,
                                                                                         capsys):  # fmt: skip
    """--secondary-threshold T: every face after the best must exceed T, the bundle's lower bars for
    weak faces apart and for crowds off (before, a higher T let more weak faces in); the record
    says so under "settings". A bundle with the localizer's crowd rule reads the photo too."""
    import cv2
    from skimage.data import astronaut

    from lnet_anet.cli.build_bundle import main as build
    from lnet_anet.predict import main

    path = tmp_path / "astronaut-512-q75.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 75])
    plain = _faces([str(path)], capsys)
    assert len(plain) >= 2 and min(f["score"] for f in plain[1:]) < 3.0  # a weak face apart from the best
    assert main([str(path), "--json", "--secondary-threshold", "100"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(record["faces"]) == 1 and record["settings"]["weak_threshold"] is None
    out = tmp_path / "crowd.lnetanet"
    assert build(["--from-bundle", str(DEFAULT_BUNDLE), "--localizer", '{"crowd": [0.35, 0.66]}', "--out", str(out)]) == 0
    capsys.readouterr()
    assert _same_face(_faces([str(photo), "--bundle", str(out)], capsys), plain_box)



def test_closeups_skip_the_second_reading_of_a_face_that_fills_the_picture(photo, plain_box):
    """Predictor.lone_skip_share (predict --closeups): a picture whose one face spans most of it is
    not read again at the zoom-in scale; the face and its record stay the same, the record says the
    setting, and a picture with room beside its face is still read again."""
    import cv2

    import lnet_anet.inference.predictor as predictor_module
    from lnet_anet.inference.predictor import CLOSEUP_SKIP_SHARE, Predictor

    image = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    x0, y0, x1, y1 = (int(v) for v in plain_box)
    margin = (x1 - x0) // 8
    closeup = np.ascontiguousarray(image[y0 - margin : y1 + margin, x0 - margin : x1 + margin])
    predictor = Predictor.load()
    scales: list[float] = []
    read_at = predictor_module.Predictor._detect_at

    def counted(self, scale, *args, **kwargs):
        scales.append(scale)
        return read_at(self, scale, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(predictor_module.Predictor, "_detect_at", counted)
        plain = predictor.predict(closeup)
        plain_reads, scales[:] = len(scales), []
        predictor.lone_skip_share = CLOSEUP_SKIP_SHARE
        fast = predictor.predict(closeup)
        assert len(scales) < plain_reads and fast.pop("settings") == {"zoom_in_lone_skip_share": CLOSEUP_SKIP_SHARE}
        assert fast == plain and len(plain["faces"]) == 1
        scales[:] = []
        roomy = np.zeros((closeup.shape[0] * 3, closeup.shape[1] * 3, 3), np.uint8)  # the face a third of each side
        roomy[closeup.shape[0] : 2 * closeup.shape[0], closeup.shape[1] : 2 * closeup.shape[1]] = closeup
        predictor.predict(roomy)
        with_room = len(scales)
        predictor.lone_skip_share = None
        scales[:] = []
        predictor.predict(roomy)
        assert with_room == len(scales)
