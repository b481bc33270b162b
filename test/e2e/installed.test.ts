/*
 * The plugin installed the way users install it: `npm pack`, then `sf plugins install file:<tarball>` into the
 * real sf CLI (no link, no overrides: the installed copy gets its dependencies' own ranges). From that copy:
 * create against the emulator, the real `sf org login jwt` with what it made, doctor with the live checks, and
 * the words and progress lines a user sees in a log.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { installPlugin, packPlugin, PLUGIN_NAME, tarballFiles } from '../helpers/pack.js';
import { newSfHome, PROJECT_ROOT, type SfHome } from '../helpers/sf.js';

type Envelope<T> = { status: number; result?: T };
type Created = { consumerKey: string; privateKeyFile: string; username: string; appName: string; runbookFile: string; verified: boolean };
type DoctorJson = { reports: Array<{ checks: Array<{ id: string; status: string }> }> };

/** Starts every escape sequence (cursor moves, line erases, show/hide cursor, colours): a log line has none. */
const ESC = '\u001b';

const stageTitles = async (): Promise<string[]> => {
  const text = await readFile(join(PROJECT_ROOT, 'messages', 'integration.create.md'), 'utf8');
  return ['read', 'validate', 'certificate', 'records', 'app', 'verify', 'report'].map(
    (k) => new RegExp(`^# stage\\.${k}\\n\\n(.+)$`, 'm').exec(text)![1]
  );
};

/** The progress lines of a non-TTY run: each stage that starts also ends, once, in order. */
type ProgressLine = { kind: 'start' | 'done' | 'failed'; stage: string };
const progressLines = (stdout: string): ProgressLine[] =>
  stdout.split('\n').flatMap((line): ProgressLine[] => {
    const start = /^▶ (.+)…$/.exec(line);
    if (start) return [{ kind: 'start', stage: start[1] }];
    const done = /^✔ (.+) \(\d+(?:\.\d+)?m?s\)$/.exec(line);
    if (done) return [{ kind: 'done', stage: done[1] }];
    const failed = /^✘ (.+)$/.exec(line);
    return failed ? [{ kind: 'failed', stage: failed[1] }] : [];
  });

describe('the packed plugin installed into the real sf CLI (emulator)', function () {
  this.timeout(900_000);
  let work: string;
  let tarball: string;
  let emu: Emulator;
  let sf: SfHome;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'plugin-pack-'));
    tarball = await packPlugin(work);
    sf = await newSfHome();
    await installPlugin(sf, tarball);
    emu = await startEmulator();
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emu'], {
      SF_ACCESS_TOKEN: emu.accessToken,
    });
    expect(login.code, login.stderr).to.equal(0);
  });

  after(async () => {
    await emu?.close();
    await sf?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs lib/, messages/, schemas/, spec-schema/ and a generated manifest, and nothing from test/ or src/', async () => {
    const files = await tarballFiles(tarball);
    const allowed = /^(?:lib\/.+\.(?:js|d\.ts|js\.map)|messages\/[\w.-]+\.md|schemas\/[\w.-]+\.json|spec-schema\/[\w.-]+\.json|oclif\.manifest\.json|package\.json|README\.md)$/;
    expect(files.filter((f) => !allowed.test(f)), 'files outside lib, messages, schemas, spec-schema').to.deep.equal([]);
    expect(files).to.include.members([
      'oclif.manifest.json',
      'lib/index.js',
      'lib/commands/integration/create.js',
      'lib/commands/integration/doctor.js',
      'lib/hooks/diagnostics.js',
      'messages/integration.create.md',
      'schemas/integration-create.json',
      'spec-schema/integration-spec.schema.json',
    ]);
    expect(files.some((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('lib/test'))).to.be.false;
    // postpack removed the manifest again, so a linked development copy never reads a stale one.
    const left = await stat(join(PROJECT_ROOT, 'oclif.manifest.json')).then(
      () => true,
      () => false
    );
    expect(left, 'oclif.manifest.json left in the project after npm pack').to.be.false;
  });

  it('is installed as a user plugin with its manifest, not linked, and runs on the same Node as these tests', async () => {
    // `sf plugins inspect --json` prints the plugins themselves, not an envelope.
    const inspect = await sf.json<Array<{ name: string; type: string; root: string; hasManifest: boolean }>>(['plugins', 'inspect', PLUGIN_NAME]);
    const plugin = inspect.body.find((p) => p.name === PLUGIN_NAME);
    expect(plugin, inspect.stdout).to.not.equal(undefined);
    expect(plugin!.type).to.equal('user');
    expect(plugin!.hasManifest).to.be.true;
    expect(plugin!.root.startsWith(sf.home), plugin!.root).to.be.true;
    expect(plugin!.root.startsWith(PROJECT_ROOT)).to.be.false;
    const manifest = JSON.parse(await readFile(join(plugin!.root, 'oclif.manifest.json'), 'utf8')) as { version: string; commands: Record<string, unknown> };
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).to.equal(pkg.version);
    expect(Object.keys(manifest.commands)).to.include.members(['integration:create', 'integration:doctor']);
    const version = await sf.run(['--version']);
    expect(version.stdout).to.include(`node-v${process.versions.node}`);
  });

  it('creates an integration from the installed copy with one plain progress line per stage start and end', async () => {
    const r = await sf.run(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', join(sf.home, 'hubspot')]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout.includes(ESC), `escape sequence in non-TTY output:\n${JSON.stringify(r.stdout)}`).to.be.false;
    const lines = progressLines(r.stdout);
    const titles = await stageTitles();
    // A fresh JWT create with verification runs every stage: each starts once and ends once, in order.
    expect(lines).to.deep.equal(titles.flatMap((stage) => [{ kind: 'start', stage }, { kind: 'done', stage }]));
    expect(`${r.stdout}${r.stderr}`).to.not.match(/\bseed\b/i);
  });

  it('prints the same plain lines under CI=true', async () => {
    const r = await sf.run(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', join(sf.home, 'hubspot')], {
      CI: 'true',
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
    expect(r.stdout.includes(ESC), JSON.stringify(r.stdout)).to.be.false;
    const lines = progressLines(r.stdout);
    expect(lines.length).to.be.at.least(4);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i].kind).to.equal('start');
      expect(lines[i + 1]).to.deep.equal({ kind: 'done', stage: lines[i].stage });
    }
  });

  it('logs in with the real sf org login jwt and passes doctor with live checks, citing Salesforce Help', async () => {
    const created = await sf.json<Envelope<Created>>(['integration', 'create', '--target-org', 'emu', '--name', 'HubSpot', '--object', 'Account=read', '--output-dir', join(sf.home, 'hubspot')]);
    expect(created.code, created.stdout).to.equal(0);
    const c = created.body.result!;
    const runbook = await readFile(c.runbookFile, 'utf8');
    expect(runbook).to.not.match(/\bseed\b/i);
    expect(runbook).to.include('https://help.salesforce.com/s/articleView?id=');

    const jwt = await sf.json<Envelope<{ username: string }>>([
      'org', 'login', 'jwt', '--client-id', c.consumerKey, '--jwt-key-file', c.privateKeyFile, '--username', c.username, '--instance-url', emu.instanceUrl, '--alias', 'hubspot',
    ]);
    expect(jwt.code, jwt.stdout).to.equal(0);
    expect(jwt.body.result?.username).to.equal(c.username);

    const doctorArgs = ['integration', 'doctor', '--target-org', 'emu', '--name', c.appName, '--client-id', c.consumerKey, '--private-key-file', c.privateKeyFile];
    const doctor = await sf.json<Envelope<DoctorJson>>(doctorArgs);
    expect(doctor.code, doctor.stdout).to.equal(0);
    const live = doctor.body.result!.reports[0].checks.filter((k) => k.id.startsWith('live-'));
    expect(live.map((k) => `${k.id}:${k.status}`)).to.deep.equal(['live-token-exchange:pass', 'live-api-call:pass']);

    const human = await sf.run(doctorArgs);
    expect(human.code, human.stdout).to.equal(0);
    const explained = await sf.run(['integration', 'doctor', '--error', 'invalid_grant: audience is invalid']);
    expect(explained.stdout).to.include('Salesforce Help: "');
    for (const out of [human, explained]) expect(`${out.stdout}${out.stderr}`).to.not.match(/\bseed\b/i);
  });
});
