#!/usr/bin/env python3
"""Draws docs/bench/bench.svg from docs/bench/results.json (written by run.py) and prints
the README's tables as Markdown. Standard library only: the SVG is written by hand.

    python3 docs/bench/plot.py            # redraw the plot and print the tables
"""

import json
import math
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
SVG = HERE / "bench.svg"

SERIES = [
    # (server, mode, colour, dash)
    ("tls12 server", "full", "#1f77b4", ""),
    ("tls12 server", "resumed", "#1f77b4", "6,4"),
    ("openssl s_server", "full", "#d62728", ""),
    ("openssl s_server", "resumed", "#d62728", "6,4"),
]

W, H = 960, 420
PANEL_W, PANEL_H = 380, 290
MARGIN_L, MARGIN_T = 80, 60
GAP = 110


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def nice_max(v):
    """A round number at or above v for the top of a linear axis."""
    if v <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(v))
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * exp:
            return step * exp
    return 10 * exp


def panel(out, x0, title, ylabel, xs, series, log_y):
    """One chart: x = concurrency on a log2 axis, y linear or log10."""
    y0 = MARGIN_T
    values = [v for _, _, _, pts in series for _, v in pts if v]
    if log_y:
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(max(values)))

        def ty(v):
            return y0 + PANEL_H * (1 - (math.log10(v) - math.log10(lo))
                                   / (math.log10(hi) - math.log10(lo)))
        ticks = []
        t = lo
        while t <= hi * 1.0001:
            ticks.append(t)
            t *= 10
    else:
        lo, hi = 0, nice_max(max(values) * 1.05)

        def ty(v):
            return y0 + PANEL_H * (1 - v / hi)
        ticks = [hi * i / 5 for i in range(6)]
    lx = [math.log2(x) for x in xs]

    def tx(x):
        return x0 + PANEL_W * (math.log2(x) - lx[0]) / (lx[-1] - lx[0])

    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 14}" text-anchor="middle" '
               f'font-size="15" font-weight="bold">{esc(title)}</text>')
    out.append(f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" '
               f'fill="none" stroke="#888"/>')
    for t in ticks:
        y = ty(t)
        label = f"{t:g}" if t < 10000 else f"{t / 1000:g}k"
        out.append(f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" '
                   f'font-size="12">{label}</text>')
    for x in xs:
        out.append(f'<line x1="{tx(x):.1f}" x2="{tx(x):.1f}" y1="{y0}" '
                   f'y2="{y0 + PANEL_H}" stroke="#eee"/>')
        out.append(f'<text x="{tx(x):.1f}" y="{y0 + PANEL_H + 18}" text-anchor="middle" '
                   f'font-size="12">{x}</text>')
    out.append(f'<text x="{x0 + PANEL_W / 2}" y="{y0 + PANEL_H + 40}" '
               f'text-anchor="middle" font-size="13">concurrency (connections in flight, '
               f'log scale)</text>')
    out.append(f'<text transform="translate({x0 - 55},{y0 + PANEL_H / 2}) rotate(-90)" '
               f'text-anchor="middle" font-size="13">{esc(ylabel)}</text>')
    for _, _, (colour, dash), pts in series:
        pts = [(x, v) for x, v in pts if v]
        path = " ".join(f"{tx(x):.1f},{ty(v):.1f}" for x, v in pts)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="2.2"{dash_attr}/>')
        for x, v in pts:
            out.append(f'<circle cx="{tx(x):.1f}" cy="{ty(v):.1f}" r="3" '
                       f'fill="{colour}"/>')


def draw(results):
    sweep = results["sweep"]
    xs = sorted({r["concurrency"] for r in sweep})

    def points(server, mode, key):
        return [(r["concurrency"], r[key]) for r in sweep
                if r["server"] == server and r["mode"] == mode]

    rate_series = [(s, m, (c, d), points(s, m, "rate")) for s, m, c, d in SERIES]
    p99_series = [(s, m, (c, d), points(s, m, "p99_ms")) for s, m, c, d in SERIES]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    panel(out, MARGIN_L, "handshakes/s", "handshakes per second", xs, rate_series, False)
    panel(out, MARGIN_L + PANEL_W + GAP, "p99 latency", "p99 handshake latency (ms, log)",
          xs, p99_series, True)
    # Legend along the bottom.
    lx, ly = MARGIN_L, H - 14
    for server, mode, colour, dash in SERIES:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{lx}" x2="{lx + 30}" y1="{ly - 4}" y2="{ly - 4}" '
                   f'stroke="{colour}" stroke-width="2.2"{dash_attr}/>')
        out.append(f'<text x="{lx + 36}" y="{ly}" font-size="12">{esc(server)}, '
                   f'{mode}</text>')
        lx += 205
    m = results["machine_before"]
    out.append(f'<text x="{W - 8}" y="16" text-anchor="end" font-size="10" fill="#666">'
               f'tls12 bench, {results["seconds_per_run"]} s per point, '
               f'{esc(m["cpu"])} x{m["cores"]} (shared), {esc(m["date"])}</text>')
    out.append("</svg>")
    SVG.write_text("\n".join(out) + "\n")


def fmt_ms(v):
    return "-" if v is None else f"{v:.3f}"


def tables(results):
    print("### s_time beside tls12 bench (concurrency 1, openssl s_server)\n")
    print("| round | mode | s_time conn/s | tls12 bench hs/s | bench / s_time | "
          "client CPU ms/conn: s_time, bench | s_server CPU ms/conn: under s_time, "
          "under bench |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    ratios = {"new": [], "reuse": []}
    for i, r in enumerate(results["s_time"], 1):
        for mode, ours in (("new", "bench_full"), ("reuse", "bench_resumed")):
            t, b = r[f"s_time_{mode}"], r[ours]
            ratios[mode].append(b["rate"] / t["rate"])
            print(f"| {i} | `-{mode}` | {t['rate']:.0f} | {b['rate']:.0f} | "
                  f"{b['rate'] / t['rate']:.2f} | {fmt_ms(t.get('client_cpu_ms'))}, "
                  f"{fmt_ms(b['client_cpu_ms'])} | {fmt_ms(t.get('server_cpu_ms'))}, "
                  f"{fmt_ms(b['server_cpu_ms'])} |")
    for mode in ratios:
        print(f"\nmedian bench / s_time, -{mode}: {statistics.median(ratios[mode]):.2f}")
    print()

    print("### Concurrency sweep\n")
    print("| concurrency | server | full hs/s | p99 ms | server CPU ms/hs | "
          "resumed hs/s | p99 ms | server CPU ms/hs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    sweep = results["sweep"]
    for c in sorted({r["concurrency"] for r in sweep}):
        for server in ("tls12 server", "openssl s_server"):
            row = {r["mode"]: r for r in sweep
                   if r["concurrency"] == c and r["server"] == server}
            f, s = row["full"], row["resumed"]
            print(f"| {c} | {server} | {f['rate']:.0f} | {fmt_ms(f['p99_ms'])} | "
                  f"{fmt_ms(f['server_cpu_ms'])} | {s['rate']:.0f} | {fmt_ms(s['p99_ms'])} | "
                  f"{fmt_ms(s['server_cpu_ms'])} |")
    print("\n### tls12 server threads (concurrency 16)\n")
    print("| --threads | mode | hs/s | server CPU ms/hs | server cores busy | "
          "client CPU ms/hs | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results["scaling"]:
        print(f"| {r['server_threads']} | {r['mode']} | {r['rate']:.0f} | "
              f"{fmt_ms(r['server_cpu_ms'])} | {r['server_cores']:.2f} | "
              f"{fmt_ms(r['client_cpu_ms'])} | {fmt_ms(r['p99_ms'])} |")
    print(f"\nmachine: {results['machine_before']}\nafter: {results['machine_after']}")


def main():
    results = json.loads(RESULTS.read_text())
    draw(results)
    tables(results)
    print(f"\nwrote {SVG}")


if __name__ == "__main__":
    main()
