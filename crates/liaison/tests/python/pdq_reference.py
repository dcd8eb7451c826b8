"""Generates test images and their transformed copies, and hashes each with
the reference PDQ implementation (Python `pdqhash`, the C++ code of
facebook/ThreatExchange).

Usage: pdq_reference.py OUT_DIR [COUNT]
Writes the images into OUT_DIR and prints one JSON object on stdout:
{"file name": {"hash": "<64 hex>", "quality": N}, ...}
"""

import io
import json
import math
import os
import random
import sys

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter


def scene(rng, width, height):
    """A photo-like picture: a gradient sky, shapes, texture and noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack(
        [
            rng.uniform(40, 200) + rng.uniform(-60, 60) * x / width,
            rng.uniform(40, 200) + rng.uniform(-60, 60) * y / height,
            rng.uniform(40, 200) + rng.uniform(-40, 40) * (x + y) / (width + height),
        ],
        axis=-1,
    )
    for _ in range(rng.randint(1, 3)):
        fx, fy = rng.uniform(0.005, 0.05), rng.uniform(0.005, 0.05)
        base += rng.uniform(10, 40) * np.sin(fx * x + fy * y + rng.uniform(0, 6))[..., None]
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(6, 18)):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        w, h = rng.uniform(width * 0.05, width * 0.4), rng.uniform(height * 0.05, height * 0.4)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = rng.choice(["rect", "ellipse", "line", "polygon"])
        if shape == "rect":
            draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
        elif shape == "ellipse":
            draw.ellipse([x0, y0, x0 + w, y0 + h], fill=colour)
        elif shape == "line":
            draw.line([x0, y0, x0 + w, y0 + h], fill=colour, width=rng.randint(2, 12))
        else:
            pts = [
                (x0 + w * math.cos(a), y0 + h * math.sin(a))
                for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(5))
            ]
            draw.polygon(pts, fill=colour)
    noise = np.random.default_rng(rng.randint(0, 2**32)).normal(0, 6, (height, width, 3))
    arr = np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def save(img, path, **options):
    img.save(path, **options)
    return os.path.basename(path)


def reference(path):
    with Image.open(path) as img:
        rgb = np.asarray(img.convert("RGB"))
    vector, quality = pdqhash.compute(rgb)
    hex_hash = "{:064x}".format(int("".join(str(int(b)) for b in vector), 2))
    return {"hash": hex_hash, "quality": int(quality)}


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261123)
    names = []
    for i in range(count):
        width, height = rng.choice([(640, 480), (800, 600), (512, 512), (1024, 683), (333, 500)])
        img = scene(rng, width, height)
        stem = os.path.join(out, f"img{i:02d}")
        names.append(save(img, stem + ".png"))
        names.append(save(img, stem + "-q95.jpg", quality=95))
        names.append(save(img, stem + "-q85.jpg", quality=85))
        names.append(save(img, stem + ".webp", quality=90))
        names.append(save(img, stem + "-lossless.webp", lossless=True))
        half = img.resize((width // 2, height // 2), Image.BILINEAR)
        names.append(save(half, stem + "-half.png"))
        odd = img.resize((int(width * 0.73), int(height * 0.73)), Image.LANCZOS)
        names.append(save(odd, stem + "-resized.jpg", quality=90))
        names.append(save(img.filter(ImageFilter.GaussianBlur(1.5)), stem + "-blur.png"))
        names.append(save(img.convert("L"), stem + "-grey.png"))
        # Low-detail copies: their quality falls, down below the match floor.
        names.append(save(img.filter(ImageFilter.GaussianBlur(6 + 4 * (i % 3))), stem + "-soft.png"))
        flat = Image.blend(img, Image.new("RGB", img.size, (128, 128, 128)), 0.97)
        names.append(save(flat, stem + "-faint.png"))
        rgba = img.convert("RGBA")
        names.append(save(rgba, stem + "-rgba.png"))
        # Re-encoded twice: what a file looks like after a few uploads.
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        buf.seek(0)
        names.append(save(Image.open(buf).convert("RGB"), stem + "-twice.jpg", quality=85))
    print(json.dumps({n: reference(os.path.join(out, n)) for n in names}))


if __name__ == "__main__":
    main()
