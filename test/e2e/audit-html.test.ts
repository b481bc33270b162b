/*
 * `sf integration audit --result-format html` through the real sf CLI against the seed 002 org in the emulator, then
 * the page opened in headless Chromium (Debian's /usr/bin/chromium): no console error, no request beyond the file,
 * Bob's Lead Scoring Tool and the findings present, both SVG charts drawn, a header click reorders rows, the filter
 * narrows them. A screenshot is kept in a temporary directory and its path printed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import puppeteer, { type Browser } from 'puppeteer-core';
import type { AuditResult } from '../../src/audit/types.js';
import { seed002Org, SEED_002 } from '../emulator/fixtures/generate.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T; name?: string; message?: string };
const CHROMIUM = '/usr/bin/chromium';

describe('sf integration audit --result-format html (real CLI, emulator, headless Chromium)', function () {
  this.timeout(600_000);
  let emu: Emulator;
  let sf: SfHome;
  let browser: Browser | undefined;

  before(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`).to.equal(true);
    emu = await startEmulator({ fixture: seed002Org({ scale: 0.25 }).fixture });
    sf = await newSfHome();
    expect((await sf.run(['plugins', 'link', PROJECT_ROOT, '--no-install'])).code).to.equal(0);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], { SF_ACCESS_TOKEN: emu.accessToken });
    expect(login.code, login.stderr).to.equal(0);
    emu.clearLog();
  });

  after(async () => {
    await browser?.close();
    await emu?.close();
    await sf?.dispose();
  });

  it('html without --output-file, or an output file in a missing directory, fails before the org is read', async () => {
    const noFile = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu', '--result-format', 'html']);
    expect(noFile.code, noFile.stdout).to.equal(2);
    expect(noFile.body.message).to.include('--output-file');
    const missingDir = join(sf.home, 'no-such-dir', 'audit.html');
    const bad = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu', '--result-format', 'html', '--output-file', missingDir]);
    expect(bad.code, bad.stdout).to.equal(1);
    expect(bad.body.message).to.include(missingDir);
    expect(existsSync(missingDir)).to.equal(false);
    expect(emu.log().entries.filter((e) => !e.path.includes('/oauth2/'))).to.deep.equal([]);
  });

  it('--output-file with json or human writes that text to the file; csv with --output-file is bad input', async () => {
    const jsonFile = join(sf.home, 'audit.json');
    expect((await sf.run(['integration', 'audit', '--target-org', 'emu', '--result-format', 'json', '--output-file', jsonFile])).code).to.equal(0);
    const written = JSON.parse(await readFile(jsonFile, 'utf8')) as AuditResult;
    expect(written.apps.map((a) => a.label)).to.include(SEED_002.bob.label);
    const textFile = join(sf.home, 'audit.txt');
    expect((await sf.run(['integration', 'audit', '--target-org', 'emu', '--output-file', textFile])).code).to.equal(0);
    expect(await readFile(textFile, 'utf8')).to.match(/Findings: \d+ high/);
    const csv = await sf.run(['integration', 'audit', '--target-org', 'emu', '--result-format', 'csv', '--output-file', textFile]);
    expect(csv.code).to.equal(2);
    expect(emu.log().writes).to.equal(0);
  });

  it("writes one page that Chromium renders: Bob's Lead Scoring Tool, the findings, two drawn charts, sorting and filtering", async () => {
    const file = join(sf.home, 'audit.html');
    const run = await sf.run(['integration', 'audit', '--target-org', 'emu', '--result-format', 'html', '--output-file', file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(file);
    expect(emu.log().writes).to.equal(0);
    const html = await readFile(file, 'utf8');
    for (const row of emu.store.all('OauthToken').slice(0, 50)) expect(html).to.not.include(String(row.DeleteToken));
    const json = await sf.json<Envelope<AuditResult>>(['integration', 'audit', '--target-org', 'emu']);
    const result = json.body.result!;

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
    page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // In-page expressions as strings: the test project compiles without the DOM library.
    const ev = <T>(expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;
    const cells = (table: string, col: number, visibleOnly = false): Promise<string[]> =>
      ev(`[...document.querySelectorAll('#${table} tbody tr')]${visibleOnly ? '.filter((r) => !r.hidden)' : ''}.map((r) => r.cells[${col}].textContent)`);

    // Apps: every app row, Bob's among them; findings: every one, Bob's unused finding among them.
    const appLabels = await cells('apps-0', 0);
    expect(appLabels).to.have.members(result.apps.map((a) => a.label));
    expect(appLabels).to.include(SEED_002.bob.label);
    const [ids, subjects] = [await cells('findings-0', 1), await cells('findings-0', 3)];
    const findingIds = ids.map((id, i) => `${id}|${subjects[i]}`);
    expect(findingIds).to.have.length(result.findings.length);
    expect(findingIds).to.include(`AUD-APP-UNUSED|${SEED_002.bob.label}`);

    // Both charts drawn: bars with a width, one per age bucket and one per app.
    const bars = await ev<Array<{ id: string; drawn: number; height: number }>>(
      "[...document.querySelectorAll('svg[id^=\"chart-\"]')].map((s) => ({ id: s.id, drawn: [...s.querySelectorAll('rect')].filter((r) => r.getBBox().width > 0).length, height: s.getBoundingClientRect().height }))"
    );
    expect(bars.map((b) => b.id)).to.deep.equal(['chart-age-0', 'chart-users-0']);
    for (const b of bars) expect(b.drawn, b.id).to.be.greaterThan(0);
    expect(bars[1].drawn).to.equal(result.apps.filter((a) => a.connectedUsers > 0).length);

    // Sorting: a click on "Connected users" orders the apps by it, a second click reverses it.
    const usersCol = await ev<number>("[...document.querySelectorAll('#apps-0 thead th')].findIndex((t) => t.textContent === 'Connected users')");
    expect(usersCol).to.be.greaterThan(0);
    const column = async (): Promise<number[]> => (await cells('apps-0', usersCol)).map(Number);
    const before = await column();
    await page.click(`#apps-0 thead th[data-col="${usersCol}"]`);
    const ascending = await column();
    expect(ascending).to.deep.equal([...before].sort((x, y) => x - y));
    await page.click(`#apps-0 thead th[data-col="${usersCol}"]`);
    const descending = await column();
    expect(descending).to.deep.equal([...before].sort((x, y) => y - x));
    expect(descending).to.not.deep.equal(ascending);
    const firstApp = (await cells('apps-0', 0))[0];
    expect(firstApp).to.equal(SEED_002.outlook.label);

    // Filtering: "Bob" leaves Bob's connected users only.
    await page.type('input[data-filter="connected-0"]', 'Bob');
    const visible = await cells('connected-0', 0, true);
    expect(visible).to.have.length(SEED_002.bob.users);
    expect(new Set(visible)).to.deep.equal(new Set([SEED_002.bob.label]));
    expect(await ev<string>("document.querySelector('#connected-0 [data-shown]').textContent")).to.equal(String(SEED_002.bob.users));
    await ev("(() => { const i = document.querySelector('input[data-filter=\"connected-0\"]'); i.value = ''; i.dispatchEvent(new Event('input')); })()");
    expect(await cells('connected-0', 0, true)).to.have.length(result.connectedUsers.length);

    // The print layout renders too (a PDF with pages).
    const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
    expect(Buffer.from(pdf).subarray(0, 5).toString()).to.equal('%PDF-');

    const outDir = await mkdtemp(join(tmpdir(), 'audit-html-'));
    const shot = join(outDir, 'audit.png');
    await ev('window.scrollTo(0, 0)');
    await page.screenshot({ path: shot, fullPage: false });
    // eslint-disable-next-line no-console
    console.log(`      screenshot: ${shot}`);

    expect(problems).to.deep.equal([]);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).to.deep.equal([]);
  });
});
