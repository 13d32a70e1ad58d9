"""The peer of `scripts/bench-vision`: follicle-vision's landmark pipeline in Python, the same
ONNX models run by onnxruntime on one thread, with the same pre-processing (detector on the
photo letterboxed to 128 px; the mesh on a 192-px crop from the detector's box, then on eight
crops shifted round the crop from the mesh's own points, cut out once and reduced by area
averaging to at most 384 px, sampled bilinearly; the median of the eight looks).

    python3 bench_vision_peer.py DIVAN_OUTPUT PHOTO...

prints, per photo, the median of its own runs beside Follicle's median read from divan's
output (the `find` benchmark), and their ratio. Area averaging is Pillow's BOX filter here and
`image::imageops::thumbnail` in Follicle: the same operation, not the same bytes.
"""
import math
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "assets" / "models"
RUNS = 20
WARM_UP = 3

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
DETECTOR = ort.InferenceSession(str(MODELS / "face_detection_short_range.onnx"), options, providers=["CPUExecutionProvider"])
MESH = ort.InferenceSession(str(MODELS / "face_landmark.onnx"), options, providers=["CPUExecutionProvider"])


def anchors():
    strides, out, layer = [8, 16, 16, 16], [], 0
    while layer < len(strides):
        stride, repeats = strides[layer], 0
        while layer < len(strides) and strides[layer] == stride:
            repeats, layer = repeats + 2, layer + 1
        cells = 128 // stride
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells)] * repeats
    return np.array(out, np.float32)


ANCHORS = anchors()


def detect(photo):
    h, w = photo.shape[:2]
    scale = 128 / max(w, h)
    tw, th = min(max(round(w * scale), 1), 128), min(max(round(h * scale), 1), 128)
    small = np.asarray(Image.fromarray(photo).resize((tw, th), Image.BOX), np.float32)
    ox, oy = (128 - tw) // 2, (128 - th) // 2
    square = np.full((128, 128, 3), -1.0, np.float32)
    square[oy:oy + th, ox:ox + tw] = small / 127.5 - 1.0
    outputs = DETECTOR.run(None, {DETECTOR.get_inputs()[0].name: square.transpose(2, 0, 1)[None]})
    regressors = next(o for o in outputs if o.shape[-1] == 16)[0] / 128.0
    scores = 1 / (1 + np.exp(-np.clip(next(o for o in outputs if o.shape[-1] == 1)[0, :, 0], -80, 80)))
    found = []
    for i in np.nonzero(scores >= 0.1)[0]:
        r, a = regressors[i], ANCHORS[i]
        if not (r[2] > 0 and r[3] > 0):
            continue
        cx, cy = r[0] + a[0], r[1] + a[1]
        found.append((scores[i], np.array([cx - r[2] / 2, cy - r[3] / 2, cx + r[2] / 2, cy + r[3] / 2]),
                      r[4:16].reshape(6, 2) + a))
    found.sort(key=lambda d: -d[0])

    def iou(a, b):
        iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
        ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
        return iw * ih / union if union > 0 else 0

    def to_photo(p):
        return np.stack([(p[..., 0] * 128 - ox) / tw * w, (p[..., 1] * 128 - oy) / th * h], -1)

    faces = []
    while found:
        best = found[0]
        same = [d for d in found if iou(d[1], best[1]) > 0.3]
        found = [d for d in found if iou(d[1], best[1]) <= 0.3]
        weights = np.array([d[0] for d in same])
        box = (np.array([d[1] for d in same]) * weights[:, None]).sum(0) / weights.sum()
        keypoints = (np.array([d[2] for d in same]) * weights[:, None, None]).sum(0) / weights.sum()
        faces.append((best[0], to_photo(box.reshape(2, 2)).reshape(4), to_photo(keypoints)))
    return faces


def to_photo(roi, u, v):
    (cx, cy), size, angle = roi
    a, b = (u - 0.5) * size, (v - 0.5) * size
    s, c = math.sin(angle), math.cos(angle)
    return cx + c * a - s * b, cy + s * a + c * b


def cutout(photo, rois, max_px=384, side=192):
    h, w = photo.shape[:2]
    corners = np.array([to_photo(r, u, v) for r in rois for u, v in [(0, 0), (1, 0), (0, 1), (1, 1)]])
    x0, y0 = np.clip(np.floor(corners.min(0)), 0, [w, h]).astype(int)
    x1, y1 = np.clip(np.ceil(corners.max(0)), 0, [w, h]).astype(int)
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    cut, cw, ch = photo[y0:y1, x0:x1], x1 - x0, y1 - y0
    shrink = min(max(max_px, side) / max(cw, ch), 1.0)
    if shrink < 1:
        cut = np.asarray(Image.fromarray(cut).resize((max(round(cw * shrink), 1), max(round(ch * shrink), 1)), Image.BOX))
    th, tw = cut.shape[:2]
    padded = np.zeros((th + 2, tw + 2, 3), np.float32)
    padded[1:-1, 1:-1] = cut
    return padded, (x0, y0), (tw / cw, th / ch)


def sample(cut, roi, side=192):
    padded, (x0, y0), (fx, fy) = cut
    th, tw = padded.shape[0] - 2, padded.shape[1] - 2
    (cx, cy), size, angle = roi
    s, c = math.sin(angle), math.cos(angle)
    u, v = np.meshgrid((np.arange(side) + 0.5) / side, (np.arange(side) + 0.5) / side)
    a, b = (u - 0.5) * size, (v - 0.5) * size
    qx = (cx + c * a - s * b - x0) * fx - 0.5
    qy = (cy + s * a + c * b - y0) * fy - 0.5
    ix, iy = np.floor(qx).astype(int), np.floor(qy).astype(int)
    ax, ay = (qx - ix)[..., None], (qy - iy)[..., None]

    def texel(x, y):
        inside = (x >= 0) & (y >= 0) & (x < tw) & (y < th)
        return np.where(inside[..., None], padded[np.clip(y, -1, th) + 1, np.clip(x, -1, tw) + 1], 0)

    top = texel(ix, iy) * (1 - ax) + texel(ix + 1, iy) * ax
    bottom = texel(ix, iy + 1) * (1 - ax) + texel(ix + 1, iy + 1) * ax
    return ((top * (1 - ay) + bottom * ay) / 255.0).astype(np.float32).transpose(2, 0, 1)[None]


def look(tensor, roi):
    outputs = MESH.run(None, {MESH.get_inputs()[0].name: tensor})
    raw = next(o for o in outputs if o.size == 1404).reshape(468, 3)
    flag = next(o for o in outputs if o.size == 1).item()
    (cx, cy), size, angle = roi
    s, c = math.sin(angle), math.cos(angle)
    a, b = ((raw[:, 0] + 0.5) / 192 - 0.5) * size, ((raw[:, 1] + 0.5) / 192 - 0.5) * size
    points = np.stack([cx + c * a - s * b, cy + s * a + c * b], -1)
    return points, 1 / (1 + math.exp(-max(-80.0, min(80.0, flag))))


def roi_from_points(points):
    lo, hi = points.min(0), points.max(0)
    a, b = points[33], points[263]
    return tuple((lo + hi) / 2), max(hi - lo) * 1.5, math.atan2(b[1] - a[1], b[0] - a[0])


def find(photo):
    faces = [f for f in detect(photo) if f[0] > 0.5]
    _, box, keypoints = max(faces, key=lambda f: f[1][2] - f[1][0])
    a, b = keypoints[0], keypoints[1]
    roi = (((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), max(box[2] - box[0], box[3] - box[1]) * 1.5,
           math.atan2(b[1] - a[1], b[0] - a[0]))
    first, _ = look(sample(cutout(photo, [roi]), roi), roi)
    centre = roi_from_points(first)
    (cx, cy), size, angle = centre
    s, c = math.sin(angle), math.cos(angle)
    rois = []
    for k in range(8):
        dx, dy = math.cos(math.tau * k / 8) * 0.025 * size, math.sin(math.tau * k / 8) * 0.025 * size
        rois.append(((cx + c * dx - s * dy, cy + s * dx + c * dy), size, angle))
    cut = cutout(photo, rois)
    looks = [look(sample(cut, r), r) for r in rois]
    points = np.median([p for p, score in looks if score > 0.5], axis=0)
    glabella = points[[55, 107, 285, 336]].mean(0)
    return glabella, points[33], points[263]


def divan_medians(text):
    """Follicle's median per photo from divan's table (the `find` group)."""
    units = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}
    medians, group = {}, None
    for line in text.splitlines():
        name = re.match(r"^[├╰]─ (\w+)", line)
        if name:
            group = name.group(1)
            continue
        row = re.match(r"^│\s+[├╰]─ (\S+)\s+(.*)$", line)
        if row and group == "find":
            times = re.findall(r"([\d.]+) (ns|µs|us|ms|s)\b", row.group(2))
            if len(times) >= 3:
                value, unit = times[2]  # fastest, slowest, median, mean
                medians[row.group(1)] = float(value) * units[unit]
    return medians


def main():
    follicle = divan_medians(Path(sys.argv[1]).read_text())
    print(f"\nPeer: onnxruntime {ort.__version__}, one thread, the same pipeline in Python (numpy {np.__version__}, Pillow)")
    print(f"{'photo':<28} {'Follicle median':>16} {'onnxruntime median':>19} {'ratio F/ORT':>12}")
    for file in sys.argv[2:]:
        photo = np.asarray(ImageOps.exif_transpose(Image.open(ROOT / "assets" / "photos" / file)).convert("RGB"))
        for _ in range(WARM_UP):
            find(photo)
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            find(photo)
            times.append((time.perf_counter() - start) * 1e3)
        peer = statistics.median(times)
        ours = follicle.get(file)
        ratio = f"{ours / peer:11.2f}×" if ours else "          —"
        ours_text = f"{ours:13.1f} ms" if ours else "              —"
        print(f"{file:<28} {ours_text:>16} {peer:16.1f} ms {ratio:>12}")


if __name__ == "__main__":
    main()
