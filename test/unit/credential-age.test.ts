import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { credentialAgeDays, credentialAges, credentialTooOld } from '../../src/credentials/age.js';
import { rotationEntries, rotationLog } from '../../src/rotate/runbook.js';
import { daysFrom, makeCertificate, NOW } from './snapshot-fixtures.js';

describe('credentialAgeDays', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  it('counts whole days since issue, never negative', () => {
    expect(credentialAgeDays('2026-12-01T12:00:01Z', now)).to.equal(0);
    expect(credentialAgeDays('2026-12-01T12:00:00Z', now)).to.equal(1);
    expect(credentialAgeDays(new Date('2025-12-02T12:00:00Z'), now)).to.equal(365);
    expect(credentialAgeDays('2027-01-01T00:00:00Z', now)).to.equal(0);
    expect(() => credentialAgeDays('soon', now)).to.throw(TypeError);
  });
  it('is too old only past the period', () => {
    expect(credentialTooOld('2025-12-02T12:00:00Z', 365, now)).to.equal(false);
    expect(credentialTooOld('2025-12-01T12:00:00Z', 365, now)).to.equal(true);
  });
});

describe('credentialAges: which evidence dates a credential', () => {
  const now = NOW;
  const day = (n: number): string => daysFrom(NOW, n).toISOString();
  const oldCert = makeCertificate({ notBefore: daysFrom(NOW, -500), notAfter: daysFrom(NOW, 500) });
  const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;
  const secretApp = { clientCredentialsEnabled: true, consumerKey: 'KEY_NOW', createdDate: day(-400).replace('Z', '+0000') };

  it('a certificate is as old as its notBefore when the runbook says nothing', () => {
    expect(credentialAges({ certificate: oldCert, clientCredentialsEnabled: false }, [], now)).to.deep.equal([
      { credential: 'certificate', source: 'certificate', since: daysFrom(NOW, -500).toISOString().replace(/\.\d+Z$/, '.000Z'), ageDays: 500 },
    ]);
  });

  it('a runbook rotation of another certificate does not make the old certificate in the org young: the certificate shows', () => {
    const rows = [{ date: day(-10), before: 'AA:BB', after: fingerprint(makeCertificate()) }];
    const [age] = credentialAges({ certificate: oldCert, clientCredentialsEnabled: false }, rows, now);
    expect(age).to.include({ credential: 'certificate', source: 'certificate', ageDays: 500 });
  });

  it('the rotation that put this very certificate on the app dates it when later than notBefore (a pair brought to rotate)', () => {
    const rows = [{ date: day(-20), before: 'AA:BB', after: fingerprint(oldCert).replace(/:/g, '').toLowerCase() }];
    expect(credentialAges({ certificate: oldCert, clientCredentialsEnabled: false }, rows, now)[0]).to.include({ source: 'runbook', ageDays: 20 });
    // A notBefore newer than the log wins: the most recent evidence.
    const fresh = makeCertificate({ notBefore: daysFrom(NOW, -3) });
    expect(credentialAges({ certificate: fresh, clientCredentialsEnabled: false }, [{ date: day(-20), before: 'AA', after: fingerprint(fresh) }], now)[0]).to.include({ source: 'certificate', ageDays: 3 });
  });

  it('a certificate rolled back is as old as it was before the log: the rollback row does not date it', () => {
    const fp = fingerprint(oldCert);
    const rows = [
      { date: day(-30), before: fp, after: 'CC:DD' },
      { date: day(-29), before: 'CC:DD', after: fp },
    ];
    expect(credentialAges({ certificate: oldCert, clientCredentialsEnabled: false }, rows, now)[0]).to.include({ source: 'certificate', ageDays: 500 });
  });

  it('a consumer secret is as old as the app without a rotation, and as the rotation that made its consumer key with one', () => {
    expect(credentialAges(secretApp, [], now)).to.deep.equal([{ credential: 'consumer-secret', source: 'app-created', since: day(-400), ageDays: 400 }]);
    const rotated = [{ date: day(-5), before: 'KEY_OLD', after: 'KEY_NOW' }];
    expect(credentialAges(secretApp, rotated, now)[0]).to.include({ source: 'runbook', ageDays: 5 });
    // The log rotated a key the org no longer has (another app, another org): the app's creation stands.
    expect(credentialAges(secretApp, [{ date: day(-5), before: 'X', after: 'KEY_ELSEWHERE' }], now)[0]).to.include({ source: 'app-created', ageDays: 400 });
    // Without the consumer key, the latest secret rotation logged stands for it; certificate rows never do.
    const unknownKey = { ...secretApp, consumerKey: undefined };
    expect(credentialAges(unknownKey, [...rotated, { date: day(-1), before: '-', after: fingerprint(oldCert) }], now)[0]).to.include({ source: 'runbook', ageDays: 5 });
  });

  it('no evidence, no age; both credentials are reported, oldest first', () => {
    expect(credentialAges({ clientCredentialsEnabled: true }, [], now)).to.deep.equal([]);
    expect(credentialAges({ clientCredentialsEnabled: false, certificate: 'not a certificate' }, [], now)).to.deep.equal([]);
    const both = credentialAges({ ...secretApp, certificate: oldCert }, [], now);
    expect(both.map((a) => `${a.credential}:${a.source}:${a.ageDays}`)).to.deep.equal(['certificate:certificate:500', 'consumer-secret:app-created:400']);
  });

  it('reads the rotation log back from the runbook as rotate writes it, oldest first', () => {
    let text = rotationLog('# Billing integration\n', { date: day(-2), change: 'consumer key and secret (consumer key)', before: 'K1', after: 'K2', by: 'admin@acme.example (ops|ci)' });
    text = rotationLog(text, { date: day(-40), change: 'certificate (SHA-256 fingerprint)', before: 'AA:BB', after: 'CC:DD', by: 'admin@acme.example' });
    const rows = rotationEntries(text);
    expect(rows.map((r) => r.after)).to.deep.equal(['CC:DD', 'K2']);
    expect(rows[1]).to.deep.equal({ date: day(-2), change: 'consumer key and secret (consumer key)', before: 'K1', after: 'K2', by: 'admin@acme.example (ops|ci)' });
    expect(rotationEntries('# A runbook without a log\n')).to.deep.equal([]);
    expect(credentialAges({ ...secretApp, consumerKey: 'K2' }, rows, now)[0]).to.include({ source: 'runbook', ageDays: 2 });
  });
});
