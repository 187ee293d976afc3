"""A small PNG line/bar chart with Pillow (matplotlib is not part of the environment)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {
    "baseline": (200, 60, 50),
    "ours": (40, 120, 200),
    "oracle": (60, 160, 80),
    "price": (150, 150, 150),
    "band": (235, 235, 200),
}


def _scale(values: Sequence[float], low: float, high: float, top: int, bottom: int) -> list[float]:
    span = (high - low) or 1.0
    return [bottom - (v - low) / span * (bottom - top) for v in values]


def chart(
    path: Path,
    title: str,
    series: dict[str, Sequence[float]],
    price: Sequence[float],
    band: tuple[float, float],
    bars: dict[str, float],
    bar_title: str,
) -> None:
    """Temperatures of each strategy over a band, price steps below, cost bars on the right."""
    width, height = 1100, 520
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 8), title, fill="black")
    left, right, top, bottom = 60, 760, 40, 360
    values = [v for s in series.values() for v in s] + list(band)
    low, high = min(values) - 0.5, max(values) + 0.5
    band_top, band_bottom = _scale([band[1], band[0]], low, high, top, bottom)
    draw.rectangle((left, band_top, right, band_bottom), fill=COLOURS["band"])
    draw.rectangle((left, top, right, bottom), outline="black")
    for tick in range(int(low) + 1, int(high) + 1):
        y = _scale([tick], low, high, top, bottom)[0]
        draw.line((left - 4, y, left, y), fill="black")
        draw.text((left - 40, y - 6), f"{tick} °C", fill="black")
    count = max(len(s) for s in series.values())
    for name, values_ in series.items():
        xs = [left + i * (right - left) / max(1, count - 1) for i in range(len(values_))]
        ys = _scale(values_, low, high, top, bottom)
        draw.line(list(zip(xs, ys, strict=True)), fill=COLOURS.get(name, "black"), width=2)
    # Price strip
    p_top, p_bottom = 390, 480
    draw.rectangle((left, p_top, right, p_bottom), outline="black")
    p_low, p_high = 0.0, max(price) * 1.1 if price else 1.0
    xs = [left + i * (right - left) / max(1, len(price) - 1) for i in range(len(price))]
    ys = _scale(price, p_low, p_high, p_top, p_bottom)
    draw.line(list(zip(xs, ys, strict=True)), fill=COLOURS["price"], width=2)
    draw.text((left, p_bottom + 6), "price CNY/kWh (grey), hours along the x axis", fill="black")
    # Legend
    y = 40
    for name in series:
        draw.rectangle((790, y, 805, y + 10), fill=COLOURS.get(name, "black"))
        draw.text((812, y - 2), name, fill="black")
        y += 18
    # Bars
    draw.text((790, 130), bar_title, fill="black")
    b_top, b_bottom = 150, 470
    b_high = max(bars.values()) * 1.15 if bars else 1.0
    for i, (name, value) in enumerate(bars.items()):
        x0 = 800 + i * 90
        y0 = _scale([value], 0.0, b_high, b_top, b_bottom)[0]
        draw.rectangle((x0, y0, x0 + 60, b_bottom), fill=COLOURS.get(name, "black"))
        draw.text((x0, b_bottom + 6), name, fill="black")
        draw.text((x0, y0 - 14), f"{value:.2f}", fill="black")
    image.save(path)
