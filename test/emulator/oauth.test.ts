/*
 * The emulator's OAuth endpoints against real RS256 assertions: success for both flows and both app kinds, then
 * every refusal of oauth.ts's table provoked at least once, each with its exact error pair and LoginHistory row.
 */
/* eslint-disable camelcase -- OAuth form parameters and claims are Salesforce's wire names */
import { createHmac, generateKeyPairSync, sign, verify } from 'node:crypto';
import { request } from 'node:http';
import { expect } from 'chai';
import forge from 'node-forge';
import { isSoapUsableSession, namedUserJwtPublicKey, OAUTH_REFUSALS, type RefusalKey } from './oauth.js';
import { loadFixture } from './server.js';
import { idSuffix, type Fixture, type MetadataComponent, type SRecord } from './store.js';
import { startEmulator, type Emulator } from './index.js';

// ---- credentials ------------------------------------------------------------------------------------------------

type KeyPair = { privateKeyPem: string; certificatePem: string };

const makeKeyPair = (cn: string): KeyPair => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2025-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2035-01-01T00:00:00Z');
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: cn }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return { privateKeyPem: privateKey, certificatePem: forge.pki.certificateToPem(cert) };
};

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

const signJwt = (claims: Record<string, unknown>, privateKeyPem: string, header: Record<string, unknown> = { alg: 'RS256' }): string => {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${sign('sha256', Buffer.from(body), privateKeyPem).toString('base64url')}`;
};

// ---- fixture ----------------------------------------------------------------------------------------------------

const NOW = '2026-03-02T12:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const NOW_S = Math.floor(NOW_MS / 1000);
const PROD_AUD = 'https://login.salesforce.com';

const id18 = (id15: string): string => id15 + idSuffix(id15);
const IDS = {
  integ: id18('005Em0000000101'),
  inactive: id18('005Em0000000102'),
  standard: id18('005Em0000000103'),
  noApi: id18('005Em0000000104'),
  expiredPs: id18('005Em0000000105'),
  ps: id18('0PSEm0000000101'),
  noApiProfile: id18('00eEm0000000101'),
};
const INTEG_PROFILE = '00eEm0000000002IAA';
const STANDARD_PROFILE = '00eEm0000000003IAA';
const USERNAMES = {
  integ: 'integration@emulated-org.example',
  inactive: 'inactive.integration@emulated-org.example',
  standard: 'standard.user@emulated-org.example',
  noApi: 'no.api@emulated-org.example',
  expiredPs: 'expired.ps@emulated-org.example',
};

const ECA_KEY = '3MVG9EmuEcaConsumerKey000000000000000000000000000001';
const ECA_SECRET = 'ECA0SECRET0000000000000000000001';
const CA_KEY = '3MVG9EmuConnectedAppKey00000000000000000000000000002';
const CA_SECRET = 'CA00SECRET0000000000000000000002';

const user = (id: string, username: string, profileId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Id: id,
  Username: username,
  FirstName: 'Int',
  LastName: username.split('@')[0],
  Email: username,
  Alias: username.slice(0, 8),
  CommunityNickname: username.split('@')[0],
  TimeZoneSidKey: 'America/Los_Angeles',
  LocaleSidKey: 'en_US',
  EmailEncodingKey: 'UTF-8',
  LanguageLocaleKey: 'en_US',
  ProfileId: profileId,
  IsActive: true,
  UserType: 'Standard',
  ...extra,
});

type EcaOptions = {
  name?: string;
  consumerKey?: string;
  certificate?: string | null;
  permittedUsers?: 'AdminApprovedPreAuthorized' | 'AllSelfAuthorized';
  refreshPolicy?: { type: string; period?: number; unit?: string };
  ipRelaxation?: string;
  scopes?: string;
  ccGlobal?: boolean;
  ccPolicy?: boolean;
  ccUser?: string | null;
  namedUserJwt?: boolean;
  enabled?: boolean;
};

const ecaComponents = (keys: KeyPair, o: EcaOptions = {}): Record<string, MetadataComponent[]> => {
  const name = o.name ?? 'Integration_ECA';
  const rp = o.refreshPolicy ?? { type: 'Infinite' };
  return {
    ExternalClientApplication: [{ fullName: name, label: `${name} Label`, contactEmail: 'ops@example.com', distributionState: 'Local' }],
    ExtlClntAppGlobalOauthSettings: [
      {
        fullName: `${name}_glbloauth`,
        externalClientApplication: name,
        callbackUrl: 'https://localhost/callback',
        consumerKey: o.consumerKey ?? ECA_KEY,
        consumerSecret: ECA_SECRET,
        ...(o.certificate === null ? {} : { certificate: o.certificate ?? keys.certificatePem }),
        isClientCredentialsFlowEnabled: o.ccGlobal ?? true,
        isPkceRequired: false,
        isNamedUserJwtEnabled: o.namedUserJwt ?? false,
      },
    ],
    ExtlClntAppOauthSettings: [{ fullName: `${name}_oauth`, externalClientApplication: name, commaSeparatedOauthScopes: o.scopes ?? 'Api, RefreshToken' }],
    ExtlClntAppOauthConfigurablePolicies: [
      {
        fullName: `${name}_oauthPlcy`,
        externalClientApplication: name,
        permittedUsersPolicyType: o.permittedUsers ?? 'AdminApprovedPreAuthorized',
        commaSeparatedPermissionSet: IDS.ps,
        refreshTokenPolicyType: rp.type,
        ...(rp.period !== undefined ? { refreshTokenValidityPeriod: rp.period, refreshTokenValidityUnit: rp.unit ?? 'Days' } : {}),
        ipRelaxationPolicyType: o.ipRelaxation ?? 'Enforce',
        isClientCredentialsFlowEnabled: o.ccPolicy ?? true,
        ...(o.ccUser === null ? {} : { clientCredentialsFlowUser: o.ccUser ?? USERNAMES.integ }),
      },
    ],
    ExtlClntAppConfigurablePolicies: [
      { fullName: `${name}_plcy`, externalClientApplication: name, isEnabled: o.enabled ?? true, isOauthPluginEnabled: o.enabled ?? true },
    ],
  };
};

const connectedApp = (keys: KeyPair, o: { refreshPolicy?: string; namedUserJwt?: boolean } = {}): MetadataComponent => ({
  fullName: 'Integration_CA',
  label: 'Integration CA',
  contactEmail: 'ops@example.com',
  oauthConfig: {
    callbackUrl: 'https://localhost/callback',
    certificate: keys.certificatePem,
    consumerKey: CA_KEY,
    consumerSecret: CA_SECRET,
    isAdminApproved: true,
    isClientCredentialEnabled: true,
    oauthClientCredentialUser: USERNAMES.integ,
    isNamedUserJwtEnabled: o.namedUserJwt ?? false,
    scopes: ['Api', 'RefreshToken', 'Web'],
  },
  oauthPolicy: { ipRelaxation: 'ENFORCE', refreshTokenPolicy: o.refreshPolicy ?? 'infinite' },
  permissionSetName: ['Integration_Access'],
});

const buildFixture = async (keys: KeyPair, opts: { eca?: EcaOptions | false; ca?: boolean; emulator?: Record<string, unknown>; sandbox?: boolean } = {}): Promise<Fixture> => {
  const fx = await loadFixture(undefined);
  const records = fx.records!;
  if (opts.sandbox) records.Organization[0].IsSandbox = true;
  records.Profile.push({ Id: IDS.noApiProfile, Name: 'No API Custom', UserLicenseId: '100Em0000000001IAA', UserType: 'Standard', PermissionsApiEnabled: false });
  records.User.push(
    user(IDS.integ, USERNAMES.integ, INTEG_PROFILE),
    user(IDS.inactive, USERNAMES.inactive, INTEG_PROFILE, { IsActive: false }),
    user(IDS.standard, USERNAMES.standard, STANDARD_PROFILE),
    user(IDS.noApi, USERNAMES.noApi, IDS.noApiProfile),
    user(IDS.expiredPs, USERNAMES.expiredPs, INTEG_PROFILE)
  );
  records.PermissionSet.push({
    Id: IDS.ps,
    Name: 'Integration_Access',
    Label: 'Integration Access',
    IsOwnedByProfile: false,
    IsCustom: true,
    LicenseId: '0PLEm0000000001OAA',
    Type: 'Regular',
    PermissionsApiEnabled: true,
  });
  const psa = (n: number, assignee: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    Id: id18(`0PaEm000000010${n}`),
    AssigneeId: assignee,
    PermissionSetId: IDS.ps,
    ExpirationDate: null,
    IsActive: true,
    ...extra,
  });
  records.PermissionSetAssignment.push(
    psa(1, IDS.integ),
    psa(2, IDS.inactive),
    psa(4, IDS.expiredPs, { ExpirationDate: '2026-02-01T00:00:00.000+0000' })
  );
  fx.metadata = {
    ...(fx.metadata ?? {}),
    ...(opts.eca === false ? {} : ecaComponents(keys, opts.eca ?? {})),
    ...(opts.ca ? { ConnectedApp: [connectedApp(keys)] } : {}),
  };
  fx.emulator = { ...(fx.emulator ?? {}), now: NOW, ...(opts.emulator ?? {}) };
  return fx;
};

// ---- HTTP -------------------------------------------------------------------------------------------------------

type Answer = { status: number; body: Record<string, unknown>; text: string };

const call = (emu: Emulator, method: string, path: string, opts: { form?: Record<string, string>; headers?: Record<string, string>; host?: string } = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const url = new URL(path, emu.instanceUrl);
    const payload = opts.form ? new URLSearchParams(opts.form).toString() : '';
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname + url.search,
        headers: {
          ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.headers ?? {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = {};
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      }
    );
    req.on('error', reject);
    req.end(payload);
  });

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ECA_KEY,
  sub: USERNAMES.integ,
  aud: PROD_AUD,
  exp: NOW_S + 300,
  ...extra,
});

const jwtLogin = (emu: Emulator, keys: KeyPair, extra: Record<string, unknown> = {}, header?: Record<string, unknown>): Promise<Answer> =>
  call(emu, 'POST', '/services/oauth2/token', { form: { grant_type: JWT_GRANT, assertion: signJwt(claims(extra), keys.privateKeyPem, header) } });

const ccLogin = (emu: Emulator, clientId = ECA_KEY, secret = ECA_SECRET, host?: string): Promise<Answer> =>
  call(emu, 'POST', '/services/oauth2/token', { form: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret }, host });

const logins = (emu: Emulator): SRecord[] => emu.store.all('LoginHistory');
const lastLogin = (emu: Emulator): SRecord => {
  const rows = logins(emu);
  expect(rows.length, 'a LoginHistory row').to.be.greaterThan(0);
  return rows[rows.length - 1];
};

/** Asserts the literal error pair, the table entry it comes from, and the failed LoginHistory row. */
const expectRefusal = (emu: Emulator, res: Answer, error: string, description: string, key: RefusalKey, userId?: string): void => {
  expect(res.status).to.equal(400);
  expect(res.body).to.deep.equal({ error, error_description: description });
  expect(OAUTH_REFUSALS[key]).to.include({ error, description });
  const row = lastLogin(emu);
  expect(row.LoginType).to.equal('Remote Access 2.0');
  expect(row.Status).to.equal(OAUTH_REFUSALS[key].loginStatus);
  expect(String(row.Status)).to.not.equal('Success');
  expect(row.SourceIp).to.equal('127.0.0.1');
  if (userId) expect(row.UserId).to.equal(userId);
  else expect(row.UserId ?? undefined).to.equal(undefined);
  expect(emu.log().writes, 'token requests are not client writes').to.equal(0);
};

const expectSuccess = async (emu: Emulator, res: Answer, userId: string, secret: string): Promise<string> => {
  expect(res.status, res.text).to.equal(200);
  const body = res.body;
  expect(Object.keys(body).sort()).to.deep.equal(['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type']);
  expect(body.token_type).to.equal('Bearer');
  expect(body.instance_url).to.equal(emu.instanceUrl);
  expect(body.id).to.equal(`${emu.instanceUrl}/id/${emu.store.orgId}/${userId}`);
  expect(body.issued_at).to.equal(String(NOW_MS));
  expect(body).to.not.have.property('refresh_token');
  expect(body.signature).to.equal(createHmac('sha256', secret).update(`${String(body.id)}${String(body.issued_at)}`).digest('base64'));
  const token = String(body.access_token);
  const row = lastLogin(emu);
  expect(row).to.include({ UserId: userId, LoginType: 'Remote Access 2.0', Status: 'Success', SourceIp: '127.0.0.1' });
  expect(emu.log().writes, 'token requests are not client writes').to.equal(0);
  // The token works on the REST side as that user.
  const info = await call(emu, 'GET', '/services/oauth2/userinfo', { headers: { authorization: `Bearer ${token}` } });
  expect(info.status).to.equal(200);
  expect(info.body.user_id).to.equal(userId);
  expect(info.body.organization_id).to.equal(emu.store.orgId);
  return token;
};

// ---- tests ------------------------------------------------------------------------------------------------------

describe('emulator OAuth endpoints', () => {
  let keys: KeyPair;
  let otherKeys: KeyPair;
  let emu: Emulator | undefined;

  const start = async (opts: Parameters<typeof buildFixture>[1] = {}): Promise<Emulator> => {
    emu = await startEmulator({ fixture: await buildFixture(keys, opts) });
    return emu;
  };

  before(() => {
    keys = makeKeyPair('oauth-test');
    otherKeys = makeKeyPair('someone-else');
  });

  afterEach(async () => {
    await emu?.close();
    emu = undefined;
  });

  describe('JWT bearer: success', () => {
    it('issues a token for an External Client App with the permission set pre-authorized', async () => {
      const e = await start();
      const res = await jwtLogin(e, keys);
      const token = await expectSuccess(e, res, IDS.integ, ECA_SECRET);
      expect(token.startsWith(`${e.store.orgId.slice(0, 15)}!`)).to.equal(true);
      expect(res.body.scope).to.equal('api refresh_token');
      const session = e.store.sessions.get(token)!;
      expect(session).to.include({ userId: IDS.integ });
      expect(session.scopes).to.deep.equal(['api', 'refresh_token']);
      expect(session.appId?.startsWith('0xI')).to.equal(true);
      expect(lastLogin(e).Application).to.equal('Integration_ECA Label');
      expect(isSoapUsableSession(session)).to.equal(true);
    });

    it('issues a token for a Connected App (permission set by name) and lists its scopes', async () => {
      const e = await start({ eca: false, ca: true });
      const res = await jwtLogin(e, keys, { iss: CA_KEY });
      await expectSuccess(e, res, IDS.integ, CA_SECRET);
      expect(res.body.scope).to.equal('api refresh_token web');
      expect(lastLogin(e).Application).to.equal('Integration CA');
    });

    it('accepts exp in milliseconds, as `sf org login jwt` sends it', async () => {
      const e = await start();
      await expectSuccess(e, await jwtLogin(e, keys, { exp: NOW_MS + 300 }), IDS.integ, ECA_SECRET);
    });

    it('accepts the instance URL and the My Domain URL as audience, and the legacy prn claim over sub', async () => {
      const e = await start();
      await expectSuccess(e, await jwtLogin(e, keys, { aud: e.instanceUrl }), IDS.integ, ECA_SECRET);
      await expectSuccess(e, await jwtLogin(e, keys, { aud: 'https://emulated-org.my.salesforce.com' }), IDS.integ, ECA_SECRET);
      await expectSuccess(e, await jwtLogin(e, keys, { sub: 'nobody@example.com', prn: USERNAMES.integ }), IDS.integ, ECA_SECRET);
    });

    it('accepts https://test.salesforce.com for a sandbox and refuses login.salesforce.com there', async () => {
      const e = await start({ sandbox: true });
      await expectSuccess(e, await jwtLogin(e, keys, { aud: 'https://test.salesforce.com' }), IDS.integ, ECA_SECRET);
      expectRefusal(e, await jwtLogin(e, keys, { aud: PROD_AUD }), 'invalid_grant', 'audience is invalid', 'audience');
    });

    it('answers the identity URL and userinfo, and revoke ends the session (a client write)', async () => {
      const e = await start();
      const res = await jwtLogin(e, keys);
      const token = await expectSuccess(e, res, IDS.integ, ECA_SECRET);
      const auth = { authorization: `Bearer ${token}` };
      const info = await call(e, 'GET', '/services/oauth2/userinfo', { headers: auth });
      expect(info.body).to.include({ preferred_username: USERNAMES.integ, email: USERNAMES.integ, name: `Int ${USERNAMES.integ.split('@')[0]}` });
      const idPath = new URL(String(res.body.id)).pathname;
      const ident = await call(e, 'GET', idPath, { headers: auth });
      expect(ident.status).to.equal(200);
      expect(ident.body).to.include({ user_id: IDS.integ, organization_id: e.store.orgId, username: USERNAMES.integ, asserted_user: true });
      expect(e.log().writes).to.equal(0);

      const rev = await call(e, 'POST', '/services/oauth2/revoke', { form: { token } });
      expect(rev.status).to.equal(200);
      expect(e.store.sessions.has(token)).to.equal(false);
      expect(e.log().writes).to.equal(1);
      const after = await call(e, 'GET', '/services/oauth2/userinfo', { headers: auth });
      expect(after.status).to.equal(401);
      expect(JSON.parse(after.text)).to.deep.equal([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    });

    it('revoke takes the token as a query parameter too', async () => {
      const e = await start();
      const token = await expectSuccess(e, await jwtLogin(e, keys), IDS.integ, ECA_SECRET);
      const rev = await call(e, 'POST', `/services/oauth2/revoke?token=${encodeURIComponent(token)}`);
      expect(rev.status).to.equal(200);
      expect(e.store.sessions.has(token)).to.equal(false);
    });

    it('issues a JWT-format token for named-user JWT apps: REST accepts it, the session is marked not SOAP-usable', async () => {
      const e = await start({ eca: { namedUserJwt: true } });
      const res = await jwtLogin(e, keys);
      const token = await expectSuccess(e, res, IDS.integ, ECA_SECRET);
      const parts = token.split('.');
      expect(parts).to.have.length(3);
      expect(JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'))).to.include({ alg: 'RS256' });
      expect(verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), namedUserJwtPublicKey(e.store), Buffer.from(parts[2], 'base64url'))).to.equal(true);
      const session = e.store.sessions.get(token)!;
      expect(session.namedUserJwt).to.equal(true);
      expect(isSoapUsableSession(session)).to.equal(false);
    });
  });

  describe('JWT bearer: refusals', () => {
    it('unknown consumer key -> invalid_client_id / client identifier invalid', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { iss: '3MVG9unknown' }), 'invalid_client_id', 'client identifier invalid', 'unknownClient');
      expect(lastLogin(e).Application).to.equal('N/A');
    });

    it('malformed assertion, alg other than RS256, wrong signing key -> invalid_grant / invalid assertion', async () => {
      const e = await start();
      const bad = await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: JWT_GRANT, assertion: 'not-a-jwt' } });
      expectRefusal(e, bad, 'invalid_grant', 'invalid assertion', 'invalidAssertion');
      const hs = await call(e, 'POST', '/services/oauth2/token', {
        form: { grant_type: JWT_GRANT, assertion: `${b64({ alg: 'HS256' })}.${b64(claims())}.${Buffer.from('x').toString('base64url')}` },
      });
      expectRefusal(e, hs, 'invalid_grant', 'invalid assertion', 'invalidAssertion');
      const none = await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: JWT_GRANT, assertion: `${b64({ alg: 'none' })}.${b64(claims())}.` } });
      expectRefusal(e, none, 'invalid_grant', 'invalid assertion', 'invalidAssertion');
      expectRefusal(e, await jwtLogin(e, otherKeys), 'invalid_grant', 'invalid assertion', 'invalidAssertion');
      expect(lastLogin(e).Application).to.equal('Integration_ECA Label');
      // A tampered payload under a good signature.
      const good = signJwt(claims(), keys.privateKeyPem).split('.');
      const tampered = `${good[0]}.${b64(claims({ sub: USERNAMES.standard }))}.${good[2]}`;
      expectRefusal(e, await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: JWT_GRANT, assertion: tampered } }), 'invalid_grant', 'invalid assertion', 'invalidAssertion');
    });

    it('app without a certificate (JWT bearer not enabled) -> invalid_grant / invalid assertion', async () => {
      const e = await start({ eca: { certificate: null } });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', 'invalid assertion', 'jwtNotEnabled');
    });

    it('wrong audience -> invalid_grant / audience is invalid', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { aud: 'https://test.salesforce.com' }), 'invalid_grant', 'audience is invalid', 'audience', undefined);
      expect(OAUTH_REFUSALS.audience.description).to.contain('audience');
    });

    it('exp in the past or missing -> invalid_grant / expired authorization code', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { exp: NOW_S - 1 }), 'invalid_grant', 'expired authorization code', 'expired');
      expectRefusal(e, await jwtLogin(e, keys, { exp: undefined }), 'invalid_grant', 'expired authorization code', 'expired');
    });

    it("unknown username in sub -> invalid_grant / user hasn't approved this consumer", async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { sub: 'integration@emulated-org.example.dev' }), 'invalid_grant', "user hasn't approved this consumer", 'unknownUser');
      // prn wins over sub.
      expectRefusal(e, await jwtLogin(e, keys, { sub: USERNAMES.integ, prn: 'nobody@example.com' }), 'invalid_grant', "user hasn't approved this consumer", 'unknownUser');
    });

    it('inactive user -> invalid_grant / inactive user', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { sub: USERNAMES.inactive }), 'invalid_grant', 'inactive user', 'inactiveUser', IDS.inactive);
    });

    it('user without API Enabled -> invalid_grant / API is disabled for this User', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { sub: USERNAMES.noApi }), 'invalid_grant', 'API is disabled for this User', 'apiDisabled', IDS.noApi);
    });

    it('admin-approved app, user holds none of its permission sets -> invalid_app_access / user is not admin approved to access this app', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { sub: USERNAMES.standard }), 'invalid_app_access', 'user is not admin approved to access this app', 'notAdminApproved', IDS.standard);
      expect(lastLogin(e).Status).to.equal('Failed: Not approved for access');
    });

    it('permission set assignment expired -> invalid_app_access / user is not admin approved to access this app', async () => {
      const e = await start();
      expectRefusal(e, await jwtLogin(e, keys, { sub: USERNAMES.expiredPs }), 'invalid_app_access', 'user is not admin approved to access this app', 'notAdminApproved', IDS.expiredPs);
    });

    it('permission set removed from the app -> invalid_app_access, then pre-authorizing the profile works', async () => {
      const e = await start();
      const pol = structuredClone(e.store.getMetadata('ExtlClntAppOauthConfigurablePolicies', 'Integration_ECA_oauthPlcy')!);
      pol.commaSeparatedPermissionSet = '';
      e.store.putMetadata('ExtlClntAppOauthConfigurablePolicies', pol, { system: true });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_app_access', 'user is not admin approved to access this app', 'notAdminApproved', IDS.integ);
      pol.commaSeparatedProfile = INTEG_PROFILE;
      e.store.putMetadata('ExtlClntAppOauthConfigurablePolicies', structuredClone(pol), { system: true });
      await expectSuccess(e, await jwtLogin(e, keys), IDS.integ, ECA_SECRET);
    });

    it("self-authorizing app without a prior approval -> invalid_grant / user hasn't approved this consumer; an OauthToken approval fixes it", async () => {
      const e = await start({ eca: { permittedUsers: 'AllSelfAuthorized' } });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', "user hasn't approved this consumer", 'notApproved', IDS.integ);
      e.store.insert('OauthToken', { UserId: IDS.integ, AppName: 'Integration_ECA Label', UseCount: 1 }, { system: true });
      await expectSuccess(e, await jwtLogin(e, keys), IDS.integ, ECA_SECRET);
    });

    it("refresh token policy 'Immediately expire' (zero) -> invalid_grant / user hasn't approved this consumer", async () => {
      const e = await start({ eca: { refreshPolicy: { type: 'Zero' } } });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', "user hasn't approved this consumer", 'notApproved', IDS.integ);
    });

    it('refresh token policy specific lifetime: the approval ages out, re-associating the permission set renews it', async () => {
      const e = await start({ eca: { refreshPolicy: { type: 'SpecificLifetime', period: 4, unit: 'Hours' } } });
      await expectSuccess(e, await jwtLogin(e, keys), IDS.integ, ECA_SECRET);
      e.store.settings.now = new Date(NOW_MS + 3 * 3_600_000).toISOString();
      expect((await jwtLogin(e, keys, { exp: NOW_S + 5 * 3600 })).status).to.equal(200);
      e.store.settings.now = new Date(NOW_MS + 5 * 3_600_000).toISOString();
      expectRefusal(e, await jwtLogin(e, keys, { exp: NOW_S + 6 * 3600 }), 'invalid_grant', "user hasn't approved this consumer", 'notApproved', IDS.integ);
      // Re-associate the permission set with the app, as Setup's "Manage Permission Sets" does (SetupEntityAccess rows).
      const app = e.store.all('ExternalClientApplication')[0];
      const row = e.store.all('SetupEntityAccess').find((r) => r.SetupEntityId === app.Id && r.ParentId === IDS.ps)!;
      e.store.remove('SetupEntityAccess', row.Id);
      e.store.insert('SetupEntityAccess', { ParentId: IDS.ps, SetupEntityId: app.Id });
      expect((await jwtLogin(e, keys, { exp: NOW_S + 6 * 3600 })).status).to.equal(200);
      expect(e.log().writes, 'only the two SetupEntityAccess writes').to.equal(2);
    });

    it('refresh token policy specific inactivity: use keeps the approval alive, idleness ages it out', async () => {
      const e = await start({ eca: { refreshPolicy: { type: 'SpecificInactivity', period: 1, unit: 'Days' } } });
      const at = async (hours: number): Promise<Answer> => {
        e.store.settings.now = new Date(NOW_MS + hours * 3_600_000).toISOString();
        return jwtLogin(e, keys, { exp: NOW_S + hours * 3600 + 300 });
      };
      expect((await at(0)).status).to.equal(200);
      expect((await at(23)).status).to.equal(200);
      expect((await at(46)).status).to.equal(200);
      expectRefusal(e, await at(80), 'invalid_grant', "user hasn't approved this consumer", 'notApproved', IDS.integ);
    });

    it('Connected App with specific-lifetime policy ages out too', async () => {
      const fx = await buildFixture(keys, { eca: false });
      fx.metadata!.ConnectedApp = [connectedApp(keys, { refreshPolicy: 'specific_lifetime:1:DAYS' })];
      emu = await startEmulator({ fixture: fx });
      const e = emu;
      expect((await jwtLogin(e, keys, { iss: CA_KEY })).status).to.equal(200);
      e.store.settings.now = new Date(NOW_MS + 25 * 3_600_000).toISOString();
      expectRefusal(e, await jwtLogin(e, keys, { iss: CA_KEY, exp: NOW_S + 26 * 3600 }), 'invalid_grant', "user hasn't approved this consumer", 'notApproved', IDS.integ);
    });

    it("app without the refresh_token scope -> invalid_grant / user hasn't approved this consumer (seed 001)", async () => {
      const e = await start({ eca: { scopes: 'Api' } });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', "user hasn't approved this consumer", 'missingRefreshScope', IDS.integ);
    });

    it('profile login IP ranges exclude 127.0.0.1 with IP relaxation Enforce -> invalid_grant / ip restricted; Relax IP restrictions lets it through', async () => {
      const ranges = { loginIpRanges: { 'Minimum Access - API Only Integrations': [{ start: '10.0.0.1', end: '10.0.0.255' }] } };
      const e = await start({ emulator: ranges });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', 'ip restricted', 'ipRestricted', IDS.integ);
      expect(lastLogin(e).Status).to.equal('Restricted IP');
      await e.close();
      const relaxed = await start({ emulator: ranges, eca: { ipRelaxation: 'Bypass' } });
      await expectSuccess(relaxed, await jwtLogin(relaxed, keys), IDS.integ, ECA_SECRET);
      await relaxed.close();
      const inRange = await start({ emulator: { loginIpRanges: { 'Minimum Access - API Only Integrations': [{ start: '127.0.0.1', end: '127.0.0.1' }] } } });
      await expectSuccess(inRange, await jwtLogin(inRange, keys), IDS.integ, ECA_SECRET);
    });

    it('External Client App not yet propagated -> app_not_found / External client app is not installed in this org, until propagationSeconds pass', async () => {
      const e = await start({ eca: false, emulator: { propagationSeconds: 600 } });
      for (const [type, comps] of Object.entries(ecaComponents(keys))) for (const c of comps) e.store.putMetadata(type, c, { system: true });
      expectRefusal(e, await jwtLogin(e, keys), 'app_not_found', 'External client app is not installed in this org', 'ecaNotInstalled');
      e.store.settings.now = new Date(NOW_MS + 601_000).toISOString();
      const res = await jwtLogin(e, keys, { exp: NOW_S + 901 });
      expect(res.status, res.text).to.equal(200);
      expect(lastLogin(e).Status).to.equal('Success');
    });

    it('Connected App not yet propagated -> invalid_client_id / client identifier invalid', async () => {
      const e = await start({ eca: false, emulator: { propagationSeconds: 600 } });
      e.store.putMetadata('ConnectedApp', connectedApp(keys), { system: true });
      expectRefusal(e, await jwtLogin(e, keys, { iss: CA_KEY }), 'invalid_client_id', 'client identifier invalid', 'connectedAppNotPropagated');
    });

    it('External Client App with its OAuth plugin policy disabled -> app_not_found', async () => {
      const e = await start({ eca: { enabled: false } });
      expectRefusal(e, await jwtLogin(e, keys), 'app_not_found', 'External client app is not installed in this org', 'ecaNotInstalled');
    });
  });

  describe('client credentials', () => {
    it('issues a token for the Run As user of an External Client App (body credentials)', async () => {
      const e = await start();
      const token = await expectSuccess(e, await ccLogin(e), IDS.integ, ECA_SECRET);
      expect(e.store.sessions.get(token)?.scopes).to.deep.equal(['api', 'refresh_token']);
    });

    it('issues a token for a Connected App with HTTP Basic credentials', async () => {
      const e = await start({ eca: false, ca: true });
      const basic = Buffer.from(`${CA_KEY}:${CA_SECRET}`).toString('base64');
      const res = await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: `Basic ${basic}` } });
      await expectSuccess(e, res, IDS.integ, CA_SECRET);
    });

    it('login.salesforce.com / test.salesforce.com -> invalid_grant / request not supported on this domain', async () => {
      const e = await start();
      expectRefusal(e, await ccLogin(e, ECA_KEY, ECA_SECRET, 'login.salesforce.com'), 'invalid_grant', 'request not supported on this domain', 'ccWrongDomain');
      expect(lastLogin(e).LoginUrl).to.equal('login.salesforce.com');
      expectRefusal(e, await ccLogin(e, ECA_KEY, ECA_SECRET, 'test.salesforce.com'), 'invalid_grant', 'request not supported on this domain', 'ccWrongDomain');
    });

    it('unknown client id -> invalid_client_id / client identifier invalid', async () => {
      const e = await start();
      expectRefusal(e, await ccLogin(e, '3MVG9nope'), 'invalid_client_id', 'client identifier invalid', 'unknownClient');
    });

    it('wrong secret -> invalid_client / invalid client credentials', async () => {
      const e = await start();
      expectRefusal(e, await ccLogin(e, ECA_KEY, 'wrong'), 'invalid_client', 'invalid client credentials', 'ccBadSecret');
    });

    it('flow not enabled (either half) -> unsupported_grant_type / grant type not supported', async () => {
      const e = await start({ eca: { ccPolicy: false } });
      expectRefusal(e, await ccLogin(e), 'unsupported_grant_type', 'grant type not supported', 'ccNotEnabled');
      await e.close();
      const g = await start({ eca: { ccGlobal: false } });
      expectRefusal(g, await ccLogin(g), 'unsupported_grant_type', 'grant type not supported', 'ccNotEnabled');
    });

    it('no Run As user -> invalid_grant / no client credentials user enabled', async () => {
      const e = await start({ eca: { ccUser: null } });
      expectRefusal(e, await ccLogin(e), 'invalid_grant', 'no client credentials user enabled', 'ccNoUser');
    });

    it('inactive Run As user -> invalid_grant / inactive user', async () => {
      const e = await start({ eca: { ccUser: USERNAMES.inactive } });
      expectRefusal(e, await ccLogin(e), 'invalid_grant', 'inactive user', 'ccInactiveUser', IDS.inactive);
    });

    it('Run As user without API Only -> invalid_grant / no client credentials user enabled', async () => {
      const e = await start({ eca: { ccUser: USERNAMES.standard } });
      expectRefusal(e, await ccLogin(e), 'invalid_grant', 'no client credentials user enabled', 'ccUserNotApiOnly', IDS.standard);
    });

    it('Run As user outside the profile login IP ranges -> invalid_grant / ip restricted', async () => {
      const e = await start({ emulator: { loginIpRanges: { 'Minimum Access - API Only Integrations': [{ start: '10.0.0.1', end: '10.0.0.2' }] } } });
      expectRefusal(e, await ccLogin(e), 'invalid_grant', 'ip restricted', 'ipRestricted', IDS.integ);
    });

    it('External Client App not propagated -> app_not_found', async () => {
      const e = await start({ eca: false, emulator: { propagationSeconds: 120 } });
      for (const [type, comps] of Object.entries(ecaComponents(keys))) for (const c of comps) e.store.putMetadata(type, c, { system: true });
      expectRefusal(e, await ccLogin(e), 'app_not_found', 'External client app is not installed in this org', 'ecaNotInstalled');
    });
  });

  describe('other grants', () => {
    it('password and unknown grant types -> unsupported_grant_type / grant type not supported', async () => {
      const e = await start();
      const pw = await call(e, 'POST', '/services/oauth2/token', {
        form: { grant_type: 'password', client_id: ECA_KEY, client_secret: ECA_SECRET, username: USERNAMES.integ, password: 'x' },
      });
      expectRefusal(e, pw, 'unsupported_grant_type', 'grant type not supported', 'unsupportedGrant');
      expectRefusal(e, await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: 'magic' } }), 'unsupported_grant_type', 'grant type not supported', 'unsupportedGrant');
      expectRefusal(e, await call(e, 'POST', '/services/oauth2/token', { form: {} }), 'unsupported_grant_type', 'grant type not supported', 'unsupportedGrant');
    });

    it('frozen user (UserLogin.IsFrozen) -> invalid_grant / authentication failure, for JWT bearer and client credentials', async () => {
      const e = await start();
      const login = e.store.userLoginOf(IDS.integ)!;
      e.store.update('UserLogin', login.Id, { IsFrozen: true }, { system: true });
      expectRefusal(e, await jwtLogin(e, keys), 'invalid_grant', 'authentication failure', 'frozenUser', IDS.integ);
      expectRefusal(e, await ccLogin(e), 'invalid_grant', 'authentication failure', 'frozenUser', IDS.integ);
      e.store.update('UserLogin', login.Id, { IsFrozen: false }, { system: true });
      await expectSuccess(e, await jwtLogin(e, keys), IDS.integ, ECA_SECRET);
    });

    it('authorization_code with an unknown code -> invalid_grant / invalid authorization code', async () => {
      const e = await start();
      const res = await call(e, 'POST', '/services/oauth2/token', {
        form: { grant_type: 'authorization_code', code: 'aPrx0000', client_id: ECA_KEY, client_secret: ECA_SECRET, redirect_uri: 'https://localhost/callback' },
      });
      expectRefusal(e, res, 'invalid_grant', 'invalid authorization code', 'invalidCode');
    });

    it('refresh_token with an unknown token -> invalid_grant / expired access/refresh token', async () => {
      const e = await start();
      const res = await call(e, 'POST', '/services/oauth2/token', { form: { grant_type: 'refresh_token', refresh_token: '5Aep861', client_id: ECA_KEY } });
      expectRefusal(e, res, 'invalid_grant', 'expired access/refresh token', 'invalidRefreshToken');
    });
  });

  it('every refusal of the table is provoked above', () => {
    // Keeps the table and the tests in step: a new entry needs a test.
    const provoked: RefusalKey[] = [
      'unsupportedGrant',
      'unknownClient',
      'connectedAppNotPropagated',
      'ecaNotInstalled',
      'invalidAssertion',
      'jwtNotEnabled',
      'audience',
      'expired',
      'unknownUser',
      'inactiveUser',
      'frozenUser',
      'apiDisabled',
      'notAdminApproved',
      'notApproved',
      'missingRefreshScope',
      'ipRestricted',
      'ccWrongDomain',
      'ccBadSecret',
      'ccNotEnabled',
      'ccNoUser',
      'ccInactiveUser',
      'ccUserNotApiOnly',
      'invalidCode',
      'invalidRefreshToken',
    ];
    expect([...provoked].sort()).to.deep.equal(Object.keys(OAUTH_REFUSALS).sort());
  });
});
