// The one stylesheet of `mhc report`, inlined in the page (the CSP allows inline styles and
// nothing else). System fonts only. Status classes st-added / st-removed / st-changed /
// st-moved mark what a change does; sev-error / sev-warning / sev-info the findings.
export const REPORT_CSS = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;--add:#1a7f37;--add-bg:#dafbe1;--rem:#cf222e;--rem-bg:#ffebe9;--chg:#9a6700;--chg-bg:#fff8c5;--mov:#8250df;--mov-bg:#fbefff;--link:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer,nav{max-width:1400px;margin:0 auto;padding:0 24px}
header{padding-top:20px}
h1{font-size:28px;margin:0 0 4px}
h2{font-size:21px;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:17px;margin:18px 0 6px}
a{color:var(--link);text-decoration:none}
a:hover{text-decoration:underline}
.sub{color:var(--muted);margin:0}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0 0;padding:0;list-style:none}
.counts li{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:4px 10px}
nav{position:sticky;top:0;background:var(--bg);border-bottom:1px solid var(--line);padding-top:8px;padding-bottom:8px;z-index:1}
nav a{margin-right:14px}
code,.mono,pre,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
table{border-collapse:collapse;margin:6px 0 14px;width:100%}
caption{text-align:left;font-weight:600;color:var(--muted);padding:4px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}
td{overflow-wrap:anywhere}
table.matrix td:not(:first-child){text-align:center}
table.kv td:first-child{white-space:nowrap;width:1%}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--bg)}
.card h3{margin:0 0 6px}
.card ul{margin:6px 0;padding-left:18px}
.chip{display:inline-block;border:1px solid var(--line);border-radius:12px;padding:0 8px;margin:2px 4px 2px 0;background:var(--panel);font-size:13px}
.addr{color:var(--muted);font-weight:400}
.links{color:var(--muted);font-size:14px;margin:4px 0 0}
.ha{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:0 24px}
svg.topology{width:100%;height:auto;background:var(--panel);border:1px solid var(--line);border-radius:8px}
svg .box rect{fill:#fff;stroke:#6e7781;stroke-width:1.5}
svg .vip rect{fill:#ddf4ff;stroke:var(--link)}
svg .arb rect{stroke-dasharray:6 4}
svg .more rect{stroke-dasharray:4 4;fill:var(--panel)}
svg text{font-size:13px;fill:var(--fg)}
svg text.name{font-size:15px;font-weight:600}
svg text.addr,svg text.hosts{fill:var(--muted)}
svg text.hosts{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
svg .vipline{stroke:var(--link);stroke-width:1.5;stroke-dasharray:5 4}
svg .vipline.owner{stroke-width:3;stroke-dasharray:none}
svg text.order{font-size:12px;fill:var(--link)}
svg .bus{stroke:#8c959f;stroke-width:1.5}
svg text.buslabel{fill:var(--muted)}
.st-added{background:var(--add-bg)}
.st-removed{background:var(--rem-bg);text-decoration:line-through}
.st-changed{background:var(--chg-bg)}
.st-moved{background:var(--mov-bg)}
tr.st-added td:first-child,.card.st-added{box-shadow:inset 4px 0 var(--add)}
tr.st-removed td:first-child,.card.st-removed{box-shadow:inset 4px 0 var(--rem)}
tr.st-changed td:first-child,.card.st-changed{box-shadow:inset 4px 0 var(--chg)}
tr.st-moved td:first-child{box-shadow:inset 4px 0 var(--mov)}
svg .st-added rect{fill:var(--add-bg);stroke:var(--add);stroke-width:3}
svg .st-removed rect{fill:var(--rem-bg);stroke:var(--rem);stroke-width:3;stroke-dasharray:8 4}
svg .st-changed rect{fill:var(--chg-bg);stroke:var(--chg);stroke-width:3}
svg text.st-added{fill:var(--add);font-weight:600}
svg text.st-removed{fill:var(--rem);text-decoration:line-through}
svg text.st-changed{fill:var(--chg);font-weight:600}
svg text.st-moved{fill:var(--mov);font-weight:600}
svg line.st-moved{stroke:var(--mov)}
svg line.st-removed{stroke:var(--rem)}
svg line.st-changed{stroke:var(--chg)}
del{background:var(--rem-bg);color:var(--rem)}
ins{background:var(--add-bg);color:var(--add);text-decoration:none}
.legend{display:flex;flex-wrap:wrap;gap:8px;margin:6px 0 10px;padding:0;list-style:none}
.legend li{border:1px solid var(--line);border-radius:6px;padding:2px 10px}
ul.changes{padding-left:0;list-style:none}
ul.changes li{margin:3px 0;padding:3px 10px;border-radius:6px}
.tag{display:inline-block;min-width:5.5em;font-weight:600;font-size:13px}
.sev{font-weight:700;text-transform:uppercase;font-size:12px}
.sev-error .sev{color:var(--rem)}
.sev-warning .sev{color:var(--chg)}
.sev-info .sev{color:var(--muted)}
details summary{cursor:pointer}
details.long summary{color:var(--muted)}
details p{margin:4px 0}
pre.hunk{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:6px 8px;overflow-x:auto;margin:4px 0 10px}
pre.hunk span{display:block;white-space:pre}
pre.hunk .h{color:var(--muted)}
pre.hunk .a{background:var(--add-bg)}
pre.hunk .r{background:var(--rem-bg)}
footer{color:var(--muted);font-size:13px;padding:24px}
@media print{nav{position:static}}
`
  .trim()
  .replace(/\n/g, '');
