"""The network's shape, in PyTorch (imported only by training: the station runs the exported ONNX with OpenCV)."""
from __future__ import annotations

import torch
from torch import nn


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class MaskNet(nn.Module):
    """64x64 colour face -> logits (no mask, mask, not a face). About 110 k weights and 6 M multiply-adds: it
    downsamples early, as the aligned face needs no fine detail to tell a mask, and training shares two cores."""

    def __init__(self, width: int = 24, classes: int = 3):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # 16 x 16
            *_block(w, 2 * w), nn.MaxPool2d(2),  # 8 x 8
            *_block(2 * w, 64), nn.MaxPool2d(2),  # 4 x 4
            *_block(64, 128),
        )
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(128, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def export_onnx(model: nn.Module, path, size: int = 64) -> None:
    """ONNX that cv2.dnn reads (opset 13; batch-norm folded into the convolutions by the exporter)."""
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 3, size, size), str(path), input_names=["face"], output_names=["logits"],
                      opset_version=13, dynamo=False, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL)
