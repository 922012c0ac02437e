"""Evaluation metrics, one module per task:

detection  face boxes: IoU, recall / mean IoU / false positives, empty-image rate (LNet);
           benchmark scoring: AP at IoU 0.5, recall at fixed false alarms per image, by size
age        scalar estimates: MAE, CS, epsilon-error, errors by group (DLDL age/attractiveness)
attributes binary attributes: accuracy, balanced accuracy, majority baseline, calibration
intervals  bootstrap confidence intervals of any of these figures, the scored items resampled
"""

from lnet_anet.metrics.detection import empty_image_rate, evaluate_detections, iou, match_detections

__all__ = ["empty_image_rate", "evaluate_detections", "iou", "match_detections"]
