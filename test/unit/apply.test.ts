/*
 * applyPlan without HTTP: record writes go in all-or-none composite requests of at most 25, Ids created in one
 * request feed the next, and a failure leaves earlier steps done, the cause failed and the rest pending.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { applyPlan, outcomeExitCode } from '../../src/plan/apply.js';
import { textWithRefs } from '../../src/plan/local.js';
import type { Plan, Step } from '../../src/plan/types.js';
import { ApiCallError, type CompositeResult, type CompositeSubrequest, type Transport } from '../../src/org/transport.js';

type Call = CompositeSubrequest[];

/** A transport that records composite calls and answers from a script. */
const fakeTransport = (answer: (call: Call, n: number) => CompositeResult[]): { transport: Transport; calls: Call[] } => {
  const calls: Call[] = [];
  const transport = {
    composite: (subs: CompositeSubrequest[]): Promise<CompositeResult[]> => {
      calls.push(subs);
      return Promise.resolve(answer(subs, calls.length));
    },
  } as unknown as Transport;
  return { transport, calls };
};

const ok = (call: Call): CompositeResult[] => call.map((s, i) => ({ referenceId: s.referenceId, ok: true, id: `0PSok${i}` }));

const plan = (fieldCount: number): Plan => {
  const steps: Step[] = [
    { id: 'permission-set', action: 'create', subject: 'HubSpot_Integration', changes: [], ops: [{ kind: 'create', sobject: 'PermissionSet', fields: { Name: 'HubSpot_Integration' }, saveAs: 'permissionSet' }] },
    {
      id: 'field-permissions',
      action: 'create',
      subject: 'fields',
      changes: [],
      ops: Array.from({ length: fieldCount }, (_, i) => ({
        kind: 'create' as const,
        sobject: 'FieldPermissions',
        fields: { ParentId: { ref: 'permissionSet' as const }, SobjectType: 'Account', Field: `Account.F${i}__c`, PermissionsRead: true, PermissionsEdit: false },
      })),
    },
    { id: 'permission-set-assignment', action: 'create', subject: 'a', changes: [], ops: [{ kind: 'create', sobject: 'PermissionSetAssignment', fields: { AssigneeId: '005000000000001AAA', PermissionSetId: { ref: 'permissionSet' } } }] },
  ];
  return { steps, warnings: [] };
};

describe('applyPlan', () => {
  it('sends up to 25 writes per all-or-none request and resolves references across requests', async () => {
    const { transport, calls } = fakeTransport(ok);
    const outcome = await applyPlan(plan(30), transport);
    expect(outcome.failed).to.be.false;
    expect(calls.map((c) => c.length)).to.deep.equal([25, 7]);
    expect(calls[0][1].body?.ParentId).to.equal('@{permissionSet.id}');
    expect(calls[1][0].body?.ParentId).to.equal('0PSok0');
    expect(outcome.results.map((r) => r.status)).to.deep.equal(['created', 'created', 'created']);
  });

  it('reports the cause as failed and what the org rolled back as pending', async () => {
    const { transport } = fakeTransport((call, n) =>
      n === 1
        ? ok(call)
        : call.map((s, i) => ({
            referenceId: s.referenceId,
            ok: false,
            error: i === 0 ? new ApiCallError('INVALID_FIELD', 'bad field', 400) : new ApiCallError('PROCESSING_HALTED', 'rolled back', 400),
          }))
    );
    const outcome = await applyPlan(plan(30), transport);
    expect(outcome.failed).to.be.true;
    expect(outcome.results.map((r) => `${r.name}:${r.status}`)).to.deep.equal(['permission-set:created', 'field-permissions:failed', 'permission-set-assignment:pending']);
    expect(outcome.results[1].error).to.match(/INVALID_FIELD: bad field/);
  });
});

describe('applyPlan: local files, reads back and the journal', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apply-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const noOrg = { apiVersion: '66.0', instanceUrl: 'http://127.0.0.1:9' } as unknown as Transport;

  it('generates the key pair as a step (0600 key), keeps the previous pair when asked, and fills text from run values', async () => {
    await writeFile(join(dir, 'private-key.pem'), 'old key', { mode: 0o600 });
    await writeFile(join(dir, 'cert.pem'), 'old certificate');
    const steps: Step[] = [
      { id: 'certificate', action: 'create', subject: 'RSA 2048', changes: [], ops: [{ kind: 'generate-key-pair', dir, keySize: 2048, validityDays: 30, commonName: 'Rotated integration', keepPrevious: true }] },
      {
        id: 'documents',
        action: 'create',
        subject: 'runbook.md',
        changes: [],
        ops: [{ kind: 'write-file', path: join(dir, 'docs', 'runbook.md'), content: textWithRefs((v) => `key ${v('consumerKey')}, expires ${v('certificateExpires')}`), secret: false }],
      },
    ];
    const outcome = await applyPlan({ steps, warnings: [] }, noOrg, { values: { consumerKey: '3MVG9abc' } });
    expect(outcome.failed, JSON.stringify(outcome.results)).to.equal(false);
    expect(await readFile(join(dir, 'private-key.previous.pem'), 'utf8')).to.equal('old key');
    expect(await readFile(join(dir, 'cert.previous.pem'), 'utf8')).to.equal('old certificate');
    expect((await stat(join(dir, 'private-key.pem'))).mode & 0o777).to.equal(0o600);
    expect(outcome.values.certificate).to.equal(await readFile(join(dir, 'cert.pem'), 'utf8'));
    expect(await readFile(join(dir, 'docs', 'runbook.md'), 'utf8')).to.equal(`key 3MVG9abc, expires ${outcome.values.certificateExpires ?? ''}`);
    expect(outcome.values.certificateExpires).to.match(/^\d{4}-\d\d-\d\dT/);
    // The journal names what was written, never what it holds.
    expect(outcome.journal.map((e) => `${e.step} ${e.op} ${e.org ? 'org' : 'local'} ${e.outcome}`)).to.deep.equal([
      'certificate generate-key-pair local done',
      'documents write-file local done',
    ]);
    expect(JSON.stringify(outcome.journal)).to.not.include('PRIVATE KEY');
  });

  it('leaves a secret file alone when the content did not change, and rewrites it 0600 when it did', async () => {
    const path = join(dir, 'consumer-secret.txt');
    const step = (): Step => ({ id: 'verify', action: 'unchanged', subject: 's', changes: [], ops: [{ kind: 'write-file', path, content: [{ ref: 'consumerSecret' }, '\n'], secret: true, onlyIfChanged: true }] });
    await writeFile(path, 'S1\n', { mode: 0o644 });
    await applyPlan({ steps: [step()], warnings: [] }, noOrg, { values: { consumerSecret: 'S1' } });
    expect((await stat(path)).mode & 0o777, 'untouched').to.equal(0o644);
    await applyPlan({ steps: [step()], warnings: [] }, noOrg, { values: { consumerSecret: 'S2' } });
    expect(await readFile(path, 'utf8')).to.equal('S2\n');
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
  });

  it('revokes tokens at the org host: revoked, already gone, or failed with Salesforce\'s error (the token never in the journal)', async () => {
    const answers: Record<string, [number, string]> = {
      live: [200, ''],
      gone: [400, '{"error":"invalid_token","error_description":"invalid token"}'],
      odd: [400, '{"error":"unsupported_token_type","error_description":"this token type is not supported"}'],
    };
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token') ?? '';
        seen.push(`${req.method ?? ''} ${req.url ?? ''} ${token}`);
        const [status, text] = answers[token] ?? [500, ''];
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const org = { apiVersion: '66.0', instanceUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as unknown as Transport;
    try {
      const steps: Step[] = [{ id: 'app', action: 'delete', subject: "Bob's Lead Scoring Tool", changes: [], ops: ['live', 'gone', 'odd'].map((token, i) => ({ kind: 'revoke-token' as const, token, label: `token ${i + 1}` })) }];
      const outcome = await applyPlan({ steps, warnings: [] }, org);
      expect(seen).to.deep.equal(['POST /services/oauth2/revoke live', 'POST /services/oauth2/revoke gone', 'POST /services/oauth2/revoke odd']);
      expect(outcome.journal.map((e) => `${e.target} ${e.outcome}`)).to.deep.equal(['token 1 done', 'token 2 done', 'token 3 failed']);
      expect(outcome.results[0].error).to.match(/token 3.*unsupported_token_type/);
      expect(JSON.stringify(outcome.journal)).to.not.match(/"(live|gone|odd)"/);
      // Two tokens are revoked: the org changed, and a re-run revokes the rest.
      expect(outcomeExitCode(outcome)).to.equal(68);
    } finally {
      server.close();
    }
  });
});

describe('outcomeExitCode: the exit-68 rule every writing command shares', () => {
  it('0 when done, 68 when some steps wrote and another failed, 1 when the failure came before any write', () => {
    expect(outcomeExitCode({ failed: false, results: [{ status: 'created' }, { status: 'unchanged' }] })).to.equal(0);
    expect(outcomeExitCode({ failed: true, results: [{ status: 'created' }, { status: 'failed' }, { status: 'pending' }] })).to.equal(68);
    expect(outcomeExitCode({ failed: true, results: [{ status: 'unchanged' }, { status: 'failed' }, { status: 'pending' }] })).to.equal(1);
    const halfWay = { step: 'app' as const, op: 'revoke-token' as const, target: 'token 1', org: true, outcome: 'done' as const };
    expect(outcomeExitCode({ failed: true, results: [{ status: 'failed' }], journal: [halfWay] })).to.equal(68);
  });
});
