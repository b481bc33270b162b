/*
 * src/hooks/diagnostics.ts: the `sf doctor` hook, with a fake SfDoctor, against real key files in a temp directory.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lifecycle, Logger } from '@salesforce/core';
import { expect } from 'chai';
import { collectFindings, hook, PLUGIN_NAME } from '../../src/hooks/diagnostics.js';
import { makeKeyPair, type TestKeyPair } from '../helpers/credentials.js';

type FakeDoctor = {
  suggestions: string[];
  pluginData: Array<{ pluginName: string; data: unknown }>;
  addSuggestion(suggestion: string): void;
  addPluginData(pluginName: string, data: unknown): void;
};

const fakeDoctor = (): FakeDoctor => {
  const doctor: FakeDoctor = {
    suggestions: [],
    pluginData: [],
    addSuggestion: (suggestion) => {
      doctor.suggestions.push(suggestion);
    },
    addPluginData: (pluginName, data) => {
      doctor.pluginData.push({ pluginName, data });
    },
  };
  return doctor;
};

const AUDIENCE_VARIABLES = ['SF_AUDIENCE_URL', 'SFDX_AUDIENCE_URL'] as const;
const DIAGNOSTIC_EVENT = 'Doctor:diagnostic';

/** The middle of the key's base64 body: must never appear in anything the hook hands over. */
const keyBody = (pem: string): string => pem.split('\n')[3];

describe('sf doctor hook', () => {
  const originalCwd = process.cwd();
  const savedEnv: Record<string, string | undefined> = {};
  let dir: string;
  let fresh: TestKeyPair;
  let expiring: TestKeyPair;
  let expired: TestKeyPair;

  before(() => {
    // @salesforce/core's log writer is a worker thread started with this process's `--loader ts-node/esm`, which
    // it resolves from the working directory: start it here, before any test moves into a temp directory.
    Logger.childFromRoot('hooks.test');
    fresh = makeKeyPair('fresh', 2048, 365);
    expiring = makeKeyPair('expiring', 2048, 10);
    expired = makeKeyPair('expired', 2048, -3);
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'doctor-hook-'));
    process.chdir(dir);
    for (const name of AUDIENCE_VARIABLES) {
      savedEnv[name] = process.env[name];
      delete process.env[name];
    }
  });

  afterEach(async () => {
    process.chdir(originalCwd);
    for (const name of AUDIENCE_VARIABLES) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
    Lifecycle.getInstance().removeAllListeners(DIAGNOSTIC_EVENT);
    await rm(dir, { recursive: true, force: true });
  });

  const put = async (path: string, content: string, mode: number): Promise<void> => {
    await writeFile(join(dir, path), content);
    await chmod(join(dir, path), mode);
  };

  const runHook = async (): Promise<FakeDoctor> => {
    const doctor = fakeDoctor();
    await hook({ doctor });
    return doctor;
  };

  const chmodSuggestions = (doctor: FakeDoctor): string[] => doctor.suggestions.filter((s) => s.includes('chmod 600'));

  it('suggests chmod 600 for a private key readable by others (0644)', async () => {
    await put('private-key.pem', fresh.privateKeyPem, 0o644);
    const doctor = await runHook();
    const found = chmodSuggestions(doctor);
    expect(found).to.have.length(1);
    expect(found[0]).to.include('private-key.pem').and.include('0644').and.include('`chmod 600 private-key.pem`');
  });

  it('says nothing about a private key that is 0600', async () => {
    await put('private-key.pem', fresh.privateKeyPem, 0o600);
    const doctor = await runHook();
    expect(chmodSuggestions(doctor)).to.deep.equal([]);
    const findings = await collectFindings();
    expect(findings.keyFiles).to.deep.equal([{ file: 'private-key.pem', mode: '0600', permissive: false, keyType: 'RSA', keyBits: 2048 }]);
  });

  it('flags group-only access (0640) too, and a certificate that is 0644 not at all', async () => {
    await put('server.key', fresh.privateKeyPem, 0o640);
    await put('cert.pem', fresh.certificatePem, 0o644);
    const doctor = await runHook();
    const found = chmodSuggestions(doctor);
    expect(found).to.have.length(1);
    expect(found[0]).to.include('chmod 600 server.key');
  });

  it('looks into *-integration/ subdirectories, one level only, and not into other directories', async () => {
    await mkdir(join(dir, 'acme-integration', 'old-integration'), { recursive: true });
    await mkdir(join(dir, 'keys'));
    await put(join('acme-integration', 'private-key.pem'), fresh.privateKeyPem, 0o644);
    await put(join('acme-integration', 'old-integration', 'private-key.pem'), fresh.privateKeyPem, 0o644);
    await put(join('keys', 'private-key.pem'), fresh.privateKeyPem, 0o644);
    const doctor = await runHook();
    const found = chmodSuggestions(doctor);
    expect(found).to.have.length(1);
    expect(found[0]).to.include('chmod 600 acme-integration/private-key.pem');
    expect((await collectFindings()).scannedDirs).to.deep.equal(['.', 'acme-integration']);
  });

  it('quotes a path with spaces in the chmod command', async () => {
    await put('my key.pem', fresh.privateKeyPem, 0o604);
    const [suggestion] = chmodSuggestions(await runHook());
    expect(suggestion).to.include("chmod 600 'my key.pem'");
  });

  it('reports a certificate expiring within 30 days with its file and date, and not one with a year left', async () => {
    await mkdir(join(dir, 'acme-integration'));
    await put(join('acme-integration', 'cert.pem'), expiring.certificatePem, 0o644);
    await put('cert.pem', fresh.certificatePem, 0o644);
    const doctor = await runHook();
    const certs = doctor.suggestions.filter((s) => /certificate/i.test(s) && /expires|expired/.test(s));
    expect(certs).to.have.length(1);
    const date = new Date(new X509Certificate(expiring.certificatePem).validTo).toISOString().slice(0, 10);
    expect(certs[0]).to.include('acme-integration/cert.pem').and.include(date).and.include('Rotate');
  });

  it('reports an expired certificate as expired', async () => {
    await put('cert.crt', expired.certificatePem, 0o644);
    const doctor = await runHook();
    const certs = doctor.suggestions.filter((s) => s.includes('cert.crt'));
    expect(certs).to.have.length(1);
    expect(certs[0]).to.match(/expired on \d{4}-\d{2}-\d{2}/);
  });

  it('reports SF_AUDIENCE_URL and the legacy SFDX_AUDIENCE_URL with their values', async () => {
    let doctor = await runHook();
    expect(doctor.suggestions.filter((s) => s.includes('AUDIENCE_URL'))).to.deep.equal([]);

    process.env.SF_AUDIENCE_URL = 'https://test.salesforce.com';
    doctor = await runHook();
    const [audience] = doctor.suggestions.filter((s) => s.includes('SF_AUDIENCE_URL'));
    expect(audience).to.include('https://test.salesforce.com').and.include('audience is invalid');

    delete process.env.SF_AUDIENCE_URL;
    process.env.SFDX_AUDIENCE_URL = 'https://login.salesforce.com';
    doctor = await runHook();
    expect(doctor.suggestions.some((s) => s.includes('SFDX_AUDIENCE_URL') && s.includes('https://login.salesforce.com'))).to.equal(true);
  });

  it('always suggests sf integration doctor, last, even in an empty directory', async () => {
    const doctor = await runHook();
    expect(doctor.suggestions).to.have.length(1);
    expect(doctor.suggestions[0]).to.include('sf integration doctor --target-org <org> --name <app>');
  });

  it('hands the findings to addPluginData under the plugin name and emits pass/warn/fail diagnostics', async () => {
    const statuses: Array<{ testName: string; status: string }> = [];
    Lifecycle.getInstance().on(DIAGNOSTIC_EVENT, async (status: { testName: string; status: string }) => {
      statuses.push(status);
      return Promise.resolve();
    });
    await put('private-key.pem', fresh.privateKeyPem, 0o644);
    await put('cert.pem', expiring.certificatePem, 0o644);
    const doctor = await runHook();
    expect(doctor.pluginData).to.have.length(1);
    expect(doctor.pluginData[0].pluginName).to.equal(PLUGIN_NAME);
    const data = doctor.pluginData[0].data as { keyFiles: Array<{ file: string; permissive: boolean }>; certificates: Array<{ status: string }> };
    expect(data.keyFiles).to.deep.include({ file: 'private-key.pem', mode: '0644', permissive: true, keyType: 'RSA', keyBits: 2048 });
    expect(data.certificates.map((c) => c.status)).to.deep.equal(['expiring']);
    expect(statuses.map((s) => s.status)).to.deep.equal(['fail', 'warn', 'pass']);
    expect(statuses.every((s) => s.testName.startsWith(`[${PLUGIN_NAME}]`))).to.equal(true);
  });

  it('never hands over key material', async () => {
    process.env.SF_AUDIENCE_URL = 'https://test.salesforce.com';
    await mkdir(join(dir, 'acme-integration'));
    // A file holding both key and certificate, world-readable, next to a loose key in a subdirectory.
    await put('bundle.pem', `${fresh.privateKeyPem}${expiring.certificatePem}`, 0o666);
    await put(join('acme-integration', 'private-key.pem'), expiring.privateKeyPem, 0o644);
    const doctor = await runHook();
    expect(doctor.suggestions.length).to.be.greaterThan(3);
    const everything = JSON.stringify(doctor);
    expect(everything).not.to.include('PRIVATE KEY');
    expect(everything).not.to.include('BEGIN');
    expect(everything).not.to.include(keyBody(fresh.privateKeyPem));
    expect(everything).not.to.include(keyBody(expiring.privateKeyPem));
  });
});
