"""The report as one self-contained HTML page: figures as base64 PNG, inline CSS, no script, no network
(a Content-Security-Policy forbids both)."""

from __future__ import annotations

import base64
import datetime as dt
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from nwbconvert.preview.model import Figure, Report, Section, Table

if TYPE_CHECKING:
    from nwbconvert.preview.study import SessionPreview

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
LONG_TABLE = 40  # rows shown open; a longer table is folded (<details>)
CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0; color: #1d1d1f;
  background: #fafafa; }
header { background: #1f3b73; color: white; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; word-break: break-all; }
header p { margin: 4px 0 0; font-size: 13px; opacity: 0.85; }
nav { padding: 8px 24px; background: #e8ecf4; font-size: 13px; position: sticky; top: 0; }
nav a { margin-right: 14px; color: #1f3b73; text-decoration: none; }
main { padding: 8px 24px 40px; max-width: 1280px; }
section { background: white; border: 1px solid #dde; border-radius: 6px; margin: 16px 0; padding: 8px 16px 16px; }
h2 { font-size: 17px; border-bottom: 1px solid #eee; padding-bottom: 6px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 8px 0; width: 100%; }
th, td { border: 1px solid #e3e3ea; padding: 3px 6px; text-align: left; vertical-align: top; word-break: break-word; }
th { background: #f2f4f8; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 12.5px; color: #555; }
.note { background: #fff8e1; border-left: 3px solid #f0b400; padding: 4px 8px; font-size: 13px; margin: 6px 0; }
tr[class^="sev-"] td:first-child { white-space: nowrap; }
.sev-error td:first-child { color: #b00020; font-weight: 600; }
.sev-warning td:first-child { color: #a05a00; }
"""


def render(report: Report) -> str:
    made = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    nav = " ".join(f'<a href="#{escape(s.id)}">{escape(s.title)}</a>' for s in report.sections)
    body = "\n".join(_section(s) for s in report.sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Preview: {escape(report.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{escape(report.title)}</h1>
<p>nwbconvert preview of {escape(report.file)}, made {made} in {report.seconds:.1f} s</p></header>
<nav>{nav}</nav>
<main>
{body}
</main>
</body>
</html>
"""


def _section(section: Section) -> str:
    parts = [f'<section id="{escape(section.id)}">', f"<h2>{escape(section.title)}</h2>"]
    parts += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
    parts += [_table(t) for t in section.tables]
    parts += [_figure(f) for f in section.figures]
    parts.append("</section>")
    return "\n".join(parts)


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = []
    for row in table.rows:
        css = f' class="sev-{escape(row[0])}"' if table.headers[:1] == ("severity",) else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>")
    html = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if len(table.rows) > LONG_TABLE:
        return f"<details><summary>{len(table.rows)} rows</summary>{html}</details>"
    return html


def _figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="fig-{escape(figure.key)}"><img alt="{escape(figure.title)}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{escape(figure.title)}</b>. {escape(figure.caption)}</figcaption></figure>"
    )


def render_index(entries: list[SessionPreview], root: Path) -> str:
    """The study's index page: one row per session, linking its report (relative links, no network)."""
    rows = []
    for entry in entries:
        link = (
            f'<a href="{escape(_relative(entry.report, root))}">{escape(entry.report.name)}</a>'
            if entry.report is not None
            else ""
        )
        cells = (
            escape(entry.key),
            escape(entry.status),
            escape(_relative(entry.nwb, root)),
            link,
            escape(entry.summary),
        )
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("session", "status", "file", "report", "validation"))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<title>Preview: {escape(root.name)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{escape(root.name)}: {len(entries)} sessions</h1><p>nwbconvert previews of {escape(str(root))}</p></header>
<main><section id="sessions"><h2>Sessions</h2>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section></main>
</body>
</html>
"""


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
