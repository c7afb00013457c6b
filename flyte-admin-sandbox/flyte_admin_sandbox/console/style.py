"""The console's stylesheet, served at ``/console/static/console.css`` (no build step, no JavaScript)."""

from __future__ import annotations

STYLESHEET = """
:root { --fg: #1f2430; --muted: #687086; --line: #dde1ea; --bg: #f6f7fb; --accent: #5b3fd1; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .7em 1.5em; background: #241b4b; }
header a { color: #e9e4ff; text-decoration: none; }
header .brand { font-weight: 600; color: #fff; }
header nav { color: #b9b0e6; }
main { max-width: 1200px; margin: 0 auto; padding: 1em 1.5em 3em; }
h1 { font-size: 1.5em; margin: .4em 0 .6em; word-break: break-all; }
h1 .phase { font-size: .6em; vertical-align: middle; margin-left: .6em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; }
a { color: var(--accent); }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .2em 1em 1em;
          margin-bottom: 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .9em; }
tr:target, tr.target { background: #fff8d6; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25em 1.2em; margin: .8em 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { margin: 0; white-space: pre-wrap; }
.empty, .muted { color: var(--muted); }
.phase { display: inline-block; padding: .05em .55em; border-radius: 999px; font-size: .85em; font-weight: 600;
         color: #fff; background: #8a90a3; }
.phase-SUCCEEDED, .phase-RECOVERED { background: #1f9d55; }
.phase-FAILED, .phase-FAILING, .phase-TIMED_OUT { background: #d64545; }
.phase-RUNNING, .phase-QUEUED, .phase-INITIALIZING, .phase-WAITING_FOR_RESOURCES { background: #2f6fdb; }
.phase-SUCCEEDING, .phase-DYNAMIC_RUNNING { background: #3d9bd6; }
.phase-ABORTED, .phase-ABORTING, .phase-SKIPPED { background: #7d7f8a; }
.phase-UNDEFINED, .phase-WAITING_FOR_INPUT { background: #c98a12; }
.error { border-left: 4px solid #d64545; background: #fff1f1; padding: .5em .8em; margin: .8em 0; }
.error pre { color: #8b1d1d; }
.aborted { border-left: 4px solid #7d7f8a; background: #f1f1f4; padding: .5em .8em; margin: .8em 0; }
.filters a { margin-right: .6em; }
.filters a.current { font-weight: 700; color: var(--fg); text-decoration: none; }
.timeline { display: grid; grid-template-columns: 14em 1fr 6em; gap: .3em .8em; align-items: center; }
.timeline .track { position: relative; height: 1.1em; background: #eef0f6; border-radius: 3px; }
.timeline .bar { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 3px; background: #6b8fe8; }
.timeline .bar.operation { background: #b7bccb; }
.timeline .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.timeline .label.child { padding-left: 1.2em; }
.nested { padding-left: 1.2em; }
"""
"""The CSS text."""
