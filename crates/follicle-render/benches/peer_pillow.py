"""The Pillow peer for follicle-render's benchmark: the same dots, drawn the straightforward
way — a filled ellipse per dot on an ink layer, one Gaussian blur, one composite over skin.

Usage: python3 peer_pillow.py EXPORT_DIR   (EXPORT_DIR written by `cargo bench --bench render -- --export DIR`)
Prints lines `name=... seconds=...` like the Rust side. Part of the benchmark only, never of Follicle.
"""
import statistics
import sys
import time
from array import array
from pathlib import Path

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


if __name__ == "__main__":
    main()
