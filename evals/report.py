"""Self-contained HTML eval report: inline SVG charts, the figures, and every question (failures first)."""

from __future__ import annotations

from html import escape

CHART_METRICS = ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "answer_hit", "evidence_cited", "citation_precision",
                 "refusal_recall", "refusal_precision")
TABLE_METRICS = (*CHART_METRICS, "false_refusal_rate", "citation_chars_median", "latency_p50_ms", "latency_p95_ms")
COLORS = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2")


def failed(row: dict) -> bool:
    if not row["answerable"]:
        return not row["refused"]
    return row["refused"] or not row["hit"] or row["rank"] != 1


def bar_chart(results: list[dict]) -> str:
    """Grouped bars: one group per metric, one bar per system, values 0-1."""
    width, height, left, top = 900, 260, 40, 20
    group_w = (width - left) / len(CHART_METRICS)
    bar_w = max(4.0, (group_w - 10) / max(len(results), 1))
    parts = [f'<svg viewBox="0 0 {width} {height + 70}" width="100%" role="img" aria-label="metrics chart">']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + height * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4}" font-size="10" text-anchor="end">{frac:.2f}</text>')
    for g, metric in enumerate(CHART_METRICS):
        x0 = left + g * group_w + 5
        for s, result in enumerate(results):
            value = result["summary"].get(metric) or 0.0
            h = height * value
            parts.append(f'<rect x="{x0 + s * bar_w:.1f}" y="{top + height - h:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}" fill="{COLORS[s % len(COLORS)]}"><title>{escape(result["system"])} '
                         f'{metric}: {value}</title></rect>')
        parts.append(f'<text x="{x0 + group_w / 2 - 5:.1f}" y="{top + height + 14}" font-size="10" '
                     f'text-anchor="middle">{metric}</text>')
    for s, result in enumerate(results):
        parts.append(f'<rect x="{left + s * 150}" y="{top + height + 34}" width="10" height="10" '
                     f'fill="{COLORS[s % len(COLORS)]}"/><text x="{left + s * 150 + 14}" y="{top + height + 43}" '
                     f'font-size="11">{escape(result["system"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def summary_table(results: list[dict]) -> str:
    head = "".join(f"<th>{escape(r['system'])}</th>" for r in results)
    body = "".join(
        f"<tr><td>{m}</td>" + "".join(f"<td>{_fmt(r['summary'].get(m))}</td>" for r in results) + "</tr>"
        for m in TABLE_METRICS)
    return f"<table><tr><th>metric</th>{head}</tr>{body}</table>"


def group_table(result: dict) -> str:
    cols = ("n", "recall@1", "recall@5", "answer_hit", "evidence_cited", "citation_precision", "refusal_recall",
            "false_refusal_rate")
    rows = "".join(f"<tr><td>{escape(name)}</td>" + "".join(f"<td>{_fmt(s.get(c))}</td>" for c in cols) + "</tr>"
                   for name, s in result["by_group"].items())
    return f"<table><tr><th>group</th>{''.join(f'<th>{c}</th>' for c in cols)}</tr>{rows}</table>"


def question_table(result: dict) -> str:
    rows = sorted(result["rows"], key=lambda r: (not failed(r), r["id"]))
    out = ["<table class='q'><tr><th>id</th><th>question</th><th>expected</th><th>answer</th>"
           "<th>rank</th><th>cited text</th></tr>"]
    for r in rows:
        expected = "refuse" if not r["answerable"] else " / ".join(r["answer_terms"])
        cites = "".join(f"<div class='cite'><b>[{c['n']}]</b> {escape(c['clause_path'])}<br>"
                        f"{escape(c['text'][:300])}</div>" for c in r["citations"])
        out.append(f"<tr class='{'fail' if failed(r) else 'ok'}'><td>{escape(r['id'])}</td>"
                   f"<td>{escape(r['question'])}<br><small>{escape(', '.join(r['tags']))}</small></td>"
                   f"<td>{escape(expected)}</td><td>{escape(r['answer'])}</td><td>{r['rank'] or '-'}</td>"
                   f"<td>{cites}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _fmt(value) -> str:
    return "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))


def render_html(set_name: str, results: list[dict], created: str) -> str:
    sections = "".join(f"<h2>{escape(r['system'])}: by tag and language</h2>{group_table(r)}"
                       f"<h2>{escape(r['system'])}: questions (failures first)</h2>{question_table(r)}"
                       for r in results)
    return f"""<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>PolicyQA eval: {escape(set_name)}</title>
<style>body{{font-family:system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:24px;color:#111}}
table{{border-collapse:collapse;margin:8px 0 24px;font-size:13px}}td,th{{border:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left}}tr.fail{{background:#fef2f2}}.cite{{font-size:12px;color:#374151;margin-bottom:4px}}
table.q td:nth-child(2){{max-width:260px}}table.q td:nth-child(4){{max-width:320px}}</style></head><body>
<h1>PolicyQA eval: {escape(set_name)}</h1><p>{escape(created)} · {len(results[0]['rows'])} questions</p>
{bar_chart(results)}{summary_table(results)}{sections}</body></html>"""
