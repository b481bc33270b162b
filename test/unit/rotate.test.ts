/*
 * rotate's pure parts: the credential-age rule and its doctor check, the runbook's rotation log, and the plan for
 * each state a rotation can be in (a new rotation, resumed after the key pair or after the app write, rollback,
 * staged client credentials). No I/O: plans are data.
 */
import { expect } from 'chai';
import { checkById } from '../../src/checks/index.js';
import { certificateAgeDays, credentialAgeDays } from '../../src/credentials/age.js';
import { planRotation, type JwtRotation, type RotatePlanInput } from '../../src/rotate/plan.js';
import { lastRotation, rotationLog } from '../../src/rotate/runbook.js';
import { clientCredentialsContext, clientCredentialsSnapshot, CONSUMER_KEY, daysFrom, healthyContext, healthySnapshot, makeCertificate, NOW } from './snapshot-fixtures.js';

const entry = { date: '2027-03-01T12:00:00.000Z', change: 'certificate (SHA-256 fingerprint)', before: 'AA:BB', by: 'admin@acme.example (ops)' };

const jwtInput = (phase: JwtRotation['phase'], patch: Partial<JwtRotation> = {}): RotatePlanInput => {
  const snap = healthySnapshot();
  return {
    app: snap.app!,
    snap,
    waitMinutes: 0,
    runbook: '# HubSpot integration\n',
    entry,
    rotation: { flow: 'jwt', dir: '/tmp/hs', phase, rollback: false, keySize: 2048, validityDays: 365, commonName: 'HubSpot integration', username: 'hs@acme.example', keepPrevious: false, ...patch },
  };
};

const shape = (input: RotatePlanInput): string[] =>
  planRotation(input).steps.map((s) => `${s.id}:${s.action}:${s.ops.map((o) => (o.kind === 'verify' ? `verify${o.expect ? '-refused' : ''}` : o.kind === 'staged-credentials' ? `staged-${o.command}` : o.kind)).join('+')}`);

describe('rotate', () => {
  it('ages a certificate from its notBefore, and a date from itself', () => {
    expect(certificateAgeDays(makeCertificate({ notBefore: daysFrom(NOW, -400), notAfter: daysFrom(NOW, 10) }), NOW)).to.equal(400);
    expect(credentialAgeDays(daysFrom(NOW, -3), NOW)).to.equal(3);
    expect(certificateAgeDays('not a certificate', NOW)).to.equal(undefined);
  });

  it('credential-age warns past --max-credential-age with sf integration rotate as the fix, and passes within it', () => {
    const check = checkById('credential-age')!;
    const old = healthySnapshot({ app: { certificate: makeCertificate({ notBefore: daysFrom(NOW, -500), notAfter: daysFrom(NOW, 100) }) } });
    const warn = check.run(old, healthyContext());
    expect(warn.status, warn.finding).to.equal('warn');
    expect(warn.finding).to.include('500').and.include('365');
    expect(warn.fix?.command).to.equal('sf integration rotate --name HubSpot_Integration');
    expect(check.run(old, healthyContext({ maxCredentialAgeDays: 730 })).status).to.equal('pass');
    expect(check.run(healthySnapshot({ app: { certificate: undefined } }), healthyContext()).status).to.equal('skip');
  });

  it('credential-age dates a consumer secret from the runbook, else from the app, and names the source in its evidence', () => {
    const check = checkById('credential-age')!;
    const old = clientCredentialsSnapshot({ app: { createdDate: daysFrom(NOW, -400).toISOString() } });
    const warn = check.run(old, clientCredentialsContext());
    expect(warn.status, warn.finding).to.equal('warn');
    expect(warn.finding).to.include('consumer secret').and.include('400 days').and.include('since the app was created');
    expect(warn.fix?.command).to.equal('sf integration rotate --name HubSpot_Integration');
    expect(warn.evidence).to.deep.include({ maxDays: 365 });
    expect((warn.evidence?.credentials as Array<Record<string, unknown>>)[0]).to.include({ credential: 'consumer-secret', source: 'app-created', ageDays: 400 });
    // After sf integration rotate: the runbook's row for the app's consumer key dates the secret.
    const rotations = [{ date: daysFrom(NOW, -2).toISOString(), before: 'OLD_KEY', after: CONSUMER_KEY }];
    const pass = check.run(old, clientCredentialsContext({ rotations, runbookFile: '/tmp/billing/runbook.md' }));
    expect(pass.status, pass.finding).to.equal('pass');
    expect(pass.finding).to.include('since the rotation the runbook records');
    expect(pass.evidence).to.deep.include({ runbook: '/tmp/billing/runbook.md' });
    expect((pass.evidence?.credentials as Array<Record<string, unknown>>)[0]).to.include({ source: 'runbook', ageDays: 2 });
    // A Connected App's secret is rotated in Setup: no command to offer.
    const ca = check.run(clientCredentialsSnapshot({ app: { kind: 'connected-app', createdDate: daysFrom(NOW, -400).toISOString() } }), clientCredentialsContext());
    expect(ca.status).to.equal('warn');
    expect(ca.fix?.command).to.equal(undefined);
    expect(ca.fix?.setup).to.include('Manage Consumer Details');
    expect(check.run(clientCredentialsSnapshot({ app: { createdDate: undefined } }), clientCredentialsContext()).status).to.equal('skip');
  });

  it('credential-age on a JWT app whose runbook logs a rotation but whose certificate is old reports the certificate', () => {
    const check = checkById('credential-age')!;
    const old = healthySnapshot({ app: { certificate: makeCertificate({ notBefore: daysFrom(NOW, -500), notAfter: daysFrom(NOW, 100) }) } });
    const rotations = [{ date: daysFrom(NOW, -1).toISOString(), before: 'AA:BB', after: 'CC:DD' }];
    const warn = check.run(old, healthyContext({ rotations }));
    expect(warn.status).to.equal('warn');
    expect(warn.finding).to.include('certificate').and.include('500 days').and.include('since its notBefore');
    expect((warn.evidence?.credentials as Array<Record<string, unknown>>)[0]).to.include({ credential: 'certificate', source: 'certificate' });
  });

  it('the rotation log is appended to the runbook, one row per rotation, and its latest date is read back', () => {
    const once = rotationLog('# HubSpot integration\n\nText.\n', { ...entry, after: 'CC:DD' });
    expect(once).to.match(/## Rotation log\n\n\| Date \| Change \| Before \| After \| Run by \|/);
    const twice = rotationLog(once, { ...entry, date: '2027-09-01T08:00:00.000Z', after: 'EE:FF' });
    expect(twice.match(/^## Rotation log/gm)).to.have.length(1);
    expect(twice.match(/^\| 2027-/gm)).to.have.length(2);
    expect(lastRotation(twice)?.toISOString()).to.equal('2027-09-01T08:00:00.000Z');
    expect(lastRotation('# no log')).to.equal(undefined);
  });

  it('a new rotation: new pair (previous kept), the certificate patched, verified, previous refused and removed, logged', () => {
    expect(shape(jwtInput({ phase: 'start' }))).to.deep.equal([
      'certificate:create:generate-key-pair',
      'app:update:patch-app',
      'verify:unchanged:read-credentials+verify',
      'previous-key:delete:verify-refused+remove-files',
      'documents:update:write-file',
    ]);
    const plan = planRotation(jwtInput({ phase: 'start' }));
    const gen = plan.steps[0].ops[0];
    expect(gen).to.include({ kind: 'generate-key-pair', keepPrevious: true });
    const patch = plan.steps[1].ops[0];
    expect(patch.kind === 'patch-app' && patch.patch.certificate).to.deep.equal({ ref: 'certificate' });
    const verify = plan.steps[2].ops[1];
    expect(verify).to.include({ kind: 'verify', awaitCertificate: true });
  });

  it('resumed runs skip what is done: after the key pair the app write is next; after the app write only the proof', () => {
    expect(shape(jwtInput({ phase: 'pair-written' }, { newCertificatePem: 'PEM' }))[0]).to.equal('certificate:unchanged:');
    expect(shape(jwtInput({ phase: 'pair-written' }, { newCertificatePem: 'PEM' }))[1]).to.equal('app:update:patch-app');
    expect(shape(jwtInput({ phase: 'app-written' })).slice(0, 2)).to.deep.equal(['certificate:unchanged:', 'app:unchanged:']);
    expect(shape(jwtInput({ phase: 'start' }, { keepPrevious: true }))[3]).to.equal('previous-key:unchanged:verify-refused');
  });

  it('a lost key: a new pair, no previous key to prove refused, and a warning saying so', () => {
    const plan = planRotation(jwtInput({ phase: 'no-key' }));
    expect(plan.steps.find((s) => s.id === 'previous-key')?.action).to.equal('skip');
    expect(plan.warnings.join(' ')).to.match(/not on this machine/);
  });

  it('rollback: the previous certificate back on the app first, proved with the previous key, then the files moved back', () => {
    expect(shape(jwtInput({ phase: 'app-written' }, { rollback: true, previousCertificatePem: 'OLD' }))).to.deep.equal([
      'app:update:patch-app',
      'verify:unchanged:read-credentials+verify',
      'certificate:update:move-file+move-file',
      'documents:update:write-file',
    ]);
  });

  it('client credentials: stage, verify, secret to a 0600 file, rotate; --revoke-previous deletes; an expired slot is cleared first', () => {
    const snap = healthySnapshot();
    const input = (slot: { id: string; state: string } | undefined, revokePrevious: boolean): RotatePlanInput => ({
      app: snap.app!,
      snap,
      waitMinutes: 0,
      entry,
      rotation: { flow: 'client-credentials', dir: '/tmp/b', slot, revokePrevious },
    });
    expect(shape(input(undefined, false))).to.deep.equal(['staged-credentials:update:staged-stage+verify+write-file+staged-rotate', 'documents:create:write-file']);
    expect(shape(input(undefined, true))[0]).to.equal('staged-credentials:update:staged-stage+verify+write-file+staged-rotate+staged-delete');
    expect(shape(input({ id: '0Hx', state: 'Expired' }, false))[0]).to.match(/^staged-credentials:update:staged-delete\+staged-stage/);
    const write = planRotation(input(undefined, false)).steps[0].ops.find((o) => o.kind === 'write-file');
    expect(write).to.include({ secret: true });
  });
});
