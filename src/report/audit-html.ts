/*
 * --result-format html: the audit as one self-contained page to hand to a security review or print to PDF.
 * Nothing is loaded from anywhere (inline CSS, inline SVG charts, one small inline script allowed by its hash in the
 * page's Content-Security-Policy, so a value that slipped past escaping still could not run). Every value from the org
 * (app names, usernames, evidence) is escaped. The page carries the same data as --json, except that a large org's
 * connected users (app, user pairs: tens of thousands, tens of MB) are cut to the PAGE_CONNECTED_USERS that matter
 * most, and the page says how many it left out and where they all are (--json, connected-users.csv). The result
 * holds no DeleteToken or secret, so neither does the page.
 */
import { createHash } from 'node:crypto';
import type { AuditResult, ConnectedUser, OrgAudit, Severity } from '../audit/types.js';

/** HTML text and attribute values: the five characters that can end a text node or an attribute. */
export const escapeHtml = (value: unknown): string =>
  (value === undefined || value === null ? '' : String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** JSON inside a <script type="application/json">: no "<" at all, so no "</script>" or "<!--" can close it. */
const scriptJson = (value: unknown): string =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const day = (d: string | undefined): string => (d ? d.slice(0, 10) : '');

/** Connected-user rows the page shows per org; the charts, figures and findings still count every one. */
export const PAGE_CONNECTED_USERS = 1000;

/**
 * The connected users the page shows: all of them up to the cap; past it, the ones a reviewer acts on first
 * (inactive or frozen users, then privileged ones), then the longest unused.
 */
export const pageConnectedUsers = (a: OrgAudit, cap = PAGE_CONNECTED_USERS): ConnectedUser[] => {
  if (a.connectedUsers.length <= cap) return a.connectedUsers;
  const weight = (c: ConnectedUser): number => (!c.active || c.frozen ? 0 : c.privileged ? 1 : 2);
  const used = (c: ConnectedUser): number => parseDate(c.lastUsed) ?? 0;
  return [...a.connectedUsers].sort((x, y) => weight(x) - weight(y) || used(x) - used(y)).slice(0, cap);
};

const DAY_MS = 86_400_000;
const parseDate = (d: string | undefined): number | undefined => {
  if (!d) return undefined;
  // Salesforce writes +0000; Date.parse wants +00:00.
  const t = Date.parse(d.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(t) ? undefined : t;
};

export const AGE_BUCKETS = ['0-30 days', '31-90 days', '91-180 days', '181-365 days', 'over 365 days', 'no date'] as const;

/** Tokens by how long ago they were last used, counted over the connected users (app, user pairs) of one org. */
export const tokenAgeBuckets = (a: OrgAudit): Array<{ label: string; tokens: number }> => {
  const now = parseDate(a.takenAt) ?? Date.now();
  const counts = AGE_BUCKETS.map(() => 0);
  for (const c of a.connectedUsers) {
    const last = parseDate(c.lastUsed);
    const age = last === undefined ? undefined : Math.max(0, (now - last) / DAY_MS);
    const i = age === undefined ? 5 : age <= 30 ? 0 : age <= 90 ? 1 : age <= 180 ? 2 : age <= 365 ? 3 : 4;
    counts[i] += c.tokens;
  }
  return AGE_BUCKETS.map((label, i) => ({ label, tokens: counts[i] }));
};

/** A horizontal bar chart in SVG: one labelled bar per row, the value at its end. */
const barChart = (title: string, rows: Array<{ label: string; value: number; cls?: string }>, chartId: string): string => {
  const labelW = 220;
  const barW = 360;
  const rowH = 24;
  const height = Math.max(1, rows.length) * rowH + 8;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const bars = rows
    .map((r, i) => {
      const y = 4 + i * rowH;
      const w = r.value === 0 ? 0 : Math.max(2, Math.round((r.value / max) * barW));
      const label = r.label.length > 34 ? `${r.label.slice(0, 33)}…` : r.label;
      return (
        `<g class="bar${r.cls ? ` ${r.cls}` : ''}"><title>${escapeHtml(`${r.label}: ${r.value}`)}</title>` +
        `<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(label)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 8}" rx="2"></rect>` +
        `<text class="value" x="${labelW + w + 6}" y="${y + 16}">${r.value}</text></g>`
      );
    })
    .join('');
  const empty = rows.length ? '' : '<text x="8" y="20">none</text>';
  return (
    `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg id="${chartId}" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${labelW + barW + 60} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">` +
    `${bars}${empty}</svg></figure>`
  );
};

type Column<T> = { label: string; value: (row: T) => string | number | boolean | undefined; sort?: (row: T) => string | number; cls?: string; html?: (row: T) => string };

const cellText = (v: string | number | boolean | undefined): string => (v === undefined || v === '' ? '-' : String(v));

const table = <T>(id: string, caption: string, rows: T[], columns: Array<Column<T>>, rowClass?: (row: T) => string, total = rows.length, note = ''): string => {
  const head = columns.map((c, i) => `<th scope="col" data-col="${i}" tabindex="0" aria-sort="none">${escapeHtml(c.label)}</th>`).join('');
  const body = rows
    .map((r) => {
      const cells = columns
        .map((c) => {
          const v = c.value(r);
          const sortKey = c.sort ? c.sort(r) : typeof v === 'number' ? v : cellText(v).toLowerCase();
          const content = c.html ? c.html(r) : escapeHtml(cellText(v));
          return `<td${c.cls ? ` class="${c.cls}"` : ''} data-sort="${escapeHtml(sortKey)}"${typeof sortKey === 'number' ? ' data-num="1"' : ''}>${content}</td>`;
        })
        .join('');
      return `<tr${rowClass ? ` class="${rowClass(r)}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  return (
    `<section class="table" id="${id}"><h3>${escapeHtml(caption)} <span class="count">(<span data-shown>${rows.length}</span> of ${total})</span></h3>` +
    note +
    `<label class="filter">Filter <input type="search" data-filter="${id}" placeholder="text in any column" aria-label="Filter ${escapeHtml(caption)}"></label>` +
    `<table data-sortable><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>` +
    (rows.length ? '' : '<p class="none">None.</p>') +
    '</section>'
  );
};

const rank: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** One evidence value: a list one item a line, an object as "key: value" pairs, anything else as text. */
const evidenceValue = (v: unknown): string => {
  const flat = (x: unknown): string =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.entries(x).map(([k, y]) => `${k}: ${typeof y === 'object' && y !== null ? JSON.stringify(y) : String(y)}`).join(', ')
      : Array.isArray(x) ? x.map((y) => (typeof y === 'object' && y !== null ? JSON.stringify(y) : String(y))).join(', ') : String(x);
  if (Array.isArray(v)) return v.length ? `<ul>${v.map((x) => `<li>${escapeHtml(flat(x))}</li>`).join('')}</ul>` : '-';
  return escapeHtml(flat(v));
};

const evidenceHtml = (evidence: Record<string, unknown>): string => {
  const entries = Object.entries(evidence);
  if (!entries.length) return '-';
  return `<dl class="evidence">${entries
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${evidenceValue(v)}</dd>`)
    .join('')}</dl>`;
};

const orgSection = (a: OrgAudit, n: number): string => {
  const f = a.summary.findings;
  const figures = [
    ['Apps', a.summary.apps],
    ['Integration identities', a.summary.identities],
    ['Tokens', a.summary.tokens],
    ['Connected users', a.summary.connectedUsers],
    ['High', f.high, 'sev-high'],
    ['Medium', f.medium, 'sev-medium'],
    ['Low', f.low, 'sev-low'],
  ] as Array<[string, number, string?]>;
  const buckets = tokenAgeBuckets(a);
  const appsByUsers = [...a.apps].sort((x, y) => y.connectedUsers - x.connectedUsers || x.label.localeCompare(y.label));
  const findings = [...a.findings].sort((x, y) => rank[x.severity] - rank[y.severity] || x.id.localeCompare(y.id));
  const shown = pageConnectedUsers(a);
  const omitted = a.connectedUsers.length - shown.length;
  const omittedNote = omitted
    ? `<p class="omitted">This page shows ${shown.length} of the ${a.connectedUsers.length} connected users: inactive or frozen users first, then privileged ones, then the longest unused. The other ${omitted} are left out of this page (the figures, charts and findings above count them all); every one is in <code>--json</code> and in connected-users.csv (<code>--result-format csv</code>).</p>`
    : '';
  return `
<section class="org" id="org-${n}">
<h2>${escapeHtml(a.org)} <span class="sub">${escapeHtml(a.instanceUrl)} · org ${escapeHtml(a.orgId)} · read ${escapeHtml(a.takenAt)}</span></h2>
<div class="figures">${figures.map(([label, value, cls]) => `<div class="figure${cls ? ` ${cls}` : ''}"><span class="num">${value}</span><span class="label">${escapeHtml(label)}</span></div>`).join('')}</div>
<div class="charts">
${barChart('Tokens by last use (a token never used: since it was issued)', buckets.map((b, i) => ({ label: b.label, value: b.tokens, cls: `age-${i}` })), `chart-age-${n}`)}
${barChart('Connected users per app', appsByUsers.map((x) => ({ label: x.label, value: x.connectedUsers })), `chart-users-${n}`)}
</div>
${table(`findings-${n}`, 'Findings', findings, [
  { label: 'Severity', value: (x) => x.severity + (x.isNew ? ' (new)' : ''), sort: (x) => rank[x.severity], html: (x) => `<span class="sev sev-${x.severity}">${escapeHtml(x.severity)}</span>${x.isNew ? ' <span class="new">new</span>' : ''}` },
  { label: 'Id', value: (x) => x.id, cls: 'mono' },
  { label: 'NHI', value: (x) => x.nhi.join(', ') + (x.nist ? ` · ${x.nist}` : '') },
  { label: 'Subject', value: (x) => x.subject },
  { label: 'Finding', value: (x) => x.message },
  { label: 'Evidence', value: (x) => JSON.stringify(x.evidence), html: (x) => evidenceHtml(x.evidence) },
  { label: 'Fix', value: (x) => x.fix, cls: 'fix' },
], (x) => `sev-row-${x.severity}`)}
${table(`apps-${n}`, 'Apps', a.apps, [
  { label: 'App', value: (x) => x.label },
  { label: 'API name', value: (x) => x.name, cls: 'mono' },
  { label: 'Kind', value: (x) => x.kind },
  { label: 'Owner', value: (x) => x.owner },
  { label: 'Flows', value: (x) => x.flows.join(', ') },
  { label: 'Scopes', value: (x) => x.scopes.join(', ') },
  { label: 'Permitted users', value: (x) => x.permittedUsers },
  { label: 'Pre-authorized', value: (x) => x.preAuthorizedUsers },
  { label: 'Tokens', value: (x) => x.tokens },
  { label: 'Connected users', value: (x) => x.connectedUsers },
  { label: 'Certificate expires', value: (x) => day(x.certificate?.notAfter) },
  { label: 'Last used', value: (x) => day(x.lastUsed) },
])}
${table(`identities-${n}`, 'Integration identities', a.identities, [
  { label: 'User', value: (x) => x.username },
  { label: 'License', value: (x) => x.license },
  { label: 'Profile', value: (x) => x.profile },
  { label: 'State', value: (x) => (!x.active ? 'inactive' : x.frozen ? 'frozen' : 'active') },
  { label: 'Last login', value: (x) => day(x.lastLogin) },
  { label: 'Login types', value: (x) => x.loginTypes.join(', ') },
  { label: 'Dangerous permissions', value: (x) => x.dangerousPermissions.map((d) => `${d.permission} (${d.via})`).join(', ') },
  { label: 'Apps', value: (x) => x.apps.join(', ') },
  { label: 'Why', value: (x) => x.why.join(', ') },
  { label: 'Owner', value: (x) => x.owner },
])}
${table(`connected-${n}`, 'Connected users', shown, [
  { label: 'App', value: (x) => x.app },
  { label: 'User', value: (x) => x.username ?? x.userId },
  { label: 'State', value: (x) => (!x.active ? 'inactive' : x.frozen ? 'frozen' : 'active') },
  { label: 'Privileged', value: (x) => (x.privileged ? 'yes' : 'no') },
  { label: 'Tokens', value: (x) => x.tokens },
  { label: 'Uses', value: (x) => x.useCount },
  { label: 'First used', value: (x) => day(x.firstUsed) },
  { label: 'Last used', value: (x) => day(x.lastUsed) },
], undefined, a.connectedUsers.length, omittedNote)}
${a.readFailures.length ? `<section class="read-failures"><h3>Reads the org refused</h3><ul>${a.readFailures.map((r) => `<li>${escapeHtml(r.query)}: ${escapeHtml(r.errorCode)} ${escapeHtml(r.message)}. What depends on it is missing from this report.</li>`).join('')}</ul></section>` : ''}
</section>`;
};

/** Sorting (click or Enter on a header; again to reverse) and filtering (rows containing the text). No network, no eval. */
const SCRIPT = `(function () {
  'use strict';
  document.querySelectorAll('table[data-sortable]').forEach(function (table) {
    var heads = table.querySelectorAll('thead th');
    heads.forEach(function (th) {
      var sort = function () {
        var col = Number(th.getAttribute('data-col'));
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        heads.forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var p = x.getAttribute('data-sort'), q = y.getAttribute('data-sort');
          if (x.hasAttribute('data-num') && y.hasAttribute('data-num')) return (Number(p) - Number(q)) * dir;
          return p.localeCompare(q) * dir;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  });
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var section = document.getElementById(input.getAttribute('data-filter'));
    var shown = section.querySelector('[data-shown]');
    input.addEventListener('input', function () {
      var text = input.value.trim().toLowerCase();
      var n = 0;
      Array.prototype.forEach.call(section.querySelector('tbody').rows, function (r) {
        var hit = !text || r.textContent.toLowerCase().indexOf(text) !== -1;
        r.hidden = !hit;
        if (hit) n++;
      });
      shown.textContent = String(n);
    });
  });
})();`;

const STYLE = `
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d8dde3; --bg:#fff; --head:#f3f5f7; --high:#b42318; --medium:#b54708; --low:#175cd3; --bar:#2e6fd8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 12px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 22px 0 6px; } .sub, .count, .meta { color: var(--muted); font-weight: normal; font-size: 12px; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.figure .num { display: block; font-size: 22px; font-weight: 600; } .figure .label { color: var(--muted); font-size: 12px; }
.figure.sev-high .num { color: var(--high); } .figure.sev-medium .num { color: var(--medium); } .figure.sev-low .num { color: var(--low); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin-top: 16px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font-size: 12px; fill: var(--fg); } svg .value { fill: var(--muted); }
svg .bar rect { fill: var(--bar); } svg .age-3 rect { fill: #d97706; } svg .age-4 rect { fill: var(--high); } svg .age-5 rect { fill: #98a2b3; }
.filter { display: inline-block; margin: 0 0 6px; color: var(--muted); font-size: 12px; }
.filter input { margin-left: 6px; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; min-width: 240px; }
section.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: var(--head); cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
tbody tr:nth-child(even) { background: #fafbfc; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.sev { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; font-weight: 600; font-size: 11px; text-transform: uppercase; }
.sev-high { background: var(--high); } .sev-medium { background: var(--medium); } .sev-low { background: var(--low); }
.figure.sev-high, .figure.sev-medium, .figure.sev-low { background: none; }
.new { color: var(--high); font-weight: 600; font-size: 11px; }
dl.evidence { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0 6px; } dl.evidence dt { color: var(--muted); } dl.evidence dd { margin: 0; word-break: break-word; } dl.evidence ul { margin: 0; padding-left: 14px; }
td.fix { min-width: 200px; } .none { color: var(--muted); } .omitted { color: var(--muted); font-size: 12px; margin: 0 0 6px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; font-size: 10.5px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .filter { display: none; }
  section.table { overflow: visible; }
  th { cursor: auto; } th::after { content: "" !important; }
  thead { display: table-header-group; }
  tr, .figure, figure.chart { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  section.org + section.org { break-before: page; page-break-before: always; }
  .charts { grid-template-columns: 1fr 1fr; }
  table { font-size: 9.5px; }
}
`;

/** One self-contained HTML page of the whole audit (every org). Pure: the same result gives the same page. */
export const auditHtml = (result: AuditResult, generatedAt = result.orgs[0]?.takenAt ?? ''): string => {
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const orgNames = result.orgs.map((o) => o.org).join(', ') || 'no org';
  const orgs = result.orgs.map((o) => {
    const shown = pageConnectedUsers(o);
    return shown.length === o.connectedUsers.length ? o : { ...o, connectedUsers: shown, connectedUsersOmitted: o.connectedUsers.length - shown.length };
  });
  const omitted = result.orgs.reduce((n, o) => n + o.connectedUsers.length, 0) - orgs.reduce((n, o) => n + o.connectedUsers.length, 0);
  const embedded = omitted ? { ...result, orgs, connectedUsers: orgs.flatMap((o) => o.connectedUsers) } : result;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(`Integration audit: ${orgNames}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Integration audit</h1>
<p class="meta">${escapeHtml(orgNames)} · ${escapeHtml(generatedAt)} · ${result.findings.length} findings · risks per OWASP Non-Human Identities Top 10 and NIST CSF 2.0 PR.AA-05${result.failed ? ' · <strong>a finding reached --fail-on</strong>' : ''}</p>
</header>
<main>
${result.orgs.map((o, i) => orgSection(o, i)).join('\n')}
</main>
<footer>Generated by sf integration audit. Click a column header to sort, type in a filter box to narrow a table. ${
    omitted ? `The audit's result is embedded in this page as JSON: the same as --json, less the ${omitted} connected-user rows left out above (its connectedUsersOmitted says how many per org).` : "The audit's full result (the same as --json) is embedded in this page as JSON."
  }</footer>
<script type="application/json" id="audit-data">${scriptJson(embedded)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
};
