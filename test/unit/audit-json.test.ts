/* The audit's JSON written in pieces: the same text as JSON.stringify(value, null, 2), on the audit's result and on the edge cases. */
import { expect } from 'chai';
import { buildAudit } from '../../src/audit/findings.js';
import { combine } from '../../src/audit/run.js';
import type { Inventory } from '../../src/audit/types.js';
import { jsonPieces, pipeJson, writeJson } from '../../src/report/json-stream.js';

const NOW = new Date('2026-11-02T09:00:00Z');

const inventory = (): Inventory => ({
  orgId: '00D000000000001AAA',
  instanceUrl: 'https://x.my.salesforce.com',
  takenAt: NOW.toISOString(),
  apps: [
    { kind: 'connected-app', id: '0H4000000000001AAA', name: 'Lead_Scoring', label: "Bob's \"Lead\" Scoring → Tool", contactEmail: undefined, clientCredentialsEnabled: false, certificate: undefined, scopes: ['full'], metadataScopes: ['Full'], pkceRequired: false, namedUserJwt: false, permittedUsers: 'AllSelfAuthorized', permissionSetIds: [], profileIds: [], refreshTokenPolicy: { type: 'infinite' }, ipRelaxation: 'BYPASS' },
  ],
  users: [{ id: 'u1', username: 'u1@x.example', name: 'U\u2028One', isActive: false, isFrozen: false, licenseName: 'Salesforce' }],
  tokens: [{ userId: 'u1', appName: 'Gone App', createdDate: '2025-01-01T00:00:00.000+0000', lastUsedDate: undefined, useCount: 2 }],
  preAuthorizedUserIds: {},
  adminProfileApps: {},
  logins: [],
  grants: [],
  readFailures: [],
});

describe('audit JSON in pieces', () => {
  it('is the text JSON.stringify(value, null, 2) gives, on an audit result', () => {
    const result = combine([buildAudit('prod', inventory(), { unusedDays: 90, maxCredentialAgeDays: 365, now: NOW })], 'high');
    expect(result.findings.length).to.be.greaterThan(2);
    expect([...jsonPieces({ status: 0, result, warnings: [] })].join('')).to.equal(JSON.stringify({ status: 0, result, warnings: [] }, null, 2));
  });

  it('handles what JSON.stringify handles: empty containers, undefined, functions, non-finite numbers, toJSON, nesting', () => {
    const cases: unknown[] = [
      {},
      [],
      { a: undefined, b: (): number => 1, c: [undefined, (): number => 1, Number.NaN, Infinity, -0], d: { e: {} }, f: [[], [{}]] },
      { when: new Date('2026-01-02T03:04:05Z'), s: 'quote " backslash \\ newline \n tab \t \u0001 é 😀' },
      [1, 'two', true, null, { three: [3] }],
      'plain',
      42,
      null,
    ];
    for (const c of cases) {
      expect([...jsonPieces(c)].join(''), JSON.stringify(c)).to.equal(JSON.stringify(c, null, 2));
      expect([...jsonPieces(c, 4)].join('')).to.equal(JSON.stringify(c, null, 4));
    }
  });

  it('writes in chunks of about 64 KB and ends with a newline', () => {
    const big = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, name: `row ${i}`, tags: ['a', 'b'] })) };
    const chunks: string[] = [];
    writeJson((c) => chunks.push(c), big);
    expect(chunks.length).to.be.greaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(c.length).to.be.within(65_536, 65_536 + 1000);
    expect(chunks.join('')).to.equal(`${JSON.stringify(big, null, 2)}\n`);
  });
});

describe('audit JSON piped', () => {
  it('waits for drain when the stream is full and hands over the whole text', async () => {
    const { Writable } = await import('node:stream');
    const got: string[] = [];
    let waits = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done): void {
        got.push(chunk.toString());
        setImmediate(done);
      },
    });
    slow.on('drain', () => waits++);
    const value = { rows: Array.from({ length: 3000 }, (_, i) => ({ i, name: `row ${i}` })) };
    await pipeJson(slow, value);
    await new Promise((r) => slow.end(r));
    expect(waits).to.be.greaterThan(0);
    expect(got.join('')).to.equal(`${JSON.stringify(value, null, 2)}\n`);
  });
});
