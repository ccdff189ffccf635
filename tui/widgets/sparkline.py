"""Series drawn as a line of block characters, scaled to their own peak."""

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: tuple[int, ...] | list[int]) -> str:
    """One character per value; zero is a blank, anything else at least ▁."""
    top = max(values, default=0)
    if not top:
        return " " * len(values)
    return "".join(BARS[0] if v == 0 else BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in values)


def bar(share: float, width: int) -> str:
    """A horizontal bar ``share`` (0–1) of ``width`` cells, in eighths."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")).ljust(width)
