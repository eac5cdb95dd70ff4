"""One image file to a fixed-size array: shared by the app and the image bundle's predict_images.py, so both
read images the same way. Needs only Pillow and numpy."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # a larger picture is refused before it is decoded (a decompression bomb)
MIN_SIDE = 8  # smaller pictures carry too little to learn from
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


class NotAnImage(ValueError):
    """The bytes are not a PNG or JPEG picture Pillow can read, or the picture is too large or too small."""


def open_image(data: bytes | Path) -> Image.Image:
    """A decoded picture (EXIF orientation applied); raises NotAnImage."""
    try:
        image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        if image.format not in ("PNG", "JPEG"):
            raise NotAnImage("format")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise NotAnImage("too_large")
        if min(width, height) < MIN_SIDE:
            raise NotAnImage("too_small")
        image.load()
        return ImageOps.exif_transpose(image)
    except NotAnImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise NotAnImage("unreadable") from exc


def is_gray(image: Image.Image) -> bool:
    """Whether the picture has no colour channels."""
    return image.mode in GRAY_MODES


def to_array(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """The picture as uint8 pixels of shape (size, size, channels): 1 = grey, 3 = colour."""
    converted = image.convert("L" if channels == 1 else "RGB").resize((size, size), Image.Resampling.BILINEAR)
    pixels = np.asarray(converted, dtype="uint8")
    return pixels[:, :, None] if channels == 1 else pixels
