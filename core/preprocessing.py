"""The one preprocessing pipeline: image bytes or arrays -> the model's 28x28 input.

Every route, every training set and every command goes through `normalize` so that what the
model was trained on and what it is served are built the same way. The MNIST convention: the
ink's bounding box scaled to fit 20x20 (aspect kept), placed by centre of mass in a 28x28 frame,
float32 in [0, 1], ink = 1.0, background = 0.0, upright.

Uploads are read by `read_writing`: decoded at most `photo.WORK_SIDE` pixels across, then
`photo.find_writing` finds the writing in a photo of paper (canvas drawings and scans pass
untouched). NumPy, Pillow, cc3d (connected components) and, for photos, OpenCV do the work: the
web process must never import TensorFlow, nor SciPy (scipy.ndimage alone adds 30 MB to a worker).
"""
import io

import cc3d
import numpy as np
import pyspng
from PIL import Image, ImageDraw, ImageFilter, ImageOps, UnidentifiedImageError
# The decoders of the accepted formats, registered without Pillow's scan of every plugin.
from PIL import BmpImagePlugin, GifImagePlugin, JpegImagePlugin, PngImagePlugin, WebPImagePlugin  # noqa: F401

from core import photo

SIZE = 28
BOX = 20
# Strokes are adjusted at this multiple of the 20px box, then area-averaged down.
SUPERSAMPLE = 4
# Stroke width, in pixels of the 20px box, that normalised characters are kept within.
# MNIST test strokes measure 1.5-3.6 px (5th-95th percentile, median 2.3) at this point.
MIN_STROKE, MAX_STROKE = 1.5, 3.6
INPUT_CONTRACT = {
    "shape": [1, SIZE, SIZE, 1],
    "dtype": "float32",
    "range": [0, 1],
    "ink": 1.0,
    "normalisation": "mnist",
}


class PreprocessingError(ValueError):
    """Input that cannot become a character image; its message is shown to the user."""


class NothingDrawn(PreprocessingError):
    def __init__(self):
        super().__init__("nothing drawn: the image holds no ink")


# The formats the API documents; Pillow is not asked to recognise any other (TIFF, EPS, ICO, ...:
# more decoders, more attack surface, and EPS would run Ghostscript). A phone's MPO opens as a JPEG.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")
UNREADABLE = ("this file is not an image we can read: send a photo or drawing as PNG, JPEG, "
              "WebP, GIF or BMP")


def decode_image(data, max_pixels=25_000_000, max_side=photo.WORK_SIDE):
    """Bytes of a PNG, JPEG, WebP, GIF or BMP -> upright 8-bit grayscale ("L") PIL image, at
    most `max_side` pixels across (see `decode_picture`)."""
    return decode_picture(data, max_pixels, max_side)[0]


def decode_picture(data, max_pixels=25_000_000, max_side=photo.WORK_SIDE):
    """Bytes -> (upright grayscale PIL image at most `max_side` across, its pixels per pixel of
    the file).

    The pixel count is checked from the header before anything is decoded, so a
    decompression bomb is refused without allocating it. A large JPEG is decoded at a fraction
    of its size (its DCT scaling: a 12 MP photo costs a quarter of the work), and anything
    larger is shrunk before the pipeline sees it, which bounds the cost of every request.
    Animated images give their first frame, EXIF orientation is applied, and transparency is
    composited onto a backdrop that contrasts with the strokes, so that a transparent canvas
    holding only strokes reads as ink on paper whatever colour they were drawn in.
    """
    if not data:
        raise PreprocessingError("the file is empty: choose a photo or a drawing to send")
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        width, height = image.size
        if width * height > max_pixels:
            raise PreprocessingError(
                f"image too large: {width}x{height} pixels (at most {max_pixels:,} allowed); "
                "send a smaller photo"
            )
        if width < 2 or height < 2:
            raise PreprocessingError(f"image too small: {width}x{height} pixels")
        if _plain_png(image):
            image = Image.fromarray(pyspng.load(data), image.mode)
        else:
            image.seek(0)
            if image.format in ("JPEG", "MPO") and max(width, height) > max_side:
                scale = max_side / max(width, height)
                image.draft("L", (round(width * scale), round(height * scale)))
            image.load()
            image = ImageOps.exif_transpose(image)
        image = _flatten(image)
        if max(image.size) > max_side:
            scale = max_side / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
        return image, image.width / (height if _turned(image, width, height) else width)
    except PreprocessingError:
        raise
    except UnidentifiedImageError as error:
        raise PreprocessingError(UNREADABLE) from error
    except Image.DecompressionBombError as error:
        raise PreprocessingError(f"image too large: {error}") from error
    except (RuntimeError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
            ZeroDivisionError) as error:  # RuntimeError: libspng's, for a corrupt PNG
        raise PreprocessingError("the image file is damaged or incomplete: save it again and "
                                 "send the new file") from error


def _turned(image, width, height):
    """True when EXIF orientation swapped the sides of a `width` x `height` file."""
    return width != height and (image.width > image.height) != (width > height)


def read_writing(data, max_pixels=25_000_000, crop=None, multi=False):
    """Upload bytes (and the box a person drew, in the file's pixels) -> `photo.Writing`: the
    writing to read, cleaned, with its place in the file's pixels."""
    image, scale = decode_picture(data, max_pixels)
    if crop is not None:
        crop = _pixel_box(crop, scale, image.size)
    writing = photo.find_writing(image, crop, multi)
    writing.transform = writing.transform @ np.diag([scale, scale, 1.0])
    return writing


def _pixel_box(crop, scale, size):
    """A box in the file's pixels -> whole pixels of the decoded image, checked."""
    left, top, right, bottom = (float(v) * scale for v in crop)
    left, top = max(0, int(np.floor(left))), max(0, int(np.floor(top)))
    right, bottom = min(size[0], int(np.ceil(right))), min(size[1], int(np.ceil(bottom)))
    if right - left < 4 or bottom - top < 4:
        raise PreprocessingError("the box drawn around the writing is empty or outside the "
                                 "image: draw it over the writing")
    return left, top, right, bottom


def ink_box(ink, scale=1):
    """The box (left, top, right, bottom) of an ink map's ink, in pixels `scale` times its own."""
    rows, cols = _ink_bounds(ink > 0.5)
    return (cols.start * scale, rows.start * scale, cols.stop * scale, rows.stop * scale)


def _plain_png(image):
    """True for a PNG that libspng decodes to exactly what Pillow would (8 bits per channel, no
    palette, colour key, EXIF or animation), about twice as fast: canvas drawings are these."""
    return (
        image.format == "PNG"
        and image.mode in ("L", "RGB", "RGBA")
        and len(image.tile) == 1
        and image.tile[0].args == image.mode
        and not {"exif", "transparency"} & image.info.keys()
        and not getattr(image, "is_animated", False)
    )


def _flatten(image):
    """Any mode (palette, CMYK, 16-bit, LA, RGBA) -> 8-bit grayscale ("L"), with transparency
    composited onto a backdrop that contrasts with the strokes."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = max(array.max(), 1.0)
        image = Image.fromarray((array * (255.0 / top)).astype(np.uint8), "L")
    if image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), "L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("RGBA", "LA", "PA"):
        return image.convert("L")
    alpha = image.getchannel("A")
    if np.asarray(alpha).min() == 255:
        return image.convert("L")  # opaque everywhere, as a canvas filled with white
    gray = image.convert("LA").getchannel("L")
    backdrop = 0 if _light_strokes_on_transparency(gray, alpha) else 255
    return Image.composite(gray, Image.new("L", gray.size, backdrop), alpha)


def _light_strokes_on_transparency(gray, alpha):
    """True for a mostly transparent image whose visible pixels are light (white chalk on a
    transparent canvas): those need a dark backdrop, or they vanish on white."""
    alpha = np.asarray(alpha, dtype=np.float32) / 255.0
    coverage = float(alpha.mean())
    if coverage == 0.0 or coverage >= 0.5:
        return False
    luminance = np.asarray(gray, dtype=np.float32) / 255.0
    return float((luminance * alpha).sum()) / float(alpha.sum()) > 0.5


def ink_map(image):
    """PIL image -> float ink map in [0, 1] (1 = ink), whatever the polarity and lighting.

    Polarity follows from the border (the paper or canvas surrounds the character); the
    paper's brightness is the border's where that is evenly lit, else estimated with a large
    morphological closing so that shadows and uneven lighting in photos cancel out (see
    `_background`); Otsu's threshold on the contrast finds the strokes, and every pixel near
    one, its grey fringe included, gets its contrast relative to that stroke's darkest part
    (0.5 at its edge).
    """
    gray = np.asarray(image if image.mode == "L" else image.convert("L"))
    if np.median(_border(gray)) < 127.5:
        gray = 255 - gray  # light ink on a dark canvas (inverted exactly, before any rounding)
    gray = gray.astype(np.float32) / 255.0
    contrast = np.clip(_background(gray) - gray, 0.0, 1.0)
    peak = float(contrast.max())
    if peak < 0.15:
        raise NothingDrawn()
    threshold = max(_otsu(contrast), 0.12)
    # Each stroke is measured against its own darkest part, the darkest within one to two pen
    # widths (enough to reach a stroke's middle from its edge): a stroke drawn with less
    # pressure keeps its shape instead of falling under a cut set by the darkest one, and a
    # blurred stroke is cut at half its contrast, not thickened to its fringe. The fringe keeps
    # its grey levels: `normalize` scales them before its cut, which puts a small scan's edges
    # between its pixels as training does (zeroed below Otsu's threshold, a 28 px FEMNIST scan
    # lost part of its thin strokes, and the letter model 1.6 points on such uploads).
    local_peak = _block_peak(contrast, max(1, round(stroke_width(contrast >= threshold))))
    near_a_stroke = local_peak >= threshold
    return np.where(near_a_stroke, contrast / np.maximum(local_peak, 1e-6), 0.0).astype(np.float32)


def _block_peak(array, block):
    """For each pixel, the maximum over its block x block tile and the eight tiles around it:
    a maximum filter 2-3 tiles wide at the cost of one pass over the image."""
    height, width = array.shape
    padded = np.pad(array, ((0, -height % block), (0, -width % block)))
    rows = np.maximum.reduce([padded[k::block] for k in range(block)])  # 10x faster than
    tiles = np.maximum.reduce([rows[:, k::block] for k in range(block)])  # reshape().max()
    tiles = _square_filter(tiles, 3, np.maximum)
    return np.repeat(np.repeat(tiles, block, axis=0), block, axis=1)[:height, :width]


def _border(array):
    return np.concatenate([array[0], array[-1], array[:, 0], array[:, -1]])


def _background(gray, thumbnail=32):
    """The paper's brightness under each pixel (or one value where it is evenly lit).

    Where the border (paper all round the character) is evenly lit, as in scans, screenshots
    and canvas drawings, that is the paper everywhere: estimating lighting there took the dense
    middle of a thick, tightly cropped 8 for a shadow and cut its loops open. Otherwise lighting
    varies slowly, so it is estimated on a 32 px thumbnail: a closing (max then min) lifts every
    stroke narrower than a quarter of it back to the paper's level; a median of that size would
    take thick strokes for background. A quarter of the longer side: a tightly cropped "1" is
    narrower than four pen widths. An image no larger than the thumbnail has no room to tell
    lighting from strokes: there the paper is its bright tenth.
    """
    low, paper, high = np.percentile(_border(gray), [5, 50, 95])
    if high - low < 0.1:
        return float(paper)
    scale = thumbnail / max(gray.shape)
    if scale >= 1:
        return float(np.percentile(gray, 90))
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    small = np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX))
    small = _filter(small, ImageFilter.MedianFilter(3))  # bright specks
    background = _closing(small, max(3, max(small.shape) // 4 | 1))
    if float(background.max() - background.min()) < 0.02:
        return float(background.mean())  # evenly lit (a canvas): no need to upsample
    return np.asarray(Image.fromarray(background).resize(gray.shape[::-1], Image.Resampling.BILINEAR))


def _filter(array, image_filter):
    """A Pillow rank filter on a float array (edge pixels repeated beyond the border)."""
    return np.asarray(Image.fromarray(array, "F").filter(image_filter))


def _closing(array, size):
    """Grey closing by a size x size square: its maximum filter, then its minimum filter."""
    return _square_filter(_square_filter(array, size, np.maximum), size, np.minimum)


def _square_filter(array, size, extremum):
    """The extremum (np.maximum or np.minimum) of each size x size square, the image mirrored
    beyond its border; taken along the columns, then along the rows."""
    array = np.pad(array, size // 2, mode="symmetric")
    rows, cols = array.shape[0] - size + 1, array.shape[1] - size + 1
    array = extremum.reduce([array[k:k + rows] for k in range(size)])
    return extremum.reduce([array[:, k:k + cols] for k in range(size)])


def _otsu(values, bins=128):
    # bincount on quantised values: same histogram as np.histogram, several times faster.
    indices = np.minimum(values * bins, bins - 1).astype(np.uint8)
    histogram = np.bincount(indices.ravel(), minlength=bins)
    centres = (np.arange(bins) + 0.5) / bins
    weight = np.cumsum(histogram)
    total = weight[-1]
    mean = np.cumsum(histogram * centres)
    between = (mean[-1] * weight / total - mean) ** 2 / (weight * (total - weight) + 1e-12)
    return float(centres[np.argmax(between)])


def stroke_width(mask):
    """Mean stroke width of a binary mask, as 2 * area / perimeter (strokes are long and thin)."""
    area = int(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    interior = _cross(mask, np.logical_and)  # ink whose four neighbours are ink
    perimeter = max(area - int(np.count_nonzero(interior)), 1)
    return 2.0 * area / perimeter


def _cross(mask, combine, steps=1):
    """`steps` erosions (combine = logical_and) or dilations (logical_or) of a binary mask by
    the 4-neighbour cross, with nothing but background beyond the border."""
    for _ in range(steps):
        padded = _pad(mask, 1)
        mask = padded[1:-1, 1:-1]
        for neighbours in (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]):
            mask = combine(mask, neighbours)
    return mask


def _pad(mask, margin):
    """A binary mask with `margin` pixels of background around it (np.pad, 5 times faster)."""
    padded = np.zeros((mask.shape[0] + 2 * margin, mask.shape[1] + 2 * margin), dtype=bool)
    padded[margin:-margin, margin:-margin] = mask
    return padded


def pieces(mask):
    """8-connected pieces of ink: (label image, count), pieces numbered 1, 2, ... in the order
    of their first pixel in reading order (top row first, left to right)."""
    labels = cc3d.connected_components(mask.astype(np.uint8), connectivity=8)  # misreads bool
    count = int(labels.max())  # cc3d numbers them 1..count, in an order of its own
    if count <= 1:
        return labels, count
    flat = labels.ravel()
    _, first = np.unique(flat[np.flatnonzero(flat)], return_index=True)  # first pixel of 1..count
    renumber = np.zeros(count + 1, dtype=np.int32)
    renumber[1 + np.argsort(first)] = np.arange(1, count + 1)
    return renumber[labels], count


def _drop_specks(mask, width):
    """Remove isolated blobs far smaller than a pen dot (dust, sensor noise, JPEG crumbs)."""
    labels, count = pieces(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    keep = sizes >= max(0.3 * width * width, 0.004 * sizes.sum(), 2)
    if not keep.any():
        keep[np.argmax(sizes)] = True
    return np.isin(labels, np.flatnonzero(keep) + 1)


def normalize(ink):
    """Ink map (2-D, any size, ink > 0.5 is ink) -> 28x28 float32 in the MNIST convention.

    The ink is cropped, its grey levels scaled so its longer side is 20 px at 4x resolution and
    only then cut at 0.5 (cutting first made a small scan's strokes blocky: the edge a grey pixel
    puts between two pixels was lost), its stroke width brought into MNIST's range (so a small
    drawing with a fat pen and a large one with a thin pen look alike), area-averaged down to
    20 px and placed by centre of mass in 28x28.
    """
    ink = np.asarray(ink, dtype=np.float32)
    mask = ink > 0.5
    if np.count_nonzero(mask) < 2:
        raise NothingDrawn()
    inside = _ink_bounds(mask)  # the blank margin changes nothing below, and costs time
    ink, mask = ink[inside], mask[inside]
    kept = _drop_specks(mask, stroke_width(mask))
    grey = np.where(mask & ~kept, 0.0, ink)[_ink_bounds(kept)]
    height, width = grey.shape
    target = BOX * SUPERSAMPLE
    scale = target / max(height, width)
    big_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    big = Image.fromarray(grey).resize(big_size, Image.Resampling.BILINEAR)
    big = _pad(np.asarray(big) >= 0.5, SUPERSAMPLE * 2)
    if not big.any():  # specks far apart: shrunk to fit the box, none is half a pixel
        raise PreprocessingError("the marks are too small and too far apart to be one character: "
                                 "crop the image to the character, or draw a box around it")
    big = _clamp_stroke_width(big)
    big = _crop_to_ink(big)
    small_size = (
        max(1, round(big.shape[1] / SUPERSAMPLE)),
        max(1, round(big.shape[0] / SUPERSAMPLE)),
    )
    if max(small_size) > BOX:
        factor = BOX / max(small_size)
        small_size = (max(1, round(small_size[0] * factor)), max(1, round(small_size[1] * factor)))
    small = Image.fromarray(big.astype(np.uint8) * 255).resize(small_size, Image.Resampling.BOX)
    return _place_by_centre_of_mass(np.asarray(small, dtype=np.float32) / 255.0)


def _clamp_stroke_width(big):
    width = stroke_width(big) / SUPERSAMPLE
    low, high = MIN_STROKE, MAX_STROKE
    if width > high:
        steps = int(round((width - high) * SUPERSAMPLE / 2))
        thinned = _cross(big, np.logical_and, steps)
        # Never erase a stroke entirely: keep the skeleton-ish core of very thin parts.
        return thinned if thinned.sum() > 0.2 * big.sum() else big
    if width < low:
        steps = int(round((low - width) * SUPERSAMPLE / 2))
        return _cross(big, np.logical_or, steps)
    return big


def _ink_bounds(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _crop_to_ink(mask):
    return mask[_ink_bounds(mask)]


def _place_by_centre_of_mass(glyph):
    frame = np.zeros((SIZE, SIZE), dtype=np.float32)
    height, width = glyph.shape
    rows, cols = np.ogrid[:height, :width]
    total = glyph.sum()  # float32, as scipy.ndimage.center_of_mass sums it: same rounding
    cy, cx = (glyph * rows).sum() / total, (glyph * cols).sum() / total
    top = int(round(SIZE / 2 - cy))
    left = int(round(SIZE / 2 - cx))
    top = min(max(top, 0), SIZE - height)
    left = min(max(left, 0), SIZE - width)
    frame[top:top + height, left:left + width] = glyph
    return frame


# Half resolution is tried first when it keeps at least this many pixels per side and strokes
# at least this wide (in half-resolution pixels): then it loses nothing that `normalize` keeps.
HALF_MIN_SIDE = BOX * SUPERSAMPLE
HALF_MIN_STROKE = 3.0


def read_character(data, max_pixels=25_000_000, crop=None):
    """Image file bytes (and the box a person drew) -> (`photo.Writing`, normalised 28x28
    float32, the ink's box in the file's pixels): the web's whole input path."""
    writing = read_writing(data, max_pixels, crop)
    ink, scale = working_ink_map(writing.image)
    image28 = normalize(ink)
    return writing, image28, writing.picture_box(ink_box(ink, scale))


def preprocess_bytes(data, max_pixels=25_000_000, crop=None):
    """Image file bytes -> normalised 28x28 float32, as `read_character` reads them."""
    return read_character(data, max_pixels, crop)[1]


def working_ink_map(image):
    """(ink map, image pixels per ink map pixel): at half resolution when strokes are thick
    enough (a drawn canvas: a quarter of the work), else at full resolution (thin pen strokes
    in a photo keep their detail)."""
    if min(image.size) >= 2 * HALF_MIN_SIDE:
        try:
            ink = ink_map(image.reduce(2))
            if stroke_width(ink > 0.5) >= HALF_MIN_STROKE:
                return ink, 2
        except NothingDrawn:
            pass  # faint or thin strokes can vanish at half resolution: look again at full
    return ink_map(image), 1


def relative_boxes(characters, box):
    """Boxes to rasterise one writer's (or one line's) characters at, keeping their relative size.

    A fixed pen on a canvas draws a small `o` with strokes thicker, for its size, than a capital
    `O`, and `normalize` keeps that cue (within MNIST's stroke range); characters scaled each to
    its own box lose it, and case pairs become identical. So each character's longer side is
    drawn in proportion to the group's tall characters (the 90th percentile of heights:
    capitals, digits, ascenders), which get `box` pixels, as a canvas of fixed size would.
    """
    extents = _extents(characters)
    return np.clip(extents.max(axis=1) * _scale_to_tall(extents, box), box / 4, 2 * box)


def relative_scale(characters, box):
    """Pixels per stroke unit that draw the group's tall characters `box` pixels high (see
    `relative_boxes`)."""
    return _scale_to_tall(_extents(characters), box)


def _scale_to_tall(extents, box):
    return box / max(np.percentile(extents[:, 1], 90), 1e-9)


def _extents(characters):
    """(width, height) of each character's strokes."""
    return np.array([
        np.ptp(np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]), axis=0)
        for strokes in characters
    ])


def rasterize(strokes, width, box, y_up=True):
    """Pen strokes -> ink map in [0, 1] drawn as a browser canvas does.

    Scaled by the strokes' own box (tablets and screens differ a hundredfold), lines with round
    joins and round caps: a disc at every point (which makes Pillow's own curved joints
    redundant; leaving them out gives the same pixels in half the time). `y_up` is for tablet
    data (UNIPEN), whose y grows upwards; canvas strokes have y growing downwards, as image
    rows do.
    """
    points = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in strokes]
    every = np.concatenate(points)
    (x0, y0), (x1, y1) = every.min(axis=0), every.max(axis=0)
    scale = box / max(x1 - x0, y1 - y0, 1e-9)
    margin = width
    size = (int((x1 - x0) * scale) + 2 * margin + 1, int((y1 - y0) * scale) + 2 * margin + 1)
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    radius = width / 2
    for stroke in points:
        rows = (y1 - stroke[:, 1]) if y_up else (stroke[:, 1] - y0)
        xy = list(zip((margin + (stroke[:, 0] - x0) * scale).tolist(), (margin + rows * scale).tolist()))
        if len(xy) > 1:
            draw.line(xy, fill=255, width=width)
        for x, y in xy:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(canvas, dtype=np.float32) / 255.0


def stored_png(image):
    """The picture kept of an upload: the grey image that was read, as a PNG without metadata
    (at most `photo.WORK_SIDE` across), which reads back exactly as it was read."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def to_png(image28):
    """Normalised 28x28 float image -> PNG bytes (ink white on black, as the model sees it)."""
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image28, 0, 1) * 255).round().astype(np.uint8), "L").save(
        buffer, format="PNG", optimize=True
    )
    return buffer.getvalue()
