"""A small picture set the benchmarks (and tests) draw themselves: filled circles, squares and triangles of
random size, place and dark colour on a random light background with pixel noise, saved half as PNG and half as JPEG in a
zip with one folder per class, the layout the Images page reads. Nothing is downloaded."""

from __future__ import annotations

import io
import zipfile

import numpy as np

SHAPES = ("circle", "square", "triangle")


def _picture(shape: str, rng: np.random.Generator, size: int) -> "Image.Image":  # noqa: F821
    from PIL import Image, ImageDraw

    background = tuple(int(v) for v in rng.integers(170, 256, 3))  # a light paper of any tint
    colour = tuple(int(v) for v in rng.integers(0, 140, 3))  # ink of any colour, darker than the paper
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    side = rng.uniform(0.35, 0.7) * size
    x, y = rng.uniform(0, size - side, 2)
    if shape == "circle":
        draw.ellipse([x, y, x + side, y + side], fill=colour)
    elif shape == "square":
        draw.rectangle([x, y, x + side, y + side], fill=colour)
    else:
        draw.polygon([(x + side / 2, y), (x, y + side), (x + side, y + side)], fill=colour)
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 12, (size, size, 3)).astype(np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def shapes_zip(per_class: int = 70, size: int = 64, seed: int = 0, classes: tuple[str, ...] = SHAPES) -> bytes:
    """The zip's bytes: `per_class` pictures of each shape, `size` pixels a side."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for shape in classes:
            for i in range(per_class):
                picture, out = _picture(shape, rng, size), io.BytesIO()
                kind = "PNG" if i % 2 == 0 else "JPEG"
                picture.save(out, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
                archive.writestr(f"{shape}/{i:03d}.{'png' if kind == 'PNG' else 'jpg'}", out.getvalue())
    return buffer.getvalue()
