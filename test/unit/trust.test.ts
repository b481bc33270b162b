/*
 * The pieces every writing command shares (src/cli: sanitizer, output precheck, Ctrl-C tracker, bad input) and
 * the pure rules of create's trust (ownership of credentials, preconditions, exit 68 by the journal), with plain
 * data; plus spec limits, the batched object catalogue and key/certificate type mismatches.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { asBadInput, ExitCode } from '../../src/cli/exit-codes.js';
import { RunTracker } from '../../src/cli/interrupt.js';
import { assertWritableDir, assertWritableFile } from '../../src/cli/output.js';
import { ECHO_LIMIT, sanitizeEcho, stripControls } from '../../src/cli/sanitize.js';
import { takeoverOf } from '../../src/create/ownership.js';
import { missingPermissions } from '../../src/create/preconditions.js';
import { validateKeyPair } from '../../src/credentials/index.js';
import { parseSpecFile } from '../../src/desired/file.js';
import { objectCatalogue } from '../../src/org/describe.js';
import type { Transport } from '../../src/org/index.js';
import { outcomeExitCode } from '../../src/plan/apply.js';
import type { Plan } from '../../src/plan/types.js';
import { makeKeyPair } from '../helpers/credentials.js';

const errorOf = async (fn: () => unknown): Promise<Error & { exitCode?: number }> => {
  try {
    await fn();
  } catch (e) {
    return e as Error & { exitCode?: number };
  }
  throw new Error('expected an error');
};

describe('sanitizeEcho: untrusted text made safe to print', () => {
  it('removes CSI, OSC and C0/C1 controls, folds whitespace', () => {
    expect(stripControls('\u001b]0;title\u0007\u001b[2J\u001b[31mred\u001b[0m\ttext\r\nnext\u009b1m')).to.equal('red text next');
  });
  it('removes bidirectional overrides that reorder what a terminal shows', () => {
    expect(stripControls('abc\u202edef')).to.equal('abc def');
  });
  it('caps the echo and says how much was left out', () => {
    const out = sanitizeEcho('a'.repeat(100_000));
    expect(out.length).to.be.below(ECHO_LIMIT + 40);
    expect(out).to.include(`${100_000 - ECHO_LIMIT} more characters`);
    expect(sanitizeEcho('short')).to.equal('short');
  });
});

describe('output precheck', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trust-out-'));
  });

  it('accepts a new file in an existing directory and a directory still to create', async () => {
    await assertWritableFile(join(dir, 'report.xml'));
    await assertWritableDir(join(dir, 'a', 'b', 'c'));
  });
  it('refuses a missing directory, a directory as the file, and a file as the directory, exit 1, naming the path', async () => {
    const file = join(dir, 'plain');
    await writeFile(file, 'x');
    for (const [fn, text] of [
      [(): Promise<void> => assertWritableFile(join(dir, 'missing', 'r.xml')), 'does not exist'],
      [(): Promise<void> => assertWritableFile(dir), 'is a directory'],
      [(): Promise<void> => assertWritableDir(join(file, 'sub')), 'not a directory'],
    ] as const) {
      // eslint-disable-next-line no-await-in-loop
      const e = await errorOf(fn);
      expect(e.message).to.include(text);
      expect(e.exitCode).to.equal(ExitCode.Failure);
    }
  });

});

describe('asBadInput', () => {
  it('gives whatever the input check throws exit 2, oclif errors included', async () => {
    const oclifLike = Object.assign(new Error('Expected --flow=saml to be one of: jwt'), { oclif: { exit: 1 } });
    const e = await errorOf(() => asBadInput(() => Promise.reject(oclifLike)));
    expect(e.exitCode).to.equal(2);
    expect((e as unknown as { oclif: { exit: number } }).oclif.exit).to.equal(2);
  });
});

describe('RunTracker: the Ctrl-C step table', () => {
  it('says nothing was written before the plan exists', () => {
    expect(new RunTracker().lines().join('\n')).to.match(/nothing was written/i);
  });
  it('shows done, interrupted and pending steps and whether a write reached the org', () => {
    const t = new RunTracker();
    t.plan([
      { id: 'certificate', subject: 'key pair' },
      { id: 'user', subject: 'u@x' },
      { id: 'app', subject: 'X_Integration' },
      { id: 'verify', subject: 'jwt' },
    ]);
    t.stepStart('certificate');
    t.journal({ org: false, outcome: 'done' });
    t.stepEnd({ name: 'certificate', status: 'created' });
    expect(t.lines().at(-1)).to.match(/No write reached the org/);
    t.stepStart('user');
    t.journal({ org: true, outcome: 'done' });
    t.stepEnd({ name: 'user', status: 'created' });
    t.stepStart('app');
    expect(t.rows().map((r) => r.status)).to.deep.equal(['created', 'created', 'interrupted', 'pending']);
    expect(t.lines().at(-1)).to.match(/1 write\(s\) reached the org/);
  });
});

describe('outcomeExitCode by the journal', () => {
  it('is 1 when only local files were written, 68 once a write reached the org', () => {
    const results = [{ status: 'created' as const }, { status: 'failed' as const }, { status: 'pending' as const }];
    expect(outcomeExitCode({ failed: true, results, journal: [{ step: 'certificate', op: 'generate-key-pair', target: '/d', org: false, outcome: 'done' }] })).to.equal(1);
    expect(outcomeExitCode({ failed: true, results, journal: [{ step: 'user', op: 'create', target: 'User', org: true, outcome: 'failed' }] })).to.equal(1);
    expect(outcomeExitCode({ failed: true, results, journal: [{ step: 'user', op: 'create', target: 'User', org: true, outcome: 'done' }] })).to.equal(68);
  });
});

describe('takeoverOf: ownership of an app credentials', () => {
  const a = makeKeyPair('a');
  const b = makeKeyPair('b');
  const spec = (flow: 'jwt' | 'client-credentials'): Parameters<typeof takeoverOf>[0] =>
    ({ flow, app: { kind: 'external-client-app', name: 'X_Integration' } }) as unknown as Parameters<typeof takeoverOf>[0];
  const app = (over: Record<string, unknown>): Parameters<typeof takeoverOf>[1] =>
    ({ app: { kind: 'external-client-app', name: 'X_Integration', clientCredentialsEnabled: false, ...over } }) as unknown as Parameters<typeof takeoverOf>[1];

  it('lets the holder of the app key, a new app, and an app without credentials through', () => {
    expect(takeoverOf(spec('jwt'), app({ certificate: a.certificatePem }), { source: 'existing', privateKeyPem: a.privateKeyPem, certificatePem: a.certificatePem })).to.equal(undefined);
    expect(takeoverOf(spec('jwt'), { app: undefined }, { source: 'generate' })).to.equal(undefined);
    expect(takeoverOf(spec('jwt'), app({}), { source: 'generate' })).to.equal(undefined);
  });
  it('refuses a certificate whose key this run does not hold, with the app certificate fingerprint', () => {
    const t = takeoverOf(spec('jwt'), app({ certificate: a.certificatePem }), { source: 'generate' });
    expect(t?.kind).to.equal('certificate');
    expect(t && 'fingerprint' in t ? t.fingerprint : '').to.match(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(takeoverOf(spec('jwt'), app({ certificate: a.certificatePem }), { source: 'provided', privateKeyPem: b.privateKeyPem, certificatePem: b.certificatePem })?.kind).to.equal('certificate');
  });
  it('refuses to switch flows away from the credentials others hold', () => {
    expect(takeoverOf(spec('client-credentials'), app({ certificate: a.certificatePem }), { source: 'none' })?.kind).to.equal('flow-to-client-credentials');
    expect(takeoverOf(spec('jwt'), app({ clientCredentialsEnabled: true }), { source: 'generate' })?.kind).to.equal('flow-to-jwt');
  });
});

describe('missingPermissions: the running user before the first write', () => {
  const plan: Plan = {
    warnings: [],
    steps: [
      { id: 'user', action: 'create', subject: 'u', changes: [], ops: [] },
      { id: 'permission-set', action: 'unchanged', subject: 'p', changes: [], ops: [] },
      { id: 'app', action: 'create', subject: 'a', changes: [], ops: [] },
    ],
  };
  const snap = (permissions?: string[]): Parameters<typeof missingPermissions>[1] => ({ runningUser: { id: '005', username: 'admin@x', email: '', permissions } });
  it('names each missing permission with the steps that need it; unchanged steps need nothing', () => {
    expect(missingPermissions(plan, snap(['CustomizeApplication']), 'external-client-app', [])).to.deep.equal(['Manage Users (user)']);
    expect(missingPermissions(plan, snap(['ManageInternalUsers', 'ExternalClientAppDeveloper']), 'external-client-app', [])).to.deep.equal([]);
    expect(missingPermissions(plan, snap(['ManageUsers']), 'connected-app', [])).to.deep.equal(['Customize Application (app)']);
  });
  it('asks nothing when the permissions could not be read', () => {
    expect(missingPermissions(plan, snap(undefined), 'external-client-app', [])).to.deep.equal([]);
  });
});

describe('spec file limits', () => {
  it('refuses an alias bomb with the file and the limit', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const e = await errorOf(() => parseSpecFile(`name: Bomb\n${levels.join('\n')}\n`, 'bomb.yaml'));
    expect(e.message).to.include('bomb.yaml').and.include('100');
  });
  it('reports a JSON error at its line and column, also for an unexpected end', async () => {
    const e = await errorOf(() => parseSpecFile('{\n  "name": "X",\n  "objects": { "Account" ["read"] }\n}\n', 'x.json'));
    expect(e.message).to.match(/line 3, column \d+/);
    const end = await errorOf(() => parseSpecFile('{\n  "name": "X",\n', 'end.json'));
    expect(end.message).to.not.match(/line 1, column 1:/);
  });
  it('refuses more objects than a spec may name, with the limit', async () => {
    const text = `name: Huge\nobjects:\n${Array.from({ length: 201 }, (_, i) => `  O${i}__c: [read]`).join('\n')}\n`;
    const e = await errorOf(() => parseSpecFile(text, 'huge.yaml'));
    expect(e.message).to.include('201').and.include('200');
  });
});

describe('objectCatalogue: few round trips for a large spec', () => {
  it('lists every object with one call and describes only those whose fields are asked for', async () => {
    const calls: unknown[] = [];
    const transport = {
      apiVersion: '66.0',
      rest: (_m: string, _p: string, body: { batchRequests: Array<{ url: string }> }) => {
        calls.push(body);
        return Promise.resolve({
          results: body.batchRequests.map((r) =>
            r.url.endsWith('/sobjects')
              ? { statusCode: 200, result: { sobjects: Array.from({ length: 500 }, (_, i) => ({ name: `O${i}__c` })).concat([{ name: 'Account' }]) } }
              : { statusCode: 200, result: { name: r.url.split('/')[2], fields: [{ name: 'Id' }, { name: 'Name', permissionable: false }] } }
          ),
        });
      },
    } as unknown as Transport;
    const catalogue = await objectCatalogue(transport, { describe: ['PermissionSet', 'Account', 'account'] });
    expect(calls).to.have.length(1);
    expect(Object.keys(catalogue)).to.have.length(502);
    expect(catalogue.Account.notPermissionable).to.deep.equal(['Name']);
    expect(catalogue.O7__c.fields).to.deep.equal([]);
  });
});

describe('RSA key with an EC certificate', () => {
  it('says the key types differ, not only that the public keys do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trust-ec-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ec.key'), '-out', join(dir, 'ec.crt'), '-days', '30', '-subj', '/CN=ec'], { stdio: 'ignore' });
    const rsa = makeKeyPair('rsa');
    const e = await errorOf(() => validateKeyPair(rsa.privateKeyPem, readFileSync(join(dir, 'ec.crt'), 'utf8')));
    expect(e.message).to.include('RSA').and.include('EC');
    expect(e.name).to.equal('KeyCertificateTypeMismatchError');
  });
});
