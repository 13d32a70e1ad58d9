#!/usr/bin/env python3
"""Prepares assets/meshes/head.off, the head the renderer draws, from CGAL's CC0 sample mesh.

Run from the repository root:  python3 scripts/prepare-head-mesh.py [path/to/head.off]
Without a path it downloads Debian's libcgal-demo with apt-get and takes
data/meshes/head.off out of /usr/share/doc/libcgal-dev/data.tar.gz.

What it does (recorded in assets/meshes/ORIGIN.md):
1. turns the mesh into Follicle's axes (x towards the right ear, y forwards, z up);
2. closes the two eye openings (a fan to each opening's centroid; tagged "not scalp");
3. makes every face wind outwards (positive signed volume);
4. adds two ears (closed, flattened, tilted ellipsoids, tagged "not scalp"): the sample has none;
5. normalises: the glabella at height 0 on the midline; above it the cranium spans x and y in
   [-1, 1] and reaches z = 1 at the vertex, so the renderer scales by the head's a, b, c.
Faces carry a trailing tag: 0 = may hold scalp, 1 = never scalp (eyes, ears).
Python only prepares the asset; Follicle reads the file in Rust.
"""
import math
import os
import subprocess
import sys
import tarfile
import tempfile

OUT = os.path.join("assets", "meshes", "head.off")


def fetch():
    tmp = tempfile.mkdtemp(prefix="follicle-cgal-")
    subprocess.run(["apt-get", "download", "libcgal-demo"], cwd=tmp, check=True)
    deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
    subprocess.run(["dpkg", "-x", deb, "x"], cwd=tmp, check=True)
    with tarfile.open(os.path.join(tmp, "x/usr/share/doc/libcgal-dev/data.tar.gz")) as t:
        return t.extractfile("data/meshes/head.off").read().decode()


def parse(text):
    tok = text.split()
    assert tok[0] == "OFF"
    nv, nf = int(tok[1]), int(tok[2])
    i = 4
    verts = [tuple(map(float, tok[i + 3 * k : i + 3 * k + 3])) for k in range(nv)]
    i += 3 * nv
    faces = []
    for _ in range(nf):
        n = int(tok[i])
        faces.append([int(x) for x in tok[i + 1 : i + 1 + n]])
        i += 1 + n
    return verts, faces


def boundary_loops(faces):
    half = {}
    for f in faces:
        for a, b in zip(f, f[1:] + f[:1]):
            half[(a, b)] = True
    nxt = {a: b for (a, b) in half if (b, a) not in half}
    loops, seen = [], set()
    for start in nxt:
        if start in seen:
            continue
        loop, v = [], start
        while v not in seen:
            seen.add(v)
            loop.append(v)
            v = nxt[v]
        loops.append(loop)
    return loops


def signed_volume(verts, faces):
    vol = 0.0
    for a, b, c in faces:
        p, q, r = verts[a], verts[b], verts[c]
        vol += (
            p[0] * (q[1] * r[2] - q[2] * r[1])
            - p[1] * (q[0] * r[2] - q[2] * r[0])
            + p[2] * (q[0] * r[1] - q[1] * r[0])
        )
    return vol / 6.0


def ellipsoid(centre, axes, rot, nu=24, nv=12):
    """A closed UV ellipsoid: semi-axes in its own frame, rotated by `rot` (3 column vectors)."""
    verts, faces = [], []
    for j in range(1, nv):
        t = math.pi * j / nv
        for i in range(nu):
            u = 2 * math.pi * i / nu
            local = (axes[0] * math.sin(t) * math.cos(u), axes[1] * math.sin(t) * math.sin(u), axes[2] * math.cos(t))
            verts.append(tuple(centre[k] + sum(rot[m][k] * local[m] for m in range(3)) for k in range(3)))
    top = len(verts)
    verts.append(tuple(centre[k] + rot[2][k] * axes[2] for k in range(3)))
    bottom = len(verts)
    verts.append(tuple(centre[k] - rot[2][k] * axes[2] for k in range(3)))
    ring = lambda j, i: (j - 1) * nu + (i % nu)
    for i in range(nu):
        faces.append([top, ring(1, i), ring(1, i + 1)])
        faces.append([bottom, ring(nv - 1, i + 1), ring(nv - 1, i)])
    for j in range(1, nv - 1):
        for i in range(nu):
            a, b, c, d = ring(j, i), ring(j, i + 1), ring(j + 1, i), ring(j + 1, i + 1)
            faces.append([a, c, d])
            faces.append([a, d, b])
    return verts, faces


def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else fetch()
    verts, faces = parse(text)
    assert all(len(f) == 3 for f in faces)
    # 1. CGAL's sample: y up, the face towards -x, the ears along z. Follicle: x right, y forward, z up
    # (right = forward × up keeps the frame right-handed, so the head is not mirrored).
    verts = [(-z, -x, y) for (x, y, z) in verts]
    tags = [0] * len(faces)
    # 2. Close every opening but the neck (the longest loop).
    loops = sorted(boundary_loops(faces), key=len)
    eye_centres = []
    for loop in loops[:-1]:
        c = tuple(sum(verts[v][k] for v in loop) / len(loop) for k in range(3))
        eye_centres.append(c)
        ci = len(verts)
        verts.append(c)
        for a, b in zip(loop, loop[1:] + loop[:1]):
            faces.append([b, a, ci])
            tags.append(1)
    assert len(eye_centres) == 2, f"expected two eye openings, found {len(eye_centres)}"
    # 3. Outward winding (the neck stays open; closing it for the volume only).
    neck = loops[-1]
    nc = tuple(sum(verts[v][k] for v in neck) / len(neck) for k in range(3))
    closed = faces + [[a, b, len(verts)] for a, b in zip(neck, neck[1:] + neck[:1])]
    if signed_volume(verts + [nc], closed) < 0:
        faces = [[a, c, b] for a, b, c in faces]
    # 5. (first the landmarks) the glabella: the most forward midline point a little above the eyes.
    eye_z = sum(c[2] for c in eye_centres) / 2
    top = max(v[2] for v in verts)
    mid_x = sum(c[0] for c in eye_centres) / 2
    band = [v for v in verts if abs(v[0] - mid_x) < 0.35 and eye_z <= v[2] <= eye_z + 0.2 * (top - eye_z)]
    glabella = max(band, key=lambda v: v[1])
    z0 = glabella[2]
    cranium = [v for v in verts if v[2] >= z0]
    x_lo, x_hi = min(v[0] for v in cranium), max(v[0] for v in cranium)
    y_lo, y_hi = min(v[1] for v in cranium), max(v[1] for v in cranium)
    sx, sy, sz = (x_hi - x_lo) / 2, (y_hi - y_lo) / 2, top - z0
    cx, cy = (x_lo + x_hi) / 2, (y_lo + y_hi) / 2
    # Below the glabella z is in units of the half-length, so the face keeps the sample's
    # proportions whatever the height of the client's cranium (the renderer scales z by c above
    # the glabella and by b below it).
    verts = [((x - cx) / sx, (y - cy) / sy, (z - z0) / (sz if z >= z0 else sy)) for (x, y, z) in verts]
    # 4. Ears, in the normalised frame: the ear canal a twentieth of the half-length behind the
    # middle and about a quarter of the height below the glabella (Follicle's default landmarks);
    # an ear about 62 mm tall and 33 mm wide on a 195 mm long, 105 mm high head, leaning back 15°,
    # standing off the head by about 20°.
    canal_y, canal_z = -0.05, -0.26
    for side in (1, -1):
        near = [v for v in verts if v[0] * side > 0 and abs(v[1] - canal_y) < 0.12 and abs(v[2] - canal_z) < 0.12]
        surface_x = side * max(abs(v[0]) for v in near)
        lean, flare = math.radians(15), math.radians(20)
        # Ear frame: m0 = across the ear (outwards), m1 = along its width, m2 = up its length.
        m2 = (0.0, -math.sin(lean), math.cos(lean))
        m0 = (side * math.cos(flare), math.sin(flare), 0.0)
        m1 = (
            m2[1] * m0[2] - m2[2] * m0[1],
            m2[2] * m0[0] - m2[0] * m0[2],
            m2[0] * m0[1] - m2[1] * m0[0],
        )
        centre = (surface_x + side * 0.02, canal_y - 0.1, canal_z + 0.05)
        ev, ef = ellipsoid(centre, (0.10, 0.17, 0.32), (m0, m1, m2))
        # Outward winding whichever way the ear's frame turns (volume about the ear's centre).
        local = [tuple(v[k] - centre[k] for k in range(3)) for v in ev]
        if signed_volume(local, ef) < 0:
            ef = [[a, c, b] for a, b, c in ef]
        base = len(verts)
        verts += ev
        for f in ef:
            faces.append([base + k for k in f])
            tags.append(1)
    with open(OUT, "w") as out:
        out.write("OFF\n")
        out.write("# Follicle's head: CGAL 5.5.1 data/meshes/head.off (CC0) prepared by\n")
        out.write("# scripts/prepare-head-mesh.py; see ORIGIN.md. Faces: 3 indices and a tag\n")
        out.write("# (0 may hold scalp, 1 never: eyes, ears). Units: the cranium's semi-axes (x, y; z above\n# the glabella), the half-length (z below it).\n")
        out.write(f"{len(verts)} {len(faces)} 0\n")
        for v in verts:
            out.write(f"{v[0]:.5f} {v[1]:.5f} {v[2]:.5f}\n")
        for f, t in zip(faces, tags):
            out.write(f"3 {f[0]} {f[1]} {f[2]} {t}\n")
    print(f"wrote {OUT}: {len(verts)} vertices, {len(faces)} faces; glabella at {glabella}, scale {sx:.3f} {sy:.3f} {sz:.3f}")


if __name__ == "__main__":
    main()
