"""Writes the photo_upload target's seeds (fuzz/corpus/photo_upload/seed-*): tiny JPEGs and
PNGs in the forms a phone or camera sends, each with the metadata the sanitiser removes.

Run once by hand (the seeds are committed): needs Pillow, in a venv outside the repo:
    python3 -m venv ~/.cache/follicle/venv-fuzz && ~/.cache/follicle/venv-fuzz/bin/pip install pillow
    ~/.cache/follicle/venv-fuzz/bin/python fuzz/make_photo_seeds.py
"""

import io
import os
import struct
import zlib

from PIL import Image, PngImagePlugin

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "photo_upload")
PHOTO = os.path.join(HERE, "..", "assets", "photos", "654px-Aksel_Andersson.jpg")


def save(name, data):
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)


def jpeg(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def png(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def main():
    os.makedirs(OUT, exist_ok=True)
    face = Image.open(PHOTO).convert("RGB")
    small = face.resize((16, 16))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turned
    exif[0x010F] = "Camera maker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS
    save("exif.jpg", jpeg(small, quality=70, exif=exif.tobytes(), icc_profile=b"\0" * 64))
    save("progressive.jpg", jpeg(face.resize((12, 12)), progressive=True, quality=60))
    save("gray.jpg", jpeg(face.resize((10, 10)).convert("L"), quality=60, comment=b"patient name"))
    save("cmyk.jpg", jpeg(face.resize((8, 8)).convert("CMYK"), quality=60))
    save("restart.jpg", jpeg(face.resize((16, 8)), quality=60, restart_marker_blocks=1))
    save("subsampled.jpg", jpeg(face.resize((17, 9)), quality=50, subsampling=2, dpi=(300, 300)))
    save("rgb.png", png(face.resize((8, 8))))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "patient name")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta/>")
    save("rgba-text.png", png(face.resize((6, 6)).convert("RGBA"), pnginfo=info))
    save("palette.png", png(face.resize((8, 8)).convert("P", palette=Image.ADAPTIVE, colors=8), transparency=0))
    save("gray16.png", png(face.resize((5, 5)).convert("I;16")))
    save("gray-alpha.png", png(face.resize((4, 4)).convert("LA")))
    # A 16-bit RGBA PNG written by hand (Pillow writes none), with a private chunk and a
    # video appended after IEND, as phones do.
    w, h = 3, 2
    rows = b"".join(b"\0" + bytes(range(8 * w)) for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"prVt", b"secret")
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"") + b"ftypmp42")
    save("rgba16.png", data)


if __name__ == "__main__":
    main()
