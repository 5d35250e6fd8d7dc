"""Test images drawn with Pillow: characters as strokes, saved in any format or mode."""
import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from ml.datasets import read_unipen
from ml.text_lines import build_line, records_by_label
from testing import DATASET_SLICES

# A "7" as a polyline in a unit square (x right, y down).
SEVEN = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]
ONE = [(0.5, 0.15), (0.5, 0.85)]


def draw_strokes(size=280, points=SEVEN, width=None, ink=(0, 0, 0, 255), paper=(255, 255, 255, 255),
                 offset=(0, 0), scale=1.0):
    """An RGBA image with `points` drawn as one polyline; paper may be fully transparent."""
    image = Image.new("RGBA", (size, size), paper)
    draw = ImageDraw.Draw(image)
    width = width or max(1, round(size * 0.045))
    pixels = [
        (offset[0] + x * size * scale, offset[1] + y * size * scale) for x, y in points
    ]
    draw.line(pixels, fill=ink, width=width, joint="curve")
    return image


def encode(image, fmt="PNG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def data_url(data, mime="image/png"):
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def seven_png(**kwargs):
    return encode(draw_strokes(**kwargs))


def ring(radius, centre=(0, 0)):
    """One closed stroke, an `O` or an `o`, as a (60, 2) array of points."""
    angles = np.linspace(0, 2 * np.pi, 60)
    return [np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], 1)]


def touching_forty_two():
    """A photo-like line of "42" by a held-out UNIPEN writer, the 2 leaning into the 4 so that
    their ink touches (one connected piece): a `text_lines.Line`."""
    records, _ = read_unipen("test", DATASET_SLICES)
    by_label = records_by_label(records)
    return build_line([by_label["4"][0], by_label["2"][0]], np.random.default_rng(0), gaps=(-0.08, -0.04))
