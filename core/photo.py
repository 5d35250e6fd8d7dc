"""Photos of paper -> the writing on them, as a clean image for `preprocessing.ink_map`.

A phone photo holds more than the writing: the table around the sheet, the sheet's edge, ruled
or squared lines and margin lines, shadows and a slope of light. `find_writing` decides what it
is looking at: a clean picture (a canvas drawing, a scan, a tight crop: paper evenly lit all
round the border) is passed on untouched, so drawings and training scans read exactly as
before; anything else is read as a photo:

1. the sheet: the convex hull of the largest bright region; outside it (table, fingers, a title
   bar) is not ink; a sheet seen whole as a quadrilateral is put straight (perspective);
2. the light: the paper's brightness, estimated where strokes are too thin to matter (a small
   copy, each pixel the brightest near it, then a wide median), divides the picture;
3. turned paper is put level by its lines (long straight runs of ink), then ruled, squared and
   margin lines are removed where they cross the sheet (strokes crossing them are kept);
4. the writing: the ink is grouped by nearness and the most plausible group (most ink, near the
   middle, not hugging the sheet's edge) is kept, unless the person drew a box (`crop`), which
   is read whole.

The result is the writing on white paper, cropped, and a map back to the photo's pixels, so the
page can show the box that was read. OpenCV does the image work; everything runs at most at
`WORK_SIDE` pixels, which bounds the cost of any accepted picture.
"""
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# Longest side the photo pipeline works at: a character a tenth of the picture high still has
# the 80 px that normalisation draws at, and a photo costs about a tenth of a second of CPU.
WORK_SIDE = 1200
# Pictures smaller than this are scans or crops: no room for a sheet on a table.
MIN_PHOTO_SIDE = 64
# Border evenly lit: its 5th to 95th percentile within this share of the range (as ink_map).
EVEN_BORDER = 0.1
# On a copy SOLID_SIDE across, a stroke is narrower than SOLID pixels; a sheet is not.
SOLID_SIDE, SOLID = 128, 9
# A picture smaller than this is a crop of the writing: no sheet is looked for, all its ink is read.
MIN_PAGE_SIDE = 400
LIGHT_SIDE = 160        # the small copy the light is estimated on
EVEN_LIGHT = 0.05       # paper whose light varies less than this is evenly lit
MAX_SHADOW = 0.65       # no shadow darkens the paper more than this
SHEET_SIDE = 256        # the small copy the sheet is found on
SHEET_MAX_COVER = 0.92  # a bright region covering more than this is the whole picture
LINE_LENGTH = 0.3       # a ruled line is at least this share of the sheet across
LONE_LINE = 0.7         # a line alone (a margin line) is removed when it spans this share
LINE_TILT = 0.025       # how far across (share of the sheet) a line may wander along it
LINE_ASPECT = 6         # a piece longer than this many times its width is a line, not writing
LINE_THICKNESS = 0.006  # a printed line is at most this share of the sheet thick (a felt pen is more)
INK_CONTRAST = 0.1      # darker than the paper by this share is ink


@dataclass
class Writing:
    """The writing found in a picture: a clean grey image of it, and where it lies."""

    image: Image.Image   # "L", paper white, what ink_map reads
    transform: np.ndarray  # 3x3: picture pixels -> `image` pixels (homogeneous)

    def to_picture(self, points):
        """Points (x, y) of `image` -> the picture's pixels."""
        points = np.asarray(points, np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(points, np.linalg.inv(self.transform)).reshape(-1, 2)

    def picture_box(self, box=None):
        """A box of `image` (all of it by default) as the picture's axis-aligned box."""
        if box is None:
            box = (0, 0, self.image.width, self.image.height)
        left, top, right, bottom = box
        corners = self.to_picture([(left, top), (right, top), (right, bottom), (left, bottom)])
        (left, top), (right, bottom) = corners.min(axis=0), corners.max(axis=0)
        return [round(float(v), 1) for v in (left, top, right, bottom)]


def find_writing(image, crop=None, multi=False):
    """Grey PIL image (and an optional box the person drew) -> the `Writing` to read."""
    gray = np.asarray(image)
    if max(gray.shape) < MIN_PHOTO_SIDE or _evenly_lit_border(gray):
        if crop is None:
            return _writing(gray, np.eye(3))
        left, top, right, bottom = crop
        return _writing(gray[top:bottom, left:right], _translation(-left, -top))
    page = max(gray.shape) >= MIN_PAGE_SIDE  # else a crop of the writing alone
    if page:
        sheet, gray, transform = _find_sheet(gray, np.eye(3))
    else:  # too small for a sheet on a table, and its ink may reach the edge
        sheet, transform = np.ones(gray.shape, np.uint8), np.eye(3)
    contrast = _flatten_light(gray, sheet, page)
    mask = _ink_mask(contrast, sheet)
    angle = _line_angle(mask, sheet)
    if angle:
        rotation = cv2.getRotationMatrix2D((gray.shape[1] / 2, gray.shape[0] / 2), angle, 1.0)
        size = gray.shape[::-1]
        contrast = cv2.warpAffine(contrast, rotation, size, flags=cv2.INTER_LINEAR)
        sheet = cv2.warpAffine(sheet, rotation, size, flags=cv2.INTER_NEAREST)
        mask = _ink_mask(contrast, sheet)
        transform = np.vstack([rotation, [0, 0, 1]]) @ transform
    edge_seen = not sheet.all()
    if page:
        mask = _remove_lines(mask, sheet, edge_seen)
    if crop is not None:
        mask &= _inside(crop, transform, mask.shape)
    elif page:
        mask = _most_plausible_group(mask, sheet, multi)
    if not mask.any():
        return _writing(np.full((8, 8), 255, np.uint8), transform)
    keep = cv2.dilate(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    clean = np.where(keep, contrast, 0.0)
    x, y, width, height = cv2.boundingRect(mask.astype(np.uint8))
    margin = max(4, round(0.15 * max(width, height)))
    # Paper all round, also where the ink reached the picture's edge: ink_map then reads the
    # paper from an evenly lit border, and a felt pen's wide strokes stay whole.
    clean = np.pad(clean[y:y + height, x:x + width], margin)
    shift = _translation(margin - x, margin - y)
    return _writing(np.round(255 * (1 - clean)).astype(np.uint8), shift @ transform)


def _inside(crop, transform, shape):
    """Mask of the pixels inside a box of the picture, in the (straightened) working image."""
    left, top, right, bottom = crop
    corners = np.float64([[[left, top]], [[right, top]], [[right, bottom]], [[left, bottom]]])
    polygon = cv2.perspectiveTransform(corners, transform).reshape(-1, 2)
    inside = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(inside, np.round(polygon).astype(np.int32), 1)
    return inside > 0


def _writing(gray, transform):
    return Writing(Image.fromarray(np.ascontiguousarray(gray), "L"), transform)


def _translation(dx, dy):
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def _evenly_lit_border(gray):
    """True for a clean picture: its border evenly lit, and nothing of another tone in it that
    is wide and solid (a canvas or a scan is paper round strokes; a sheet on a table has an even
    border too, but the sheet is a solid block)."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    low, middle, high = np.percentile(border, [5, 50, 95])
    if high - low >= EVEN_BORDER * 255:
        return False
    if max(gray.shape) < MIN_PAGE_SIDE:
        return True  # a canvas or a crop: no room for a sheet on a table, strokes may be wide
    scale = min(1.0, SOLID_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    other = (np.abs(small.astype(np.float32) - middle) > 0.25 * 255).astype(np.uint8)
    return not cv2.erode(other, np.ones((SOLID, SOLID), np.uint8)).any()


def _find_sheet(gray, transform):
    """The sheet: (mask of it, the picture, transform), the picture put straight when the whole
    sheet shows as a quadrilateral. A sheet covering nearly everything is the whole picture."""
    scale = SHEET_SIDE / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = _level_light(cv2.GaussianBlur(small, (5, 5), 0))
    _, bright = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))  # a table's grain
    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=4)
    whole = np.ones(gray.shape, np.uint8)
    if count < 2:
        return whole, gray, transform
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((labels == largest).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    if cv2.contourArea(hull) > SHEET_MAX_COVER * small.size:
        return whole, gray, transform
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    inside = (quad > 2).all(axis=1) & (quad < np.array(small.shape[::-1]) - 3).all(axis=1)
    if len(quad) == 4 and inside.all() and cv2.contourArea(quad) > 0.15 * small.size:
        corners = _ordered(quad / scale)
        width = int(max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3])))
        height = int(max(np.linalg.norm(corners[3] - corners[0]), np.linalg.norm(corners[2] - corners[1])))
        target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        warp = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
        flat = cv2.warpPerspective(gray, warp, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
        sheet = np.zeros((height, width), np.uint8)
        inset = max(2, round(0.015 * max(width, height)))
        sheet[inset:-inset, inset:-inset] = 1
        return sheet, flat, warp @ transform
    sheet = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(sheet, np.round(hull.reshape(-1, 2) / scale).astype(np.int32), 1)
    inset = max(3, round(0.015 * max(gray.shape))) | 1
    sheet = cv2.erode(sheet, np.ones((inset, inset), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return sheet, gray, transform


def _level_light(small):
    """A small grey picture with the slope of its light taken out: a plane fitted to the log
    brightness of its brighter half (mostly paper) divides it, so that the far end of a sheet
    lit from one side is not darker than the table beside its near end."""
    rows, cols = np.indices(small.shape, dtype=np.float64)
    bright = small >= np.percentile(small, 50)
    design = np.column_stack([cols[bright], rows[bright], np.ones(int(bright.sum()))])
    slope = np.linalg.lstsq(design, np.log1p(small[bright].astype(np.float64)), rcond=None)[0]
    level = small / np.exp(slope[0] * cols + slope[1] * rows)
    return np.clip(level * (255.0 / max(float(level.max()), 1e-6)), 0, 255).astype(np.uint8)


def _ordered(points):
    """Four corners as top-left, top-right, bottom-right, bottom-left."""
    sums, differences = points.sum(axis=1), np.diff(points, axis=1).ravel()
    return np.array([points[np.argmin(sums)], points[np.argmin(differences)],
                     points[np.argmax(sums)], points[np.argmax(differences)]], np.float64)


def _flatten_light(gray, sheet, page):
    """Ink contrast in [0, 1]: how much darker than the paper under it each pixel is.

    The paper's brightness is estimated on a small copy, where a pen's strokes are a pixel or
    two: a median (three pen widths wide in a crop) passes over strokes and follows a shadow's
    edge (a maximum filter first pushed the light a stroke's width into every shadow). Where that hardly varies (a scan) the paper is one number;
    and no shadow is darker than MAX_SHADOW, so a felt pen's stroke too wide to vanish stays ink.
    """
    scale = LIGHT_SIDE / max(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    on_sheet = cv2.resize(sheet, small.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    if not on_sheet.any():
        on_sheet[:] = True
    window = 9
    if not page:  # a crop: its strokes can be wide for the picture (a page's pens are thin)
        _, dark = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        edge = np.count_nonzero(dark & (1 - cv2.erode(dark, np.ones((3, 3), np.uint8))))
        pen = 2.0 * np.count_nonzero(dark) / max(edge, 1)  # stroke width, 2 x area / perimeter
        window = int(min(max(window, 3 * pen), LIGHT_SIDE // 2)) | 1
    paper = cv2.medianBlur(_grown(np.where(on_sheet, small, 0).astype(np.uint8)), window)
    low, middle, high = np.percentile(paper[on_sheet], [5, 50, 95])
    if high - low < EVEN_LIGHT * 255:
        paper = np.float32(middle)
    else:
        paper = np.maximum(paper, np.uint8(high * (1 - MAX_SHADOW)))
        paper = cv2.resize(paper, gray.shape[::-1], interpolation=cv2.INTER_LINEAR).astype(np.float32)
    contrast = 1.0 - gray.astype(np.float32) / np.maximum(paper, 1.0)
    return np.where(sheet > 0, np.clip(contrast, 0.0, 1.0), 0.0).astype(np.float32)


def _grown(image):
    """Zero pixels (off the sheet) filled with their nearest non-zero neighbours' values, so
    that the paper's light beside the sheet's edge is the edge's own, not the table's."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(max(image.shape)):
        empty = image == 0
        if not empty.any():
            break
        image = np.where(empty, cv2.dilate(image, cross), image)
    return image


def _ink_mask(contrast, sheet):
    """Pixels clearly darker than the paper (sensor noise and JPEG crumbs filtered out)."""
    smooth = cv2.medianBlur(np.round(contrast * 255).astype(np.uint8), 3)
    return (smooth > INK_CONTRAST * 255) & (sheet > 0)


def _line_angle(mask, sheet):
    """Degrees to turn the picture by so that its ruled lines are level: the median angle of
    long, thin, straight runs of ink (a felt pen's strokes are not thin); 0 when there are not
    several (handwriting alone tells no angle)."""
    width = int(np.count_nonzero(sheet.any(axis=0)))
    ink = mask.astype(np.uint8)
    thin = ink & (1 - cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))))
    # At half size: a quarter of the points to vote, the angle as well told by long lines.
    thin = cv2.resize(thin, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    width //= 2
    lines = cv2.HoughLinesP((thin > 0).astype(np.uint8), 1, np.pi / 360, threshold=max(20, width // 6),
                            minLineLength=max(20, LINE_LENGTH * width), maxLineGap=max(3, width // 100))
    if lines is None:
        return 0.0
    x1, y1, x2, y2 = lines.reshape(-1, 4).T.astype(np.float64)
    angles = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    angles = (angles + 45) % 90 - 45  # vertical lines tell the same turn as horizontal ones
    lengths = np.hypot(x2 - x1, y2 - y1)
    near = np.abs(angles) < 15
    if np.count_nonzero(near) < 3 or lengths[near].sum() < 1.5 * width:
        return 0.0  # not lined paper: a character's straight strokes are no guide
    order = np.argsort(angles[near])
    cumulative = np.cumsum(lengths[near][order])
    angle = float(angles[near][order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return angle if abs(angle) > 0.3 else 0.0


def _remove_lines(mask, sheet, edge_seen):
    """The ink mask without ruled, squared and margin lines: thin straight runs at least
    LINE_LENGTH of the sheet across, removed when several run the same way at different places
    (lined paper) or, alone, when they cross most of a sheet whose edge shows (a margin line).
    Ink of a stroke crossing a removed line is put back."""
    ink = mask.astype(np.uint8)
    rows, cols = np.nonzero(sheet)
    if rows.size == 0:
        return mask
    extents = (cols.max() - cols.min() + 1, rows.max() - rows.min() + 1)
    lines = np.zeros_like(ink)
    for axis, extent in enumerate(extents):
        length = max(15, int(LINE_LENGTH * extent))
        kernel = np.ones((1, length) if axis == 0 else (length, 1), np.uint8)
        # Thickened across first: a thin line still a little askew stays one straight run.
        along = np.ones((1, 15) if axis == 0 else (15, 1), np.uint8)  # a faint line's dashes
        tilt = max(5, round(LINE_TILT * extent))  # a line askew by up to about 3 degrees
        widened = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, along),
                             np.ones((tilt, 1) if axis == 0 else (1, tilt), np.uint8))
        runs = cv2.morphologyEx(widened, cv2.MORPH_OPEN, kernel) & ink
        count, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        stats = stats[1:]
        spans = stats[:, cv2.CC_STAT_WIDTH if axis == 0 else cv2.CC_STAT_HEIGHT]
        thickness = stats[:, cv2.CC_STAT_AREA] / np.maximum(spans, 1)
        thin = thickness <= max(3, LINE_THICKNESS * extent)
        places = stats[:, cv2.CC_STAT_TOP if axis == 0 else cv2.CC_STAT_LEFT][thin]
        if np.unique(np.round(places / (0.05 * extents[1 - axis]))).size >= 3:  # lined paper
            chosen = thin
        elif edge_seen:
            chosen = thin & (spans >= LONE_LINE * extent)
        else:
            continue
        if not chosen.any():
            continue
        found = cv2.dilate(np.isin(labels, 1 + np.flatnonzero(chosen)).astype(np.uint8),
                           np.ones((3, 3), np.uint8)) & ink
        # Ink running across the line further than the line is thick is a stroke crossing it.
        width = int(np.median(thickness[chosen])) + 3
        crossing = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((width, 1) if axis == 0 else (1, width), np.uint8))
        lines |= found & (1 - crossing)
    return (ink & (1 - lines)) > 0


def _most_plausible_group(mask, sheet, multi):
    """The ink of the most plausible piece of writing: pieces near each other are grouped (a
    line's characters in text mode, one character's strokes otherwise) and scored by their ink,
    nearness to the middle, and not hugging the sheet's edge."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count < 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = areas >= min(max(6, 0.02 * areas.max()), areas.max())
    # The main piece's height sets the reach (a character cut by a ruled line is still one); a
    # long thin piece (what is left of a line) is no guide.
    sides = np.sort(stats[1:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]], axis=1)
    shaped = sides[:, 1] < LINE_ASPECT * np.maximum(sides[:, 0], 1)
    main = int(np.argmax(np.where(shaped, areas, 0))) if shaped.any() else int(np.argmax(areas))
    tall = float(stats[1 + main, cv2.CC_STAT_HEIGHT])
    keep = np.concatenate([[False], big])
    mask = keep[labels]
    reach_x = max(3, round((0.8 if multi else 0.3) * tall))
    reach_y = max(3, round((0.25 if multi else 0.3) * tall))
    grouped = cv2.dilate(mask.astype(np.uint8), np.ones((reach_y, reach_x), np.uint8))
    count, groups, stats, centres = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    if count < 3:
        return mask
    height, width = mask.shape
    ink = np.bincount(groups[mask], minlength=count)[1:].astype(np.float64)
    offset = np.hypot((centres[1:, 0] - width / 2) / width, (centres[1:, 1] - height / 2) / height)
    edge = cv2.erode(sheet, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    hugging = np.bincount(groups[(sheet > 0) & (edge == 0) & (grouped > 0)], minlength=count)[1:] > 0
    # Writing is strokes: a dense block, or one spanning a large part of the sheet, is not.
    spread = stats[1:, cv2.CC_STAT_WIDTH] * stats[1:, cv2.CC_STAT_HEIGHT]
    blocky = (ink > 0.5 * spread) | (spread > 0.25 * np.count_nonzero(sheet))
    sides = np.sort(stats[1:, [cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT]], axis=1)
    blocky |= sides[:, 1] > (3 if multi else 1) * LINE_ASPECT * np.maximum(sides[:, 0], 1)  # a line
    score = ink * (1.0 - offset) * np.where(hugging, 0.3, 1.0) * np.where(blocky, 0.1, 1.0)
    return mask & (groups == 1 + int(np.argmax(score)))
