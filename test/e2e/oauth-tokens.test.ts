/*
 * readOauthTokens against the emulator's OauthToken (500-row pages, 2,500 rows a query at most): every token once,
 * past the cap, with thousands of tokens sharing one CreatedDate across the page boundary; filters cut into IN lists;
 * DeleteTokens never sent to the org (not in any query).
 */
import { expect } from 'chai';
import { generateOrg } from '../emulator/fixtures/generate.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { OAUTH_TOKEN_ROW_CAP, inLists, readOauthTokens, soqlDateTime } from '../../src/org/tokens.js';
import { Transport } from '../../src/org/transport.js';

const NOW = '2026-11-02T09:00:00.000Z';

const transportFor = async (emu: Emulator): Promise<Transport> => {
  const { AuthInfo, Connection } = await import('@salesforce/core');
  const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl: emu.instanceUrl, loginUrl: emu.instanceUrl } });
  return new Transport(await Connection.create({ authInfo, connectionOptions: { version: '66.0' } }));
};

const storeTokens = (emu: Emulator): Array<Record<string, unknown>> => emu.store.all('OauthToken');

const sortedDeleteTokens = (tokens: Array<{ deleteToken?: string; DeleteToken?: unknown }>): string[] =>
  tokens.map((t) => String(t.deleteToken ?? t.DeleteToken)).sort();

describe('readOauthTokens: the OauthToken read past the 2,500-row cap', () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  it('reads 6,000 tokens, 3,000 of them sharing one CreatedDate, each exactly once', async () => {
    const org = generateOrg({ now: NOW, tokens: 6000, users: 400, connectedApps: 8, externalClientApps: 4, phantomApps: 1, sharedCreatedDate: { tokens: 3000 } });
    emu = await startEmulator({ fixture: org.fixture });
    const transport = await transportFor(emu);
    const tokens = await readOauthTokens(transport);
    expect(tokens).to.have.length(6000);
    expect(new Set(tokens.map((t) => t.deleteToken)).size).to.equal(6000);
    expect(sortedDeleteTokens(tokens)).to.deep.equal(sortedDeleteTokens(storeTokens(emu)));
    const perDate = new Map<string, number>();
    for (const t of tokens) perDate.set(t.createdDate, (perDate.get(t.createdDate) ?? 0) + 1);
    const sharedDate = [...perDate].find(([, n]) => n > OAUTH_TOKEN_ROW_CAP)?.[0];
    const shared = tokens.filter((t) => t.createdDate === sharedDate);
    expect(shared.length, 'the shared CreatedDate spans more than one capped query').to.be.at.least(3000);
    // Naive paging on CreatedDate alone would stop at the shared date: the read got past it.
    expect(tokens.some((t) => t.createdDate > shared[0].createdDate)).to.equal(true);
    // About one round trip per 500 rows plus the overlap at each boundary.
    expect(transport.roundTrips).to.be.within(12, 20);
    // Fields as the Object Reference names them; Connected App rows link to their application.
    const linked = tokens.find((t) => t.appMenuItemId);
    expect(linked?.applicationId).to.match(/^0H4/);
    expect(tokens.every((t) => t.userId.startsWith('005') && t.appName && t.createdDate)).to.equal(true);
    // The DeleteTokens never went to the org.
    const sent = JSON.stringify(emu.log().entries);
    expect(tokens.slice(0, 50).some((t) => sent.includes(t.deleteToken))).to.equal(false);
    expect(emu.log().writes).to.equal(0);
  });

  it('filters by app label and user Id, in IN lists that fit a query, and an empty list matches nothing', async () => {
    const org = generateOrg({ now: NOW, tokens: 3000, users: 600, connectedApps: 6, externalClientApps: 3, phantomApps: 1 });
    emu = await startEmulator({ fixture: org.fixture });
    const transport = await transportFor(emu);
    const all = storeTokens(emu);
    const apps = [org.apps[0].label, org.apps[7].label, "No App's Label"];
    const byApp = await readOauthTokens(transport, { appNames: apps });
    expect(sortedDeleteTokens(byApp)).to.deep.equal(sortedDeleteTokens(all.filter((r) => apps.includes(String(r.AppName)))));

    // 500 user Ids: several IN lists, one composite batch for their first pages.
    const users = org.userIds.slice(0, 500);
    const byUser = await readOauthTokens(transport, { userIds: [...users, users[0]] });
    expect(inLists(users).length).to.be.greaterThan(1);
    expect(sortedDeleteTokens(byUser)).to.deep.equal(sortedDeleteTokens(all.filter((r) => users.includes(String(r.UserId)))));

    const both = await readOauthTokens(transport, { appNames: [org.apps[1].label], userIds: users });
    expect(sortedDeleteTokens(both)).to.deep.equal(
      sortedDeleteTokens(all.filter((r) => r.AppName === org.apps[1].label && users.includes(String(r.UserId))))
    );
    expect(await readOauthTokens(transport, { userIds: [] })).to.deep.equal([]);
  });

  it('refuses, with the key, when more rows share one CreatedDate and UserId than a query returns', async () => {
    const org = generateOrg({ now: NOW, tokens: 10, users: 2, connectedApps: 1, externalClientApps: 0, phantomApps: 0 });
    const rows = org.fixture.records!.OauthToken;
    const base = rows[0];
    for (let i = 0; i < OAUTH_TOKEN_ROW_CAP + 10; i++) rows.push({ ...base, DeleteToken: `DT${i}`, CreatedDate: '2026-01-01T00:00:00.000+0000' });
    emu = await startEmulator({ fixture: org.fixture });
    let error: Error | undefined;
    try {
      await readOauthTokens(await transportFor(emu));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/share CreatedDate 2026-01-01T00:00:00.000\+0000 and UserId 005/);
    expect(error?.message).to.not.include('DT1');
  });

  it('writes SOQL dateTime literals from API values', () => {
    expect(soqlDateTime('2026-01-01T10:00:00.000+0000')).to.equal('2026-01-01T10:00:00Z');
    expect(soqlDateTime('2026-01-01T10:00:00.250+0100')).to.equal('2026-01-01T09:00:00.250Z');
  });
});

