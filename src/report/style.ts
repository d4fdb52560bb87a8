// The page's CSS, inline in the HTML. System fonts only: the page must not reach the network.

export const PAGE_CSS = `
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5b5b66; --rule: #d9d9de; --zebra: #f6f7f9; --focus: #fff6d6; --accent: #2f5fb3; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.lede { color: var(--muted); overflow-wrap: anywhere; }
.how { color: var(--muted); font-size: 13px; margin: 2px 0 8px; }
tr.bad td { background: #fde8e8; }
.note { color: #7a4b00; font-size: 13px; background: #fff8e6; border-left: 3px solid #e0a030; padding: 4px 8px; }
.notice { background: #eef4ff; border-left: 3px solid var(--accent); padding: 6px 12px; margin: 16px 0; }
.empty { color: var(--muted); font-style: italic; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
figure.chart { margin: 18px 0 28px; }
figure.chart figcaption h3 { margin-top: 0; }
.plot { overflow-x: auto; }
.plot svg { max-width: 100%; height: auto; }
/* Plot's legend rules use :where(), so this wins: legends as large as the axes' 12px text. */
.plot div[class$="-swatches"], .plot div[class*="-swatches "] { font-size: 12px; }
.plot div[class$="-ramp"], .plot svg[class$="-ramp"] { font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; margin: 6px 0 10px; }
th, td { padding: 3px 7px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--rule); font-weight: 600; vertical-align: bottom; }
td { white-space: nowrap; }
td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 120px; }
.num { text-align: right; }
td.num { white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--zebra); }
tr.focus { background: var(--focus) !important; }
tr.total td { font-weight: 600; border-top: 2px solid var(--rule); }
tr.elided td { text-align: center; color: var(--muted); font-style: italic; }
table.summary th { font-weight: 600; width: 230px; color: var(--muted); }
table.summary td { white-space: nowrap; }
td.wrap { white-space: normal; overflow-wrap: anywhere; min-width: 120px; }
.sev-error { color: #b00020; font-weight: 600; }
.sev-warning { color: #8a5a00; }
.sev-info { color: var(--muted); }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--accent); }
/* Sections out of view are laid out and painted when scrolled to: a long report opens fast. */
main > section { content-visibility: auto; contain-intrinsic-size: auto 900px; }
nav.toc { margin: 16px 0 8px; font-size: 13px; }
nav.toc h2 { font-size: 15px; margin: 0 0 4px; padding: 0; border: 0; }
nav.toc ol { margin: 0; padding-left: 22px; columns: 2 260px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
h3.source { font-size: 16px; margin: 24px 0 6px; overflow-wrap: anywhere; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; border-top: 1px solid var(--rule); padding-top: 8px; }
`.trim();
