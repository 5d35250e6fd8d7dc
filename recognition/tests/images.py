"""Test images drawn with Pillow: characters as strokes, saved in any format or mode."""
import base64
import io

from PIL import Image, ImageDraw

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
