"""The Pillow peer for follicle-render's benchmark: the same dots, drawn the straightforward
way — a filled ellipse per dot on an ink layer, one Gaussian blur, one composite over skin.
For the photo preview (issue 12), the same spots on the same 2048-px photo: an ellipse per
spot on an ink layer over the spots' box, one Gaussian blur, and a multiplicative composite in
linear light with NumPy (sRGB → linear by table, Beer–Lambert transmittance, linear → sRGB).

Usage: python3 peer_pillow.py EXPORT_DIR   (EXPORT_DIR written by `cargo bench --bench render -- --export DIR`)
Prints lines `name=... seconds=...` like the Rust side. Part of the benchmark only, never of Follicle.
"""
import statistics
import sys
import time
from array import array
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def load(path):
    a = array("f")
    a.frombytes(Path(path).read_bytes())
    return [(a[i], a[i + 1], a[i + 2]) for i in range(0, len(a), 3)]


def draw(dots, side, radius, sigma, skin=(226, 190, 164)):
    ink = Image.new("L", (side, side), 0)
    d = ImageDraw.Draw(ink)
    for x, y, m in dots:
        d.ellipse((x - radius, y - radius, x + radius, y + radius), fill=int(255 * min(m, 1.0)))
    ink = ink.filter(ImageFilter.GaussianBlur(sigma))
    base = Image.new("RGB", (side, side), skin)
    dark = Image.new("RGB", (side, side), (137, 142, 148))
    return Image.composite(dark, base, ink)


# The ink layer is 8-bit: this much absorbance is 255.
INK_FULL = 4.0


def load4(path):
    return np.frombuffer(Path(path).read_bytes(), dtype="<f4").reshape(-1, 4)


def photo_preview(photo, spots, absorbance, surface_share, to_linear, to_srgb):
    """The photo with the spots: (x, y, diameter px, peak ink) each."""
    x, y, d = spots[:, 0], spots[:, 1], spots[:, 2]
    r = d / 2
    pad = int(np.ceil(d.max())) + 2
    x0 = max(int(np.floor((x - r).min())) - pad, 0)
    y0 = max(int(np.floor((y - r).min())) - pad, 0)
    x1 = min(int(np.ceil((x + r).max())) + pad, photo.width)
    y1 = min(int(np.ceil((y + r).max())) + pad, photo.height)
    ink = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(ink)
    # A disk of diameter d holding the mass of a Gaussian of σ = d / 2.5 of this peak.
    fill = np.minimum(spots[:, 3] * (8 / 6.25) / INK_FULL * 255, 255).astype(int).tolist()
    for xi, yi, ri, f in zip((x - x0).tolist(), (y - y0).tolist(), r.tolist(), fill):
        draw.ellipse((xi - ri, yi - ri, xi + ri, yi + ri), fill=f)
    ink = ink.filter(ImageFilter.GaussianBlur(float(np.median(d)) / 4))
    a = np.asarray(ink, dtype=np.float32) * (INK_FULL / 255)
    out = np.array(photo)
    crop = out[y0:y1, x0:x1]
    lin = to_linear[crop]
    t = surface_share + (1 - surface_share) * np.exp(-a[..., None] * absorbance)
    idx = np.clip(lin * t * 4095 + 0.5, 0, 4095).astype(np.int32)
    out[y0:y1, x0:x1] = to_srgb[idx]
    return Image.fromarray(out)


def main():
    out = Path(sys.argv[1])
    params = dict(line.split("=") for line in (out / "params.txt").read_text().split())
    side, sigma, radius = int(params["side"]), float(params["sigma_px"]), float(params["radius_px"])
    runs = 3
    random_dots = load(out / "random_dots.f32")
    # Pillow is slow: time 100k of the 1M dots and report the rate.
    sample = random_dots[:100_000]
    # Wall time, and this thread's on-CPU time (what a busy machine does not inflate).
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.thread_time()
        draw(sample, side, 0.8, sigma)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
    t = statistics.median(times)
    print(f"pillow_splat_dots={len(sample)} seconds={t:.6f} dots_per_second={len(sample) / t:.0f} "
          f"cpu_seconds={statistics.median(cpu):.6f}")
    preview = load(out / "preview_dots.f32")
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.thread_time()
        img = draw(preview, side, radius, max(radius / 1.25, 0.5))
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
    print(f"pillow_preview_2048_dots={len(preview)} seconds={statistics.median(times):.6f} "
          f"cpu_seconds={statistics.median(cpu):.6f}")
    img.save(out / "pillow_preview.png")

    if (out / "photo_spots.f32").exists():
        photo = Image.open(out / "photo.png").convert("RGB")
        spots = load4(out / "photo_spots.f32")
        p = dict(line.split("=") for line in (out / "photo_params.txt").read_text().split())
        absorbance = np.array([float(v) for v in p["absorbance"].split(",")], dtype=np.float32)
        f = float(p["surface_share"])
        v = np.arange(256) / 255
        to_linear = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)
        v = np.arange(4096) / 4095
        to_srgb = np.round(255 * np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)).astype(np.uint8)
        times, cpu = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), time.thread_time()
            img = photo_preview(photo, spots, absorbance, f, to_linear, to_srgb)
            times.append(time.perf_counter() - t)
            cpu.append(time.thread_time() - c)
        print(f"pillow_photo_preview_2048_spots={len(spots)} seconds={statistics.median(times):.6f} "
              f"cpu_seconds={statistics.median(cpu):.6f}")
        img.save(out / "pillow_photo_preview.png")


if __name__ == "__main__":
    main()
