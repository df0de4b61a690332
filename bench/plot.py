"""Draw the figures of docs/PERFORMANCE.md from ``run_all.py`` results (hand-written SVG),
and print its tables (Markdown, before -> after).

    python bench/plot.py BEFORE.json AFTER.json [--out docs]

No plotting library is needed: a figure here is a few bar groups, and plain SVG shows in any
browser and on GitHub.
"""

from __future__ import annotations

import argparse
import json
import math
from html import escape
from pathlib import Path

BEFORE_COLOR = "#b0bec5"
AFTER_COLOR = "#1e88e5"
USER_COLOR = "#1e88e5"
SYS_COLOR = "#90caf9"
TARGET_COLOR = "#c62828"


class Svg:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def rect(self, x: float, y: float, w: float, h: float, fill: str, title: str = "") -> None:
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}">'
            f"{tip}</rect>"
        )

    def line(self, x1, y1, x2, y2, stroke="#444", dash: str = "", width: float = 1) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width}"{extra}/>'
        )

    def text(self, x, y, s: str, size=12, anchor="middle", color="#222", bold=False) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-family="sans-serif"{weight}>{escape(s)}</text>'
        )

    def save(self, path: Path) -> None:
        body = "\n".join(self.parts)
        path.write_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
        )


def _nice_max(value: float) -> float:
    for scale in (0.01, 0.1, 1, 10, 100, 1000):
        for step in (1, 2, 2.5, 5):
            if step * scale * 5 >= value:
                return step * scale * 5
    return value


def bar_panel(
    svg: Svg,
    x0: float,
    y0: float,
    w: float,
    h: float,
    title: str,
    groups,
    unit: str,
    target: float | None = None,
) -> None:
    """``groups``: [(label, [(value, color, tooltip), ...])]; bars side by side per group."""
    top = max([v for _, bars in groups for v, _, _ in bars] + [target or 0]) * 1.1
    ymax = _nice_max(top)
    svg.text(x0 + w / 2, y0 - 8, title, size=13, bold=True)
    svg.line(x0, y0 + h, x0 + w, y0 + h)
    svg.line(x0, y0, x0, y0 + h)
    for k in range(6):
        value = ymax * k / 5
        y = y0 + h - h * k / 5
        svg.line(x0 - 4, y, x0, y)
        svg.line(x0, y, x0 + w, y, stroke="#e0e0e0")
        svg.text(x0 - 6, y + 4, f"{value:g}", size=10, anchor="end")
    svg.text(x0 - 34, y0 + h / 2, unit, size=11)
    slot = w / max(1, len(groups))
    for i, (label, bars) in enumerate(groups):
        bar_w = slot * 0.7 / max(1, len(bars))
        left = x0 + i * slot + slot * 0.15
        for j, (value, color, tip) in enumerate(bars):
            bh = h * value / ymax
            svg.rect(left + j * bar_w, y0 + h - bh, bar_w - 2, bh, color, tip)
            svg.text(left + j * bar_w + bar_w / 2 - 1, y0 + h - bh - 3, _short(value), size=10)
        svg.text(x0 + i * slot + slot / 2, y0 + h + 15, label, size=11)
    if target:
        y = y0 + h - h * target / ymax
        svg.line(x0, y, x0 + w, y, stroke=TARGET_COLOR, dash="5,3", width=1.5)
        svg.text(
            x0 + w + 4, y + 4, f"{target:g} {unit}", size=10, anchor="start", color=TARGET_COLOR
        )


def _short(value: float) -> str:
    return f"{value:.0f}" if value >= 20 else f"{value:.1f}" if value >= 2 else f"{value:.2f}"


def legend(svg: Svg, x: float, y: float, items: list[tuple[str, str]]) -> None:
    for color, label in items:
        svg.rect(x, y - 10, 12, 12, color)
        svg.text(x + 16, y, label, size=11, anchor="start")
        x += 20 + 7 * len(label)


def many_files_figure(before: dict, after: dict, path: Path) -> None:
    svg = Svg(760, 330)
    for k, key in enumerate(("10k", "100k")):
        if key not in after.get("many_files", {}):
            continue
        groups = []
        target = after["many_files"][key]["target_s"]
        for mode, label in (("ext", "from inlet send"), ("legacy", "from --no-ext")):
            bars = []
            runs = ((before, BEFORE_COLOR, "before"), (after, AFTER_COLOR, "after"))
            for res, color, when in runs:
                m = res.get("many_files", {}).get(key, {}).get(mode)
                if m:
                    bars.append((m["wall_s"], color, f"{when}: {m['wall_s']:.2f} s"))
            groups.append((label, bars))
        files = after["many_files"][key]["files"]
        lo, hi = after["many_files"][key]["sizes"]
        bar_panel(
            svg,
            70 + k * 370,
            50,
            280,
            220,
            f"{files:,} files of {lo:,} B to {hi // 1024:,} KiB",
            groups,
            "s",
            target,
        )
    legend(
        svg,
        70,
        318,
        [
            (BEFORE_COLOR, "before"),
            (AFTER_COLOR, "after"),
            (TARGET_COLOR, "target (end to end, loopback)"),
        ],
    )
    svg.save(path)


def throughput_figure(before: dict, after: dict, path: Path) -> None:
    svg = Svg(760, 330)

    def stacked(res: dict, key: str | None) -> tuple[float, float]:
        """(user, system) summing to the median CPU per GiB (the table's figure), split in the
        proportion of the user and system medians."""
        t = res["throughput"]
        if key is None:
            user, system, total = (
                t["limit_user_s_per_gib"],
                t["limit_sys_s_per_gib"],
                t["limit_cpu_s_per_gib"],
            )
        else:
            m = t[key]
            user, system, total = m["user_s_per_gib"], m["sys_s_per_gib"], m["cpu_s_per_gib"]
        share = user / (user + system) if user + system else 0
        return total * share, total * (1 - share)

    entries = [("limit", None), ("--no-ext", "legacy"), ("inlet send", "ext")]
    x0, y0, w, h = 70, 50, 620, 220
    values = []
    for _, key in entries:
        for res in (before, after):
            if "throughput" in res and (key is None or key in res["throughput"]):
                values.append(sum(stacked(res, key)))
    ymax = _nice_max(max(values) * 1.1)
    svg.text(
        x0 + w / 2,
        y0 - 8,
        "Receiver CPU seconds per GiB received (1 GiB file, loopback)",
        size=13,
        bold=True,
    )
    svg.line(x0, y0 + h, x0 + w, y0 + h)
    svg.line(x0, y0, x0, y0 + h)
    for k in range(6):
        value = ymax * k / 5
        y = y0 + h - h * k / 5
        svg.line(x0, y, x0 + w, y, stroke="#e0e0e0")
        svg.text(x0 - 6, y + 4, f"{value:g}", size=10, anchor="end")
    svg.text(x0 - 40, y0 + h / 2, "CPU s", size=11)
    slot = w / len(entries)
    for i, (label, key) in enumerate(entries):
        for j, (res, when) in enumerate(((before, "before"), (after, "after"))):
            if "throughput" not in res or (key is not None and key not in res["throughput"]):
                continue
            user, system = stacked(res, key)
            bx = x0 + i * slot + slot * 0.15 + j * slot * 0.36
            bw = slot * 0.32
            hu, hs = h * user / ymax, h * system / ymax
            svg.rect(
                bx,
                y0 + h - hu,
                bw,
                hu,
                USER_COLOR if when == "after" else "#78909c",
                f"{when} user {user:.2f}",
            )
            svg.rect(
                bx,
                y0 + h - hu - hs,
                bw,
                hs,
                SYS_COLOR if when == "after" else "#cfd8dc",
                f"{when} sys {system:.2f}",
            )
            svg.text(bx + bw / 2, y0 + h - hu - hs - 3, f"{user + system:.2f}", size=10)
            svg.text(bx + bw / 2, y0 + h + 14, when, size=10, color="#555")
        svg.text(x0 + i * slot + slot / 2, y0 + h + 30, label, size=11)
    if "throughput" in after:
        goal = 1.15 * after["throughput"]["limit_cpu_s_per_gib"]
        y = y0 + h - h * goal / ymax
        svg.line(x0, y, x0 + w, y, stroke=TARGET_COLOR, dash="5,3", width=1.5)
        svg.text(x0 + w + 4, y + 4, "1.15 x", size=10, anchor="start", color=TARGET_COLOR)
        svg.text(x0 + w + 4, y + 16, "limit", size=10, anchor="start", color=TARGET_COLOR)
    legend(
        svg,
        70,
        318,
        [
            ("#78909c", "user, before"),
            ("#cfd8dc", "system, before"),
            (USER_COLOR, "user, after"),
            (SYS_COLOR, "system (kernel), after"),
        ],
    )
    svg.save(path)


PART_COLORS = {
    "write to page cache": "#1565c0",
    "socket receive": "#ef6c00",
    "fsync": "#64b5f6",
    "poll/select": "#ffb74d",
    "other kernel": "#bbdefb",
    "SHA-256": "#2e7d32",
    "ChaCha20-Poly1305": "#81c784",
    "Python interpreter": "#8e24aa",
    "other user space": "#bdbdbd",
}


def profile_figure(after: dict, path: Path) -> None:
    """Horizontal stacked bars: where the CPU per GiB goes, limit beside the receiver."""
    prof = after["profile"]
    rows = [("limit", "limit's loop"), ("legacy", "from --no-ext"), ("ext", "from inlet send")]
    svg = Svg(760, 290)
    x0, y0, w, bar_h = 130, 50, 560, 34
    xmax = math.ceil(max(prof[key]["total"] for key, _ in rows) * 1.08 * 2) / 2
    bottom = y0 + len(rows) * (bar_h + 14)
    svg.text(380, 24, "Where the receiver's CPU goes (perf, CPU s per GiB)", size=13, bold=True)
    ticks = int(xmax / 0.5)
    for k in range(ticks + 1):
        x = x0 + w * k / ticks
        svg.line(x, y0 - 4, x, bottom, stroke="#e0e0e0")
        svg.text(x, bottom + 14, f"{xmax * k / ticks:g}", size=10)
    svg.text(x0 + w / 2, bottom + 30, "CPU seconds per GiB received", size=11)
    for i, (key, label) in enumerate(rows):
        y = y0 + i * (bar_h + 14)
        svg.text(x0 - 8, y + bar_h / 2 + 4, label, size=11, anchor="end")
        left = x0
        for part, color in PART_COLORS.items():
            value = prof[key].get(part, 0)
            width = w * value / xmax
            svg.rect(left, y, width, bar_h, color, f"{part}: {value:.2f} CPU s/GiB")
            if width > 30:
                svg.text(left + width / 2, y + bar_h / 2 + 4, f"{value:.2f}", size=10, color="#fff")
            left += width
        svg.text(left + 4, y + bar_h / 2 + 4, f"{prof[key]['total']:.2f}", size=10, anchor="start")
    lx, ly = 20, bottom + 56
    for n, (part, color) in enumerate(PART_COLORS.items()):
        if n == 5:
            lx, ly = 20, ly + 22
        svg.rect(lx, ly - 10, 12, 12, color)
        svg.text(lx + 16, ly, part, size=11, anchor="start")
        lx += 26 + 6.5 * len(part)
    svg.save(path)


def _pair(before: dict, after: dict, *path: str, fmt: str = "{:.2f}", scale: float = 1) -> str:
    def get(res: dict):
        for key in path:
            if not isinstance(res, dict) or key not in res:
                return None
            res = res[key]
        return res

    b, a = get(before), get(after)
    shown = [fmt.format(v * scale) if isinstance(v, int | float) else "-" for v in (b, a)]
    if b is None:  # not measured before (or no earlier run): the figure alone
        return f"**{shown[1]}**"
    return f"{shown[0]} → **{shown[1]}**"


def tables(before: dict, after: dict) -> str:
    """The Markdown tables of docs/PERFORMANCE.md (before → after)."""
    out = []
    if "throughput" in after:
        out.append(
            "| 1 GiB file | throughput (MiB/s) | receiver CPU s/GiB | user s/GiB | "
            "sys s/GiB | ratio to limit | user-time ratio | sender CPU s/GiB |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        out.append(
            f"| limit (same run) "
            f"| {_pair(before, after, 'throughput', 'limit_mib_per_s', fmt='{:.0f}')} "
            f"| {_pair(before, after, 'throughput', 'limit_cpu_s_per_gib')} "
            f"| {_pair(before, after, 'throughput', 'limit_user_s_per_gib')} "
            f"| {_pair(before, after, 'throughput', 'limit_sys_s_per_gib')} | 1 | 1 | |"
        )
        for mode, label in (("legacy", "`inlet send --no-ext`"), ("ext", "`inlet send`")):
            t = ("throughput", mode)
            out.append(
                f"| {label} | {_pair(before, after, *t, 'mib_per_s', fmt='{:.0f}')} "
                f"| {_pair(before, after, *t, 'cpu_s_per_gib')} "
                f"| {_pair(before, after, *t, 'user_s_per_gib')} "
                f"| {_pair(before, after, *t, 'sys_s_per_gib')} "
                f"| {_pair(before, after, *t, 'ratio_to_limit', fmt='{:.2f}x')} "
                f"| {_pair(before, after, *t, 'user_ratio', fmt='{:.2f}x')} "
                f"| {_pair(before, after, *t, 'sender_cpu_s_per_gib')} |"
            )
        out.append("")
    if "profile" in after and "total" in after["profile"].get("ext", {}):
        prof = after["profile"]
        out.append("| CPU s per GiB (perf) | limit's loop | from `--no-ext` | from `inlet send` |")
        out.append("|---|---|---|---|")
        for part in (*PART_COLORS, "total"):
            cells = " | ".join(f"{prof[k][part]:.2f}" for k in ("limit", "legacy", "ext"))
            out.append(f"| {part} | {cells} |")
        out.append("")
    if "many_files" in after:
        out.append("| files | mode | wall s (median) | files/s | receiver CPU s | peak RSS MiB |")
        out.append("|---|---|---|---|---|---|")
        for key in ("10k", "100k"):
            for mode, label in (("ext", "`inlet send`"), ("legacy", "`--no-ext`")):
                m = ("many_files", key, mode)
                if key not in after["many_files"]:
                    continue
                out.append(
                    f"| {after['many_files'][key]['files']:,} | {label} "
                    f"| {_pair(before, after, *m, 'wall_s')} "
                    f"| {_pair(before, after, *m, 'files_per_s', fmt='{:.0f}')} "
                    f"| {_pair(before, after, *m, 'cpu_s')} "
                    f"| {_pair(before, after, *m, 'peak_rss_mib', fmt='{:.0f}')} |"
                )
        out.append("")
    if "resume" in after:
        out.append(
            "| resume after kill at 90 % | MiB on the wire | MiB reused | seconds to finish |"
        )
        out.append("|---|---|---|---|")
        mib = 1 / (1 << 20)
        for mode, label in (("ext", "`inlet send`"), ("legacy", "`--no-ext`")):
            r = ("resume", mode)
            wire = _pair(before, after, *r, "bytes_on_wire", fmt="{:.0f}", scale=mib)
            kept = _pair(before, after, *r, "bytes_reused", fmt="{:.0f}", scale=mib)
            out.append(f"| {label} | {wire} | {kept} | {_pair(before, after, *r, 'seconds')} |")
        out.append("")
    if "memory" in after:
        out.append("| peak RSS (VmHWM), MiB | `inlet send` | `--no-ext` |")
        out.append("|---|---|---|")
        idle = _pair(before, after, "memory", "idle_mib", fmt="{:.1f}")
        out.append(f"| idle (imported only) | {idle} | |")
        for label in ("10 MB", "2 GB", "100,000 files"):
            if label in after["memory"]:
                ext = _pair(before, after, "memory", label, "ext", "peak_rss_mib", fmt="{:.1f}")
                old = _pair(before, after, "memory", label, "legacy", "peak_rss_mib", fmt="{:.1f}")
                out.append(f"| {label} | {ext} | {old} |")
        out.append("")
    if "window" in after:
        w = ("window",)
        heading = "before → after" if "window" in before else "measured"
        out.append(f"| window, 100,000 rows | {heading} |")
        out.append("|---|---|")
        for key, label, fmt in (
            ("seconds_to_rows_listed", "rows listed after Receive (s)", "{:.1f}"),
            ("longest_stall_ms", "longest event-loop stall (ms)", "{:.0f}"),
            ("p99_gap_ms", "99th percentile gap of a 5 ms timer (ms)", "{:.0f}"),
            ("statuses_per_s", "status changes applied per second", "{:.0f}"),
            ("row_updates_per_s", "row updates (status + progress) per second", "{:.0f}"),
            ("seconds_total", "whole receive (s)", "{:.1f}"),
        ):
            out.append(f"| {label} | {_pair(before, after, *w, key, fmt=fmt)} |")
        out.append("")
    if "compression" in after:
        out.append(
            "| compressible folder | MiB/s | MiB on the wire | receiver CPU s | sender CPU s |"
        )
        out.append("|---|---|---|---|---|")
        for variant in ("off", "on", "off, --no-ext", "on, --no-ext"):
            c = ("compression", variant)
            out.append(
                f"| `--compress` {variant} | {_pair(before, after, *c, 'mib_per_s', fmt='{:.0f}')} "
                f"| {_pair(before, after, *c, 'wire_mib', fmt='{:.0f}')} "
                f"| {_pair(before, after, *c, 'receiver_cpu_s')} "
                f"| {_pair(before, after, *c, 'sender_cpu_s')} |"
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "docs")
    args = parser.parse_args(argv)
    before = json.loads(args.before.read_text())
    after = json.loads(args.after.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    if "many_files" in after:
        many_files_figure(before, after, args.out / "performance-many-files.svg")
    if "throughput" in after:
        throughput_figure(before, after, args.out / "performance-throughput.svg")
    if "total" in after.get("profile", {}).get("ext", {}):
        profile_figure(after, args.out / "performance-profile.svg")
    print(f"figures written to {args.out}\n")
    print(tables(before, after))


if __name__ == "__main__":
    main()
