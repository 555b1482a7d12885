/** The dashboard's stylesheet (inline in every page: one request, no build step). */
export const STYLES = `
:root{--bg:#f5f7fa;--card:#fff;--ink:#1c2430;--muted:#677489;--line:#e3e8ef;--brand:#2563eb;--brand-ink:#fff;
--ok:#15803d;--warn:#b45309;--bad:#b91c1c;--spot:#0f766e;--od:#7c3aed;font-size:15px}
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink);line-height:1.45}
a{color:var(--brand);text-decoration:none}a:hover{text-decoration:underline}
.shell{display:flex;min-height:100vh}
nav.side{width:220px;background:#0f172a;color:#cbd5e1;padding:18px 12px;flex-shrink:0}
nav.side .logo{color:#fff;font-weight:700;font-size:18px;padding:4px 10px 14px;display:flex;gap:8px;align-items:center}
nav.side .logo span{background:var(--brand);border-radius:6px;padding:1px 7px;font-size:13px}
nav.side a{display:block;color:#cbd5e1;padding:7px 10px;border-radius:6px;font-size:14px}
nav.side a:hover{background:#1e293b;text-decoration:none}nav.side a.on{background:#1e3a8a;color:#fff}
nav.side .grp{font-size:11px;text-transform:uppercase;letter-spacing:.08em;color:#64748b;margin:14px 10px 4px}
main{flex:1;min-width:0;padding:22px 28px 40px}
header.top{display:flex;justify-content:space-between;align-items:center;gap:12px;margin-bottom:18px;flex-wrap:wrap}
header.top h1{font-size:22px;margin:0}header.top .who{color:var(--muted);font-size:13px;display:flex;gap:10px;align-items:center}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin-bottom:18px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}.card .v{font-size:24px;font-weight:650;margin-top:2px}
.card .s{color:var(--muted);font-size:12px}
section.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin-bottom:16px}
section.panel h2{font-size:16px;margin:0 0 12px}
.tablewrap{overflow-x:auto}table{width:100%;border-collapse:collapse;font-size:14px}
th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em;border-bottom:1px solid var(--line);padding:8px}
td{border-bottom:1px solid var(--line);padding:8px;vertical-align:top}tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;background:#eef2f7;color:#334155}
.badge.ok{background:#dcfce7;color:var(--ok)}.badge.warn{background:#fef3c7;color:var(--warn)}.badge.bad{background:#fee2e2;color:var(--bad)}
.badge.spot{background:#ccfbf1;color:var(--spot)}.badge.od{background:#ede9fe;color:var(--od)}
.btn,button{font:inherit;font-size:14px;border:1px solid var(--line);background:#fff;color:var(--ink);padding:6px 12px;border-radius:7px;cursor:pointer}
.btn.primary,button.primary{background:var(--brand);border-color:var(--brand);color:var(--brand-ink)}
button.danger{color:var(--bad);border-color:#fecaca}button:disabled{opacity:.5;cursor:default}
input,select{font:inherit;font-size:14px;padding:6px 9px;border:1px solid var(--line);border-radius:7px;background:#fff;max-width:100%}
form.inline{display:flex;gap:8px;flex-wrap:wrap;align-items:center}
form.stack label{display:block;margin:10px 0 4px;font-size:13px;color:var(--muted)}
.filters{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:12px}
.empty{color:var(--muted);padding:18px;text-align:center;border:1px dashed var(--line);border-radius:8px}
.pager{display:flex;gap:10px;align-items:center;justify-content:flex-end;margin-top:10px;font-size:13px;color:var(--muted)}
.note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 12px;font-size:14px;margin-bottom:12px}
.note.warn{background:#fffbeb;border-color:#fde68a}
.secret{font-family:ui-monospace,Menlo,monospace;background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:8px;word-break:break-all;font-size:13px}
code{font-family:ui-monospace,Menlo,monospace;font-size:13px}
.muted{color:var(--muted)}.pos{color:var(--ok)}.neg{color:var(--bad)}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.steps{display:flex;gap:4px;flex-wrap:wrap;font-size:12px;margin-top:6px}.steps span{padding:2px 8px;border-radius:999px;background:#eef2f7;color:#64748b}
.steps span.done{background:#dcfce7;color:var(--ok)}.steps span.now{background:var(--brand);color:#fff}.steps span.fail{background:#fee2e2;color:var(--bad)}
.chart svg{width:100%;height:auto;display:block}.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin-top:6px}
.legend i{display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle}
.login{max-width:380px;margin:9vh auto;background:#fff;border:1px solid var(--line);border-radius:12px;padding:26px}
.login h1{font-size:20px;margin:0 0 4px}.login input{width:100%}.login button{width:100%;margin-top:16px}
.err{color:var(--bad);font-size:14px;margin:8px 0}.msg{font-size:13px;margin-left:8px}
@media (max-width:800px){.shell{display:block}nav.side{width:auto;display:flex;flex-wrap:wrap;gap:2px;padding:10px}
nav.side .grp{display:none}nav.side .logo{width:100%;padding-bottom:6px}nav.side a{padding:5px 8px}
main{padding:14px}.grid2{grid-template-columns:1fr}header.top h1{font-size:19px}}
`
