/*
 * `npm run emulator`: the process prints its instance URL and an admin token, serves until SIGTERM, and its
 * state can be dumped and loaded again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../helpers/sf.js';

type Started = { child: ChildProcess; lines: string[] };

const startCli = (args: string[]): Promise<Started> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', 'test/emulator/cli.ts', ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length === 2) resolve({ child, lines });
    });
    child.once('exit', (code) => {
      if (lines.length < 2) reject(new Error(`emulator exited ${String(code)}: ${stderr}`));
    });
  });

const stop = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('npm run emulator', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emu-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints instance-url and access-token first, serves the org, and stops on SIGTERM', async () => {
    const { child, lines } = await startCli(['--port', '0']);
    try {
      expect(lines[0]).to.match(/^instance-url: http:\/\/127\.0\.0\.1:\d+$/);
      expect(lines[1]).to.match(/^access-token: 00D\w{12}!\S+$/);
      const instanceUrl = lines[0].slice('instance-url: '.length);
      const token = lines[1].slice('access-token: '.length);
      const versions = (await (await fetch(`${instanceUrl}/services/data`)).json()) as Array<{ version: string }>;
      expect(versions.map((v) => v.version)).to.include('66.0');
      const me = await fetch(`${instanceUrl}/services/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).to.equal(200);
    } finally {
      expect(await stop(child)).to.equal(0);
    }
  });

  it('dumps its state, and loads the dump again as a fixture', async () => {
    const first = await startCli(['--port', '0']);
    const url1 = first.lines[0].slice('instance-url: '.length);
    const token1 = first.lines[1].slice('access-token: '.length);
    const created = await fetch(`${url1}/services/data/v66.0/sobjects/Account`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token1}`, 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'Dumped Account' }),
    });
    expect(created.status).to.equal(201);
    const { id } = (await created.json()) as { id: string };
    const log = (await (await fetch(`${url1}/__emulator/log`)).json()) as { writes: number; entries: Array<{ method: string; path: string; status: number }> };
    expect(log.writes).to.equal(1);
    expect(log.entries.some((e) => e.method === 'POST' && e.path.endsWith('/sobjects/Account') && e.status === 201)).to.be.true;
    const state = await (await fetch(`${url1}/__emulator/state`)).text();
    await stop(first.child);

    const file = join(dir, 'state.json');
    await writeFile(file, state);
    const second = await startCli(['--fixture', file, '--port', '0']);
    try {
      const url2 = second.lines[0].slice('instance-url: '.length);
      const token2 = second.lines[1].slice('access-token: '.length);
      const got = await fetch(`${url2}/services/data/v66.0/sobjects/Account/${id}`, { headers: { authorization: `Bearer ${token2}` } });
      expect(got.status).to.equal(200);
      expect(((await got.json()) as { Name: string }).Name).to.equal('Dumped Account');
      const reloaded = JSON.parse(await readFile(file, 'utf8')) as { records: Record<string, unknown[]> };
      expect(reloaded.records.Account).to.have.length(1);
    } finally {
      await stop(second.child);
    }
  });

  it('refuses a bad port with a clear error and a non-zero exit', async () => {
    let failed = false;
    try {
      await startCli(['--port', 'seventy']);
    } catch (e) {
      failed = true;
      expect(String(e)).to.match(/--port must be a whole number/);
    }
    expect(failed).to.be.true;
  });
});
