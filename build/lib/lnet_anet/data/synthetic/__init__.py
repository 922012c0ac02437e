"""A deterministic synthetic dataset in CelebA's original file formats.

Faces are drawn with OpenCV primitives so that every label has a visual cue (hair colour, glasses,
hat, smile, beard, lipstick, age wrinkles and grey hair, ...) and an identity fixes the face
geometry and skin tone. The tree it writes lets every stage of the pipeline (LNet localization,
ANet attributes and identity pre-training, DLDL age) run end to end without real data:

    img_celeba/NNNNNN.jpg              in-the-wild scenes (one or two faces on clutter)
    img_align_celeba/NNNNNN.jpg        the same face, aligned and centred
    list_attr_celeba.txt               40 attributes, CelebA layout (CRLF, runs of spaces)
    list_bbox_celeba.txt               largest face box per scene: image_id x_1 y_1 width height
    list_bbox_all.csv                  every face box: image_id,x0,y0,x1,y1 (x1, y1 exclusive)
    list_landmarks_align_celeba.txt    5 landmarks in the aligned images
    list_landmarks_celeba.txt          5 landmarks of the largest face in the scenes
    identity_CelebA.txt                image -> identity (1-based)
    list_eval_partition.txt            identity-disjoint 0/1/2 split (about 70/15/15)
    ages.csv                           path,age,identity,split,gender (aligned images; age
                                       1-90 is visible; gender 0 male, 1 female)
    backgrounds/NNNN.jpg               face-free scenes from the same background generator

Usage: ``python -m lnet_anet.data.synthetic OUT --n-images 500 --seed 0``.
"""

from lnet_anet.data.synthetic.celeba_tree import main, make_synthetic_celeba, read_synthetic
from lnet_anet.data.synthetic.drawing import draw_face
from lnet_anet.data.synthetic.faces import (
    YOUNG_BELOW,
    FaceSpec,
    Identity,
    sample_face,
    sample_identity,
)
from lnet_anet.data.synthetic.render import draw_background, render_aligned, render_scene

__all__ = ["YOUNG_BELOW", "FaceSpec", "Identity", "draw_background", "draw_face", "main", "make_synthetic_celeba",
           "read_synthetic", "render_aligned", "render_scene", "sample_face", "sample_identity"]  # fmt: skip
