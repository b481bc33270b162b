/* REST API and query resources of the emulator, over HTTP. */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { DEFAULT_FIXTURE, startEmulator, type Emulator, type Fixture } from './index.js';

type Json = Record<string, unknown>;
type Answer = { status: number; body: unknown; headers: Headers };

const ADMIN = '005Em0000000001IAA';
const V = '/services/data/v66.0';

const baseFixture = (): Fixture => JSON.parse(readFileSync(DEFAULT_FIXTURE, 'utf8')) as Fixture;

const client = (emu: Emulator) => async (method: string, path: string, body?: unknown, auth = true): Promise<Answer> => {
  const res = await fetch(emu.instanceUrl + path, {
    method,
    headers: { ...(auth ? { Authorization: `Bearer ${emu.accessToken}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
};

const q = (soql: string, resource = 'query'): string => `${V}/${resource}?q=${encodeURIComponent(soql)}`;
const account = (Name?: string): Json => ({ attributes: { type: 'Account' }, ...(Name === undefined ? {} : { Name }) });

describe('REST API', () => {
  let emu: Emulator;
  let call: ReturnType<typeof client>;

  before(async () => {
    emu = await startEmulator({ fixture: baseFixture() });
    call = client(emu);
  });
  after(async () => emu.close());
  beforeEach(() => emu.clearLog());

  describe('versions, resources, limits', () => {
    it('lists API versions without authentication', async () => {
      const res = await call('GET', '/services/data', undefined, false);
      expect(res.status).to.equal(200);
      const list = res.body as Json[];
      expect(list[0]).to.deep.equal({ label: "Winter '11", url: '/services/data/v20.0', version: '20.0' });
      expect(list[list.length - 1]).to.deep.equal({ label: "Spring '26", url: '/services/data/v66.0', version: '66.0' });
    });

    it('answers the resource map and limits with a token only', async () => {
      expect((await call('GET', V, undefined, false)).body).to.deep.equal([{ message: 'INVALID_AUTH_HEADER', errorCode: 'INVALID_AUTH_HEADER' }]);
      expect(((await call('GET', V)).body as Json).query).to.equal(`${V}/query`);
      const limits = (await call('GET', `${V}/limits`)).body as Record<string, { Max: number; Remaining: number }>;
      expect(limits.DailyApiRequests.Max).to.be.a('number');
      expect(limits.DailyApiRequests.Remaining).to.be.at.most(limits.DailyApiRequests.Max);
      const counts = (await call('GET', `${V}/limits/recordCount?sObjects=User`)).body;
      expect(counts).to.deep.equal({ sObjects: [{ count: 1, name: 'User' }] });
    });

    it('answers NOT_FOUND for an API version the org does not serve', async () => {
      const res = await call('GET', '/services/data/v99.0/query?q=SELECT+Id+FROM+User');
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    });
  });

  describe('query resources', () => {
    it('answers records with attributes and logs the SOQL; reads write nothing', async () => {
      const res = await call('GET', q('SELECT Id, Username, Profile.Name FROM User'));
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        totalSize: 1,
        done: true,
        records: [
          {
            attributes: { type: 'User', url: `${V}/sobjects/User/${ADMIN}` },
            Id: ADMIN,
            Username: 'admin@emulated-org.example',
            Profile: { attributes: { type: 'Profile', url: `${V}/sobjects/Profile/00eEm0000000001IAA` }, Name: 'System Administrator' },
          },
        ],
      });
      const log = emu.log();
      expect(log.entries[0].soql).to.equal('SELECT Id, Username, Profile.Name FROM User');
      expect(log.writes).to.equal(0);
    });

    it('serves /query/ with a trailing slash, /queryAll and /tooling/query', async () => {
      expect(((await call('GET', `${V}/query/?q=SELECT+COUNT()+FROM+User`)).body as Json).totalSize).to.equal(1);
      expect(((await call('GET', q('SELECT Id FROM User', 'queryAll'))).body as Json).totalSize).to.equal(1);
      const tooling = await call('GET', q('SELECT Id FROM Certificate', 'tooling/query'));
      expect(tooling.body).to.deep.equal({ totalSize: 0, done: true, records: [] });
      expect((await call('GET', q('SELECT Id FROM Certificate'))).status).to.equal(400);
    });

    it('answers the real CLI: ScratchOrgInfo is INVALID_TYPE (not a dev hub), User by Id works', async () => {
      const res = await call('GET', '/services/data/v51.0/query?q=SELECT%20Id%20FROM%20ScratchOrgInfo%20limit%201');
      expect(res.status).to.equal(400);
      expect((res.body as Json[])[0].errorCode).to.equal('INVALID_TYPE');
      expect((res.body as Json[])[0].message).to.contain("sObject type 'ScratchOrgInfo' is not supported.");
      const user = await call('GET', `/services/data/v51.0/sobjects/User/${ADMIN}`);
      expect(user.status).to.equal(200);
      expect((user.body as Json).Username).to.equal('admin@emulated-org.example');
      expect((user.body as Json).attributes).to.deep.equal({ type: 'User', url: `/services/data/v51.0/sobjects/User/${ADMIN}` });
    });

    it('answers query errors as [{message, errorCode}] with status 400', async () => {
      const res = await call('GET', q('SELECT Id, Nope FROM User'));
      expect(res.status).to.equal(400);
      expect(res.body).to.deep.equal([
        {
          message:
            "\nSELECT Id, Nope FROM User\n           ^\nERROR at Row:1:Column:12\nNo such column 'Nope' on entity 'User'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
          errorCode: 'INVALID_FIELD',
        },
      ]);
      const malformed = await call('GET', q('SELECT FROM User'));
      expect(malformed.status).to.equal(400);
      expect((malformed.body as Json[])[0].errorCode).to.equal('MALFORMED_QUERY');
      expect((await call('GET', `${V}/query`)).status).to.equal(400);
    });
  });

  describe('describe', () => {
    it('describes an object: fields, references, picklists, child relationships, key prefix', async () => {
      const d = (await call('GET', `${V}/sobjects/User/describe`)).body as Json & { fields: Json[]; childRelationships: Json[] };
      expect(d.name).to.equal('User');
      expect(d.keyPrefix).to.equal('005');
      const profileId = d.fields.find((f) => f.name === 'ProfileId')!;
      expect(profileId).to.include({ type: 'reference', relationshipName: 'Profile', nillable: false, createable: true });
      expect(profileId.referenceTo).to.deep.equal(['Profile']);
      const enc = d.fields.find((f) => f.name === 'EmailEncodingKey')!;
      expect((enc.picklistValues as Json[]).map((p) => p.value)).to.include('UTF-8');
      expect(d.fields.find((f) => f.name === 'Name')).to.include({ createable: false, updateable: false });
      expect(d.childRelationships).to.deep.include({
        childSObject: 'PermissionSetAssignment',
        field: 'AssigneeId',
        relationshipName: 'PermissionSetAssignments',
        cascadeDelete: false,
        restrictedDelete: false,
        deprecatedAndHidden: false,
      });
      expect((await call('GET', `${V}/sobjects/Nope/describe`)).status).to.equal(404);
    });

    it('lists data objects in describeGlobal and tooling objects on /tooling/sobjects', async () => {
      const g = (await call('GET', `${V}/sobjects`)).body as { sobjects: Json[] };
      const names = g.sobjects.map((s) => s.name);
      expect(names).to.include.members(['User', 'PermissionSet', 'OauthToken']);
      expect(names).not.to.include('Certificate');
      const t = (await call('GET', `${V}/tooling/sobjects`)).body as { sobjects: Json[] };
      expect(t.sobjects.map((s) => s.name)).to.include('Certificate').and.not.include('User');
    });
  });

  describe('sObject CRUD', () => {
    it('creates (201), retrieves with ?fields=, updates (204) and deletes (204), counting writes', async () => {
      const created = await call('POST', `${V}/sobjects/Account`, { Name: 'Acme' });
      expect(created.status).to.equal(201);
      const { id, success, errors } = created.body as { id: string; success: boolean; errors: unknown[] };
      expect(id).to.match(/^001[0-9A-Za-z]{15}$/);
      expect({ success, errors }).to.deep.equal({ success: true, errors: [] });
      expect(emu.log().writes).to.equal(1);

      const got = await call('GET', `${V}/sobjects/Account/${id}?fields=Name,Industry`);
      expect(got.body).to.deep.equal({ attributes: { type: 'Account', url: `${V}/sobjects/Account/${id}` }, Name: 'Acme', Industry: null });
      expect(emu.log().writes).to.equal(1);

      const patched = await call('PATCH', `${V}/sobjects/Account/${id}`, { Industry: 'Energy' });
      expect(patched.status).to.equal(204);
      expect(((await call('GET', `${V}/sobjects/Account/${id}`)).body as Json).Industry).to.equal('Energy');

      expect((await call('DELETE', `${V}/sobjects/Account/${id}`)).status).to.equal(204);
      expect(emu.log().writes).to.equal(3);
      const gone = await call('GET', `${V}/sobjects/Account/${id}`);
      expect(gone.status).to.equal(404);
      expect(gone.body).to.deep.equal([{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    });

    it('answers store validation errors as REST error bodies', async () => {
      const missing = await call('POST', `${V}/sobjects/Account`, { Industry: 'Energy' });
      expect(missing.status).to.equal(400);
      expect(missing.body).to.deep.equal([{ message: 'Required fields are missing: [Name]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] }]);
      const unknown = await call('POST', `${V}/sobjects/Account`, { Name: 'x', Bogus: 1 });
      expect((unknown.body as Json[])[0].errorCode).to.equal('INVALID_FIELD');
      expect((await call('GET', `${V}/sobjects/User/${ADMIN}?fields=Bogus`)).status).to.equal(400);
      expect((await call('POST', `${V}/sobjects/Nope`, { Name: 'x' })).status).to.equal(404);
      expect(emu.log().writes).to.equal(0);
    });
  });

  describe('sObject Collections', () => {
    it('creates many and answers SaveResults in order', async () => {
      const res = await call('POST', `${V}/composite/sobjects`, { allOrNone: false, records: [account('A1'), account('A2')] });
      expect(res.status).to.equal(200);
      const results = res.body as Array<{ id: string; success: boolean; errors: unknown[] }>;
      expect(results).to.have.length(2);
      for (const r of results) expect(r).to.deep.equal({ id: r.id, success: true, errors: [] });
      expect(emu.log().writes).to.equal(2);
    });

    it('with allOrNone rolls back everything and marks the others ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
      const before = ((await call('GET', q('SELECT COUNT() FROM Account'))).body as Json).totalSize;
      const res = await call('POST', `${V}/composite/sobjects`, { allOrNone: true, records: [account('Ok'), account()] });
      expect(res.body).to.deep.equal([
        {
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
        },
        { success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [Name]', fields: ['Name'] }] },
      ]);
      expect(((await call('GET', q('SELECT COUNT() FROM Account'))).body as Json).totalSize).to.equal(before);
      expect(emu.log().writes).to.equal(0);
    });

    it('without allOrNone keeps the successes', async () => {
      const res = await call('POST', `${V}/composite/sobjects`, { records: [account('Kept'), account()] });
      const [ok, bad] = res.body as Array<{ success: boolean }>;
      expect([ok.success, bad.success]).to.deep.equal([true, false]);
      expect(((await call('GET', q("SELECT COUNT() FROM Account WHERE Name = 'Kept'"))).body as Json).totalSize).to.equal(1);
    });

    it('updates, retrieves many and deletes many', async () => {
      const created = (await call('POST', `${V}/composite/sobjects`, { records: [account('U1'), account('U2')] })).body as Array<{ id: string }>;
      const ids = created.map((c) => c.id);
      const upd = await call('PATCH', `${V}/composite/sobjects`, {
        allOrNone: false,
        records: ids.map((Id) => ({ attributes: { type: 'Account' }, Id, Industry: 'Banking' })),
      });
      expect((upd.body as Json[]).map((r) => r.success)).to.deep.equal([true, true]);
      const missing = '001Em00000000ZZAAA';
      const many = await call('POST', `${V}/composite/sobjects/Account`, { ids: [ids[0], missing], fields: ['Name', 'Industry'] });
      expect(many.body).to.deep.equal([
        { attributes: { type: 'Account', url: `${V}/sobjects/Account/${ids[0]}` }, Name: 'U1', Industry: 'Banking' },
        null,
      ]);
      const del = await call('DELETE', `${V}/composite/sobjects?ids=${ids.join(',')}`);
      expect(del.body).to.deep.equal(ids.map((id) => ({ id, success: true, errors: [] })));
      const again = (await call('DELETE', `${V}/composite/sobjects?ids=${ids[0]}`)).body as Array<{ success: boolean; errors: Json[] }>;
      expect(again[0].success).to.equal(false);
      expect(again[0].errors[0].statusCode).to.equal('ENTITY_IS_DELETED');
    });
  });

  describe('Composite', () => {
    it('runs subrequests in order with @{ref} references, in the captured shape', async () => {
      const res = await call('POST', `${V}/composite`, {
        compositeRequest: [
          { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'refAccount', body: { Name: 'Composite Co' } },
          { method: 'POST', url: `${V}/sobjects/Contact`, referenceId: 'refContact', body: { LastName: 'C', AccountId: '@{refAccount.id}' } },
          // As in the guide's example, the reference stands unencoded in the query string.
          { method: 'GET', url: `${V}/query/?q=SELECT+LastName,+Account.Name+FROM+Contact+WHERE+AccountId+=+'@{refAccount.id}'`, referenceId: 'refQuery' },
          { method: 'GET', url: `${V}/sobjects/Account/@{refAccount.id}?fields=Name`, referenceId: 'refGet' },
          { method: 'GET', url: q('select count() from XYZZY'), referenceId: 'refXYZZY' },
        ],
      });
      expect(res.status).to.equal(200);
      const out = (res.body as { compositeResponse: Array<{ body: unknown; httpHeaders: Json; httpStatusCode: number; referenceId: string }> }).compositeResponse;
      expect(out.map((r) => [r.referenceId, r.httpStatusCode])).to.deep.equal([
        ['refAccount', 201],
        ['refContact', 201],
        ['refQuery', 200],
        ['refGet', 200],
        ['refXYZZY', 400],
      ]);
      const accountId = (out[0].body as { id: string }).id;
      expect(out[0].httpHeaders).to.deep.equal({ Location: `${V}/sobjects/Account/${accountId}` });
      expect(out[2].httpHeaders).to.deep.equal({});
      expect(((out[2].body as { records: Json[] }).records[0].Account as Json).Name).to.equal('Composite Co');
      expect((out[3].body as Json).Name).to.equal('Composite Co');
      expect(out[4].body).to.deep.equal([
        {
          message:
            "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
          errorCode: 'INVALID_TYPE',
        },
      ]);
      expect(emu.log().writes).to.equal(2);
    });

    it('with allOrNone rolls back and answers 400 PROCESSING_HALTED for the other subrequests', async () => {
      const res = await call('POST', `${V}/composite`, {
        allOrNone: true,
        compositeRequest: [
          { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'a', body: { Name: 'Rolled Back Co' } },
          { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'b', body: {} },
          { method: 'GET', url: q('SELECT Id FROM User'), referenceId: 'c' },
        ],
      });
      const out = (res.body as { compositeResponse: Array<{ body: Json[]; httpStatusCode: number }> }).compositeResponse;
      expect(out.map((r) => r.httpStatusCode)).to.deep.equal([400, 400, 400]);
      expect(out[0].body[0].errorCode).to.equal('PROCESSING_HALTED');
      expect(out[1].body[0].errorCode).to.equal('REQUIRED_FIELD_MISSING');
      expect(out[2].body[0].errorCode).to.equal('PROCESSING_HALTED');
      expect(((await call('GET', q("SELECT COUNT() FROM Account WHERE Name = 'Rolled Back Co'"))).body as Json).totalSize).to.equal(0);
    });

    it('without allOrNone skips subrequests that reference a failed one', async () => {
      const res = await call('POST', `${V}/composite`, {
        compositeRequest: [
          { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'bad', body: {} },
          { method: 'POST', url: `${V}/sobjects/Contact`, referenceId: 'dep', body: { LastName: 'x', AccountId: '@{bad.id}' } },
          { method: 'POST', url: `${V}/sobjects/Account`, referenceId: 'ok', body: { Name: 'Independent' } },
        ],
      });
      const out = (res.body as { compositeResponse: Array<{ body: Json[]; httpStatusCode: number }> }).compositeResponse;
      expect(out.map((r) => r.httpStatusCode)).to.deep.equal([400, 400, 201]);
      expect(out[1].body[0].errorCode).to.equal('PROCESSING_HALTED');
    });

    it('refuses more than 25 subrequests and more than 5 queries', async () => {
      const many = Array.from({ length: 26 }, (_, i) => ({ method: 'GET', url: `${V}/sobjects/User/${ADMIN}`, referenceId: `r${i}` }));
      expect((await call('POST', `${V}/composite`, { compositeRequest: many })).status).to.equal(400);
      const queries = Array.from({ length: 6 }, (_, i) => ({ method: 'GET', url: q('SELECT Id FROM User'), referenceId: `q${i}` }));
      expect((await call('POST', `${V}/composite`, { compositeRequest: queries })).status).to.equal(400);
      const five = queries.slice(0, 5);
      expect((await call('POST', `${V}/composite`, { compositeRequest: five })).status).to.equal(200);
    });
  });

  describe('Composite Batch', () => {
    it('runs independent subrequests with version-relative urls', async () => {
      const res = await call('POST', `${V}/composite/batch`, {
        batchRequests: [
          { method: 'GET', url: 'v66.0/query?q=SELECT+Username+FROM+User' },
          { method: 'POST', url: 'v66.0/sobjects/Account', richInput: { Name: 'Batch Co' } },
          { method: 'GET', url: 'v66.0/limits' },
        ],
      });
      const body = res.body as { hasErrors: boolean; results: Array<{ statusCode: number; result: Json }> };
      expect(body.hasErrors).to.equal(false);
      expect(body.results.map((r) => r.statusCode)).to.deep.equal([200, 201, 200]);
      expect((body.results[0].result.records as Json[])[0].Username).to.equal('admin@emulated-org.example');
    });

    it('halts after an error with haltOnError (412 BATCH_PROCESSING_HALTED)', async () => {
      const res = await call('POST', `${V}/composite/batch`, {
        haltOnError: true,
        batchRequests: [
          { method: 'GET', url: 'v66.0/query?q=SELECT+Id+FROM+Nope' },
          { method: 'GET', url: 'v66.0/query?q=SELECT+Id+FROM+User' },
        ],
      });
      const body = res.body as { hasErrors: boolean; results: Array<{ statusCode: number; result: Json[] }> };
      expect(body.hasErrors).to.equal(true);
      expect(body.results.map((r) => r.statusCode)).to.deep.equal([400, 412]);
      expect(body.results[1].result[0].errorCode).to.equal('BATCH_PROCESSING_HALTED');
      expect((await call('POST', `${V}/composite/batch`, { batchRequests: [{ method: 'GET', url: '/services/data/v66.0/limits' }] })).status).to.equal(400);
    });
  });
});

describe('query paging over a large org', () => {
  const TOKENS = 50_000;
  const USERS = 5000;
  let emu: Emulator;
  let call: ReturnType<typeof client>;

  before(async () => {
    const f = baseFixture();
    const users = Array.from({ length: USERS }, (_, i) => ({
      Id: `005Em${String(i + 2).padStart(10, '0')}AAA`,
      Username: `user${i}@big.example`,
      LastName: `User${i}`,
      Email: `user${i}@big.example`,
      Alias: `u${i}`,
      ProfileId: '00eEm0000000003IAA',
      IsActive: i % 10 !== 0,
    }));
    const tokens = Array.from({ length: TOKENS }, (_, i) => ({
      AppName: i % 2 ? 'CLI' : 'Integration',
      UserId: users[i % USERS].Id,
      UseCount: i,
      LastUsedDate: '2026-03-01T00:00:00.000+0000',
    }));
    f.records = { ...f.records, User: [...(f.records?.User ?? []), ...users], OauthToken: tokens };
    emu = await startEmulator({ fixture: f });
    call = client(emu);
  });
  after(async () => emu.close());

  const followAll = async (first: string): Promise<{ pages: Array<{ totalSize: number; done: boolean; records: Json[]; nextRecordsUrl?: string }> }> => {
    const pages = [];
    let next: string | undefined = first;
    while (next) {
      // eslint-disable-next-line no-await-in-loop -- pages are sequential by nature
      const res = await call('GET', next);
      expect(res.status).to.equal(200);
      const page = res.body as { totalSize: number; done: boolean; records: Json[]; nextRecordsUrl?: string };
      pages.push(page);
      next = page.nextRecordsUrl;
    }
    return { pages };
  };

  it('pages 50,000 OauthToken rows 500 at a time and answers nothing after 2,500 (Object Reference, OauthToken)', async () => {
    // "A query() call returns up to 500 rows. A queryMore() call returns 500 more, up to 2500 total. No more records
    // are returned after 2500." The batch size header does not raise it.
    const res = await fetch(emu.instanceUrl + q('SELECT Id, AppName, UseCount, User.Username FROM OauthToken'), {
      headers: { Authorization: `Bearer ${emu.accessToken}`, 'Sforce-Query-Options': 'batchSize=2000' },
    });
    const first = (await res.json()) as { nextRecordsUrl: string; records: Json[]; totalSize: number; done: boolean };
    const { pages } = await followAll(first.nextRecordsUrl);
    pages.unshift(first);
    expect(pages).to.have.length(5);
    for (const [i, p] of pages.entries()) {
      expect(p.totalSize).to.equal(TOKENS);
      expect(p.done).to.equal(i === pages.length - 1);
      expect(p.records).to.have.length(500);
      if (!p.done) expect(p.nextRecordsUrl).to.match(new RegExp(`^${V}/query/01g[0-9A-Za-z]{15}-${(i + 1) * 500}$`));
      else expect(p).not.to.have.property('nextRecordsUrl');
    }
    const all = pages.flatMap((p) => p.records);
    expect(new Set(all.map((r) => r.UseCount)).size).to.equal(2500);
    expect((all[7].User as Json).Username).to.equal('user7@big.example');
    // "Reserved for future use. Currently the value is always null."
    expect(all.every((r) => r.Id === null)).to.equal(true);
  });

  it('filters and joins across 50,000 tokens and 5,000 users', async () => {
    const soql = "SELECT UserId, UseCount FROM OauthToken WHERE AppName = 'CLI' AND UserId IN (SELECT Id FROM User WHERE IsActive = true) ORDER BY UseCount DESC";
    const { pages } = await followAll(q(soql));
    const rows = pages.flatMap((p) => p.records);
    // Odd UseCount => CLI; user index = UseCount % 5000; inactive when index % 10 == 0 (never for odd indexes).
    // OauthToken answers at most 2,500 rows of one query; totalSize still counts every match.
    expect(rows).to.have.length(2500);
    expect(pages[0].totalSize).to.equal(TOKENS / 2);
    expect(rows[0].UseCount).to.equal(TOKENS - 1);
    const count = await call('GET', q('SELECT COUNT() FROM OauthToken WHERE User.IsActive = false'));
    expect((count.body as Json).totalSize).to.equal(TOKENS / 10);
    const users = await followAll(q('SELECT Id, Profile.Name, (SELECT AppName FROM OauthTokens) FROM User'));
    expect(users.pages.map((p) => p.records.length)).to.deep.equal([2000, 2000, 1001]);
    expect(((users.pages[0].records[1].OauthTokens as Json).totalSize as number)).to.equal(TOKENS / USERS);
  });

  it('honours Sforce-Query-Options batchSize and refuses an unknown locator', async () => {
    const res = await fetch(emu.instanceUrl + q('SELECT Id FROM User'), {
      headers: { Authorization: `Bearer ${emu.accessToken}`, 'Sforce-Query-Options': 'batchSize=500' },
    });
    const page = (await res.json()) as { records: Json[]; nextRecordsUrl: string };
    expect(page.records).to.have.length(500);
    expect(page.nextRecordsUrl).to.match(/-500$/);
    const bad = await call('GET', `${V}/query/01g5g0000000000ZZZ-2000`);
    expect(bad.status).to.equal(400);
    expect((bad.body as Json[])[0].errorCode).to.equal('INVALID_QUERY_LOCATOR');
    expect(emu.log().writes).to.equal(0);
  });
});
