"""Phone photos of handwriting, generated from held-out writers' pen strokes.

A line of writing (one character, or a short number or word, from `ml.text_lines`) is drawn
with a pen, a pencil or a felt marker on a sheet of paper (plain, ruled with a margin line, or
squared), lit unevenly (a gradient and sometimes a soft shadow), laid turned by up to 8 degrees
and slightly in perspective on a table that shows at the edges, then blurred, given sensor
noise and saved as a JPEG of about 1-1.5 megapixels: what a person sends when they photograph a
sheet they wrote on. Also the two crops people make: `tight_crop` (a pen-width margin) and
`bold_crop` (a felt-pen character cut so its ink touches the border).

Everything is drawn with OpenCV and NumPy from the writer's strokes; the `Photo` keeps where the
writing ended up, so a benchmark can check the box the server reports.
"""
import math
from dataclasses import dataclass

import cv2
import numpy as np

from ml.text_lines import build_line

PAPERS = ("plain", "ruled", "squared")
PENS = ("pen", "pencil", "marker")
TABLES = ((150, 105, 70), (95, 70, 50), (80, 80, 85), (170, 165, 160), (40, 40, 45))  # RGB
SHEET = (1100, 850)  # height, width in pixels before the photo is taken
RULE_BLUE = (165, 195, 230)
MARGIN_RED = (225, 120, 130)


@dataclass
class Photo:
    jpeg: bytes
    text: str
    box: tuple  # (left, top, right, bottom) of the writing in the photo's pixels
    paper: str
    pen: str


def pen_style(pen, height, rng):
    """(width in pixels, RGB colour, opacity) of a pen drawing characters `height` pixels tall."""
    if pen == "marker":
        return max(4, round(height * rng.uniform(0.09, 0.13))), (20, 20, 25), 1.0
    if pen == "pencil":
        grey = int(rng.integers(60, 110))
        return max(2, round(height * rng.uniform(0.025, 0.04))), (grey, grey, grey + 5), rng.uniform(0.5, 0.8)
    colour = (20, 30, 110) if rng.random() < 0.5 else (25, 25, 30)
    return max(2, round(height * rng.uniform(0.025, 0.045))), colour, 1.0


def draw_strokes(strokes, size, scale, offset, width):
    """Anti-aliased strokes (round caps) on a float canvas of `size` (height, width), in [0, 1]."""
    canvas = np.zeros(size, np.uint8)
    shift = 4  # OpenCV's sub-pixel bits
    for stroke in strokes:
        points = (np.asarray(stroke, np.float64).reshape(-1, 2) * scale + offset) * (1 << shift)
        points = points.round().astype(np.int32)
        cv2.polylines(canvas, [points], False, 255, width, cv2.LINE_AA, shift)
        for x, y in points:
            cv2.circle(canvas, (int(x), int(y)), (width * (1 << shift)) // 2, 255, -1, cv2.LINE_AA, shift)
    return canvas.astype(np.float32) / 255.0


def paper(style, rng):
    """A blank sheet (float RGB in [0, 255]) and the spacing of its rules (0 for plain paper)."""
    height, width = SHEET
    tone = rng.uniform(232, 252)
    sheet = np.empty((height, width, 3), np.float32)
    sheet[:] = (tone, tone * rng.uniform(0.98, 1.0), tone * rng.uniform(0.94, 1.0))
    spacing = 0
    if style == "ruled":
        spacing = int(rng.integers(55, 80))
        for y in range(int(rng.integers(90, 140)), height, spacing):
            cv2.line(sheet, (0, y), (width, y), RULE_BLUE, int(rng.integers(1, 3)), cv2.LINE_AA)
        x = int(width * rng.uniform(0.08, 0.14))
        cv2.line(sheet, (x, 0), (x, height), MARGIN_RED, 2, cv2.LINE_AA)
    elif style == "squared":
        spacing = int(rng.integers(32, 48))
        colour = RULE_BLUE if rng.random() < 0.5 else (180, 180, 185)
        for y in range(spacing, height, spacing):
            cv2.line(sheet, (0, y), (width, y), colour, 1, cv2.LINE_AA)
        for x in range(spacing, width, spacing):
            cv2.line(sheet, (x, 0), (x, height), colour, 1, cv2.LINE_AA)
    return sheet, spacing


def write_on(sheet, line, pen, spacing, rng):
    """Draw `line` on the sheet somewhere away from the centre; returns its box on the sheet."""
    height, width = sheet.shape[:2]
    every = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in line.strokes])
    low, high = every.min(axis=0), every.max(axis=0)
    tall = rng.uniform(80, 170) if not spacing or spacing > 40 else rng.uniform(1.6, 3.5) * spacing
    scale = tall / max(high[1] - low[1], 1e-9)
    size = (high - low) * scale
    if size[0] > 0.8 * width:  # a long word still fits the sheet
        scale *= 0.8 * width / size[0]
        size = (high - low) * scale
    left = rng.uniform(0.1 * width, max(0.1 * width, 0.9 * width - size[0]))
    top = rng.uniform(0.15 * height, 0.85 * height - size[1])
    pen_width, colour, opacity = pen_style(pen, size[1], rng)
    ink = draw_strokes(line.strokes, (height, width), scale, (left, top) - low * scale, pen_width)
    if pen == "pencil":  # graphite leaves grain
        ink *= np.clip(rng.normal(1.0, 0.25, ink.shape), 0.3, 1.0).astype(np.float32)
    alpha = (ink * opacity)[..., None]
    sheet[:] = sheet * (1 - alpha) + np.asarray(colour, np.float32) * alpha
    margin = pen_width / 2
    return (left - margin, top - margin, left + size[0] + margin, top + size[1] + margin)


def lighting(shape, rng):
    """A multiplicative light field: a gradient across the picture and sometimes a soft shadow."""
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (np.cos(angle) * cols / width + np.sin(angle) * rows / height)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    light = 1.0 - rng.uniform(0.05, 0.35) * ramp
    if rng.random() < 0.5:  # the shadow of a hand or a phone over part of the page
        mask = np.zeros(shape, np.float32)
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(0.2, 0.5) * width), int(rng.uniform(0.2, 0.5) * height))
        cv2.ellipse(mask, centre, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(15, 40))
        light *= 1.0 - rng.uniform(0.15, 0.35) * mask
    return light[..., None]


def table(shape, rng):
    """A table top: a colour with the grain of wood or cloth."""
    height, width = shape
    colour = np.asarray(TABLES[rng.integers(len(TABLES))], np.float32)
    grain = cv2.resize(rng.normal(0, 1, (height // 8 + 1, 4)).astype(np.float32), (width, height))
    return colour * (1 + 0.08 * grain[..., None]) + rng.normal(0, 4, (height, width, 1)).astype(np.float32)


def photograph(text, records, rng, paper_style, pen):
    """A phone photo of `text` written with the given records (one per character)."""
    return photograph_line(build_line(records, rng), rng, paper_style, pen)


def photograph_line(line, rng, paper_style, pen):
    """A phone photo of a `ml.text_lines.Line` (strokes in pixels, y down) written on paper."""
    text = line.text
    sheet, spacing = paper(paper_style, rng)
    box = write_on(sheet, line, pen, spacing, rng)
    out_h, out_w = (900, 1200) if rng.random() < 0.5 else (1200, 900)
    if rng.random() < 0.3:
        out_h, out_w = int(out_h * 1.17), int(out_w * 1.17)  # 1.5 megapixels
    # The sheet turned, scaled so the table shows at two or more edges, in slight perspective,
    # and shifted so the writing stays in the picture.
    turn = math.radians(rng.uniform(-8, 8))
    zoom = rng.uniform(0.75, 1.05) * min(out_h / SHEET[0], out_w / SHEET[1])
    corners = np.float32([[0, 0], [SHEET[1], 0], [SHEET[1], SHEET[0]], [0, SHEET[0]]])
    centre = corners.mean(axis=0)
    rotation = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    placed = (corners - centre) @ rotation.T * zoom
    placed += rng.uniform(-0.03, 0.03, placed.shape) * (out_w, out_h)  # perspective
    writing = np.float32([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    shift = np.array([out_w / 2, out_h / 2]) + rng.uniform(-0.12, 0.12, 2) * (out_w, out_h)
    homography = cv2.getPerspectiveTransform(corners, (placed + shift).astype(np.float32))
    seen = cv2.perspectiveTransform(writing[None], homography)[0]
    inside = np.clip(seen, [10, 10], [out_w - 10, out_h - 10]) - seen  # keep the writing in view
    homography = np.array([[1, 0, inside[:, 0].sum() / 2], [0, 1, inside[:, 1].sum() / 2], [0, 0, 1]]) @ homography
    seen = cv2.perspectiveTransform(writing[None], homography)[0]
    photo = cv2.warpPerspective(sheet, homography, (out_w, out_h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones(SHEET, np.float32), homography, (out_w, out_h))[..., None]
    photo = photo * cover + table((out_h, out_w), rng) * (1 - cover)
    photo = photo * lighting((out_h, out_w), rng)
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.5, 1.1))
    photo += rng.normal(0, rng.uniform(2, 5), photo.shape).astype(np.float32)
    bgr = np.clip(photo, 0, 255).astype(np.uint8)[..., ::-1]
    quality = int(rng.integers(70, 92))
    jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
    (left, top), (right, bottom) = seen.min(axis=0), seen.max(axis=0)
    return Photo(jpeg, text, (float(left), float(top), float(right), float(bottom)), paper_style, pen)


def tight_crop(records, rng, pen="pen"):
    """The writing on plain paper, cropped to one pen width around the ink (as a person crops)."""
    line = build_line(records, rng)
    sheet, _ = paper("plain", rng)
    box = write_on(sheet, line, pen, 0, rng)
    left, top, right, bottom = (int(round(v)) for v in box)
    crop = sheet[max(top, 0):bottom, max(left, 0):right]
    return _jpeg(crop, rng), line.text


def bold_crop(records, rng):
    """A felt-pen character cut so that its ink touches the border (a scan filled by the ink)."""
    line = build_line(records, rng)
    sheet, _ = paper("plain", rng)
    left, top, right, bottom = write_on(sheet, line, "marker", 0, rng)
    inset = 0.25 * (bottom - top) * rng.uniform(0.08, 0.13)  # a quarter of the pen inside
    crop = sheet[int(top + inset):int(bottom - inset), int(left + inset):int(right - inset)]
    return _jpeg(crop, rng), line.text


def _jpeg(rgb, rng):
    bgr = np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)[..., ::-1]
    return cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 92))])[1].tobytes()
