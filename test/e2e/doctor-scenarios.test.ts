/*
 * `sf integration doctor` end to end against the org emulator (issue 4, "Proof"): `create` sets up a JWT and a
 * client-credentials integration, the healthy org passes every check, then each scenario breaks one thing in the
 * emulator's state (in Salesforce's own field names) and asserts that doctor flags exactly the expected check ids,
 * that the live exchange fails with the pair seed 001 names, that `explainError(<that pair>, checks)` ranks a
 * cause confirmed by the id first, and that doctor wrote nothing. Then --fix repairs what it can.
 *
 * In process (no CLI spawning): @salesforce/core connections straight to the emulator, one emulator per scenario.
 */
import dns from 'node:dns';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import forge from 'node-forge';
import type { Org } from '@salesforce/core';
import { startEmulator, type Emulator, type Fixture } from '../emulator/index.js';
import { agePropagation } from '../emulator/apps.js';
import { OAUTH_REFUSALS, type RefusalKey } from '../emulator/oauth.js';
import { idSuffix } from '../emulator/store.js';
import { makeKeyPair } from '../helpers/credentials.js';
import type { DoctorOptions, FixOptions } from '../../src/doctor/run.js';
import type { OrgReport } from '../../src/doctor/types.js';
import type { CheckResult } from '../../src/checks/types.js';
import type { Explanation } from '../../src/checks/errors.js';
import type { LiveResult, TokenHosts, TokenOptions, TokenRequest } from '../../src/org/index.js';

type Core = typeof import('@salesforce/core');
type Domain = {
  diagnoseOrg: (org: Org, targetOrg: string, opts: DoctorOptions, fix?: FixOptions) => Promise<OrgReport>;
  explainError: (text: string, results?: CheckResult[]) => Explanation;
  exchangeToken: (hosts: TokenHosts, request: TokenRequest, opts: TokenOptions) => Promise<LiveResult>;
};
type Rec = Record<string, unknown>;

const JWT_APP = 'HubSpot_Integration';
const INTEGRATION_PROFILE = 'Minimum Access - API Only Integrations';
const CC_APP = 'Billing_Integration';
const PROBLEM = new Set(['fail', 'warn']);
const DAY_MS = 86_400_000;

/** Ids of the checks that failed or warned. */
const flagged = (report: OrgReport): string[] =>
  report.checks
    .filter((c) => PROBLEM.has(c.status))
    .map((c) => c.id)
    .sort();

const describeChecks = (report: OrgReport): string =>
  report.checks
    .filter((c) => c.status !== 'pass')
    .map((c) => `  ${c.id} ${c.status}: ${c.finding}`)
    .join('\n');

const check = (report: OrgReport, id: string): CheckResult => {
  const found = report.checks.find((c) => c.id === id);
  expect(found, id).to.not.equal(undefined);
  return found!;
};

/** The `error: description` text of an emulator refusal, as Salesforce sends it and a user pastes it. */
const pair = (key: RefusalKey): string => `${OAUTH_REFUSALS[key].error}: ${OAUTH_REFUSALS[key].description}`;

/** An 18-character Id for a record a scenario adds. */
const id18 = (id15: string): string => id15 + idSuffix(id15);

// ---- fixture edits in Salesforce's names ---------------------------------------------------------------------
const records = (fx: Fixture, type: string): Rec[] => fx.records?.[type] ?? [];
const one = (fx: Fixture, type: string, pred: (r: Rec) => boolean): Rec => {
  const found = records(fx, type).find(pred);
  if (!found) throw new Error(`fixture has no matching ${type}`);
  return found;
};
const component = (fx: Fixture, type: string, app: string): Rec => {
  const found = (fx.metadata?.[type] ?? []).find((c) => c.externalClientApplication === app || c.fullName === app);
  if (!found) throw new Error(`fixture has no ${type} for ${app}`);
  return found;
};
const policies = (fx: Fixture, app = JWT_APP): Rec => component(fx, 'ExtlClntAppOauthConfigurablePolicies', app);
const globalOauth = (fx: Fixture, app = JWT_APP): Rec => component(fx, 'ExtlClntAppGlobalOauthSettings', app);

/** A certificate for `privateKeyPem` valid between two dates (the way `openssl req -x509` makes one). */
const certificateFor = (privateKeyPem: string, notBefore: Date, notAfter: Date): string => {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01';
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const attrs = [{ name: 'commonName', value: 'HubSpot integration' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
};

/**
 * Serves the emulator under a My Domain host name for the duration of `run`: DNS for `*.my.salesforce.com` answers
 * the loopback address, and token requests to login.salesforce.com / test.salesforce.com reach the emulator. The
 * emulator itself listens on 127.0.0.1, and a host name is not part of its state: the org-environment checks, which
 * read the host (seed 001 step 7), need this to see a subdomain at all.
 */
const asMyDomain = async <T>(emu: Emulator, subdomain: string, run: (instanceUrl: string) => Promise<T>): Promise<T> => {
  const port = new URL(emu.instanceUrl).port;
  const lookup = dns.lookup;
  const realFetch = globalThis.fetch;
  const patched = ((host: string, ...rest: unknown[]) =>
    (lookup as (...args: unknown[]) => void)(/\.my\.salesforce\.com$/i.test(host) ? '127.0.0.1' : host, ...rest)) as typeof dns.lookup;
  dns.lookup = patched;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const local = url.replace(/^https:\/\/(login|test)\.salesforce\.com/i, emu.instanceUrl);
    return realFetch(local === url ? input : local, init);
  }) as typeof fetch;
  try {
    return await run(`http://${subdomain}.my.salesforce.com:${port}`);
  } finally {
    dns.lookup = lookup;
    globalThis.fetch = realFetch;
  }
};

describe('sf integration doctor: break one thing at a time (emulator, in process)', function () {
  this.timeout(600_000);

  let core: Core;
  let domain: Domain;
  let healthy: Fixture;
  let creator: Emulator;
  const jwt = { consumerKey: '', username: '', privateKeyFile: '', privateKeyPem: '', specFile: '' };
  const cc = { consumerKey: '', username: '', secret: '', specFile: '' };
  let otherKey = { privateKeyFile: '', certificatePem: '' };
  let work = '';
  const home = process.env.HOME;
  /** Check ids some scenario expects flagged. */
  const covered = new Set<string>();

  const orgFor = async (emu: Emulator, instanceUrl = emu.instanceUrl): Promise<Org> => {
    const authInfo = await core.AuthInfo.create({ accessTokenOptions: { accessToken: emu.accessToken, instanceUrl, loginUrl: instanceUrl } });
    const connection = await core.Connection.create({ authInfo, connectionOptions: { version: '66.0' } });
    return core.Org.create({ connection });
  };

  const jwtOptions = async (): Promise<DoctorOptions> => ({
    appName: JWT_APP,
    username: jwt.username,
    clientId: jwt.consumerKey,
    privateKeyFile: jwt.privateKeyFile,
    spec: await (await import('../../src/desired/index.js')).readSpecFile(jwt.specFile),
  });

  type Scenario = {
    /** Break the org: edit the healthy fixture. */
    mutate?: (fx: Fixture) => void;
    /** Break it after start, for changes the emulator stamps on load (propagation, faults). */
    afterStart?: (emu: Emulator) => void;
    /** Doctor options beside the healthy JWT ones. */
    options?: Partial<DoctorOptions>;
    /** Serve the org under this My Domain subdomain. */
    subdomain?: string;
    /** The refusal the live exchange should meet: doctor also runs with `--error` set to its text. */
    refusal?: RefusalKey;
  };

  type Run = { report: OrgReport; emu: Emulator; writes: number; logins: string[] };

  /** A fresh emulator from the healthy state with one thing broken; doctor runs once against it. */
  const scenario = async (s: Scenario, fix?: FixOptions, after?: (run: Run, org: Org) => Promise<void>): Promise<Run> => {
    const fx = structuredClone(healthy);
    s.mutate?.(fx);
    const emu = await startEmulator({ fixture: fx });
    try {
      s.afterStart?.(emu);
      const go = async (instanceUrl: string): Promise<Run> => {
        const org = await orgFor(emu, instanceUrl);
        emu.clearLog();
        const before = emu.store.all('LoginHistory').length;
        const error = s.refusal ? { error: pair(s.refusal) } : {};
        const report = await domain.diagnoseOrg(org, 'emu', { ...(await jwtOptions()), ...s.options, ...error }, fix);
        const logins = emu.store
          .all('LoginHistory')
          .slice(before)
          .map((l) => String(l.Status));
        const run = { report, emu, writes: emu.log().writes, logins };
        await after?.(run, org);
        return run;
      };
      return s.subdomain ? await asMyDomain(emu, s.subdomain, go) : await go(emu.instanceUrl);
    } finally {
      await emu.close();
    }
  };

  /** The scenario's verdicts: exactly these ids flagged, no writes, and (when login breaks) the refusal explained. */
  const expectVerdict = (run: Run, expected: string[], refusal?: RefusalKey, explainedBy?: string): void => {
    const { report } = run;
    expected.forEach((id) => covered.add(id));
    expect(flagged(report), describeChecks(report)).to.deep.equal([...expected].sort());
    expect(run.writes, 'doctor writes nothing').to.equal(0);
    expect(report.summary.total).to.equal(28);
    const live = check(report, 'live-token-exchange');
    if (!refusal) {
      expect(live.status, live.finding).to.equal('pass');
      expect(run.logins).to.deep.equal(['Success']);
      expect(report.explanation).to.equal(undefined);
      return;
    }
    const text = pair(refusal);
    expect(live.status).to.equal('fail');
    expect(live.finding).to.include(text);
    expect(run.logins).to.deep.equal([OAUTH_REFUSALS[refusal].loginStatus]);
    const explanation = domain.explainError(text, report.checks);
    const [top] = explanation.causes;
    expect(top.confirmed, JSON.stringify(explanation.causes, null, 1)).to.equal(true);
    expect(top.confirmingChecks).to.include(explainedBy ?? expected[0]);
    // `doctor --error "<text>"` with the org gives the same ranking.
    expect(report.explanation?.causes[0], 'report.explanation').to.deep.equal(top);
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'doctor-e2e-'));
    process.env.HOME = work;
    process.env.SF_DISABLE_TELEMETRY = 'true';
    core = await import('@salesforce/core');
    // One at a time: concurrent dynamic imports through the ts-node loader can stall.
    const { diagnoseOrg } = await import('../../src/doctor/run.js');
    const { explainError } = await import('../../src/checks/index.js');
    const { exchangeToken } = await import('../../src/org/token.js');
    const { runCreate } = await import('../../src/create/run.js');
    domain = { diagnoseOrg, explainError, exchangeToken };

    creator = await startEmulator();
    const settings = creator.store.listMetadata('ExternalClientAppSettings')[0];
    // The org lets admins read consumer secrets over REST, so create can hand over the client-credentials secret.
    creator.store.putMetadata('ExternalClientAppSettings', { ...settings, enableClientSecretInRestApiAccess: true }, { system: true });
    const org = await orgFor(creator);
    const create = (name: string, flow: 'jwt' | 'client-credentials'): ReturnType<typeof runCreate> =>
      runCreate(org, {
        input: { name, flow, objects: ['Account=read,edit'] },
        outputDir: join(work, name),
        dryRun: false,
        verify: true,
        waitMinutes: 0,
        targetOrgAlias: 'emu',
      });
    const made = await create('HubSpot', 'jwt');
    expect(made.failed, JSON.stringify(made.result.steps)).to.equal(false);
    expect(made.result.verified).to.equal(true);
    expect(made.result.appName).to.equal(JWT_APP);
    Object.assign(jwt, {
      consumerKey: made.result.consumerKey!,
      username: made.result.username,
      privateKeyFile: made.result.privateKeyFile!,
      privateKeyPem: await readFile(made.result.privateKeyFile!, 'utf8'),
      specFile: made.result.specFile!,
    });
    const billing = await create('Billing', 'client-credentials');
    expect(billing.failed, JSON.stringify(billing.result.steps)).to.equal(false);
    expect(billing.result.appName).to.equal(CC_APP);
    Object.assign(cc, {
      consumerKey: billing.result.consumerKey!,
      username: billing.result.username,
      secret: (await readFile(billing.result.consumerSecretFile!, 'utf8')).trim(),
      specFile: billing.result.specFile!,
    });
    agePropagation(creator.store);
    healthy = creator.state();

    const other = makeKeyPair('someone-else');
    otherKey = { privateKeyFile: join(work, 'other-key.pem'), certificatePem: other.certificatePem };
    await writeFile(otherKey.privateKeyFile, other.privateKeyPem, { mode: 0o600 });
  });

  after(async () => {
    await creator?.close();
    process.env.HOME = home;
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('passes every check on the org create set up (JWT), live exchange included, and writes nothing', async () => {
    const run = await scenario({});
    expectVerdict(run, []);
    expect(run.report.summary, describeChecks(run.report)).to.include({ pass: 27, skip: 1 });
    expect(check(run.report, 'app-client-credentials-user').status).to.equal('skip');
    expect(check(run.report, 'live-api-call').status).to.equal('pass');
    expect(run.logins).to.deep.equal(['Success']);
  });

  // ---- App -------------------------------------------------------------------------------------------------------
  it('app-refresh-token-policy: "Immediately expire" leaves no approval (user hasn\'t approved this consumer)', async () => {
    const run = await scenario({ refusal: 'notApproved', mutate: (fx) => void (policies(fx).refreshTokenPolicyType = 'Zero') });
    expectVerdict(run, ['app-refresh-token-policy', 'live-token-exchange'], 'notApproved');
  });

  it('app-permission-set-associated: the permission set is not selected on the app (invalid_app_access)', async () => {
    const run = await scenario({ refusal: 'notAdminApproved', mutate: (fx) => void (policies(fx).commaSeparatedPermissionSet = '') });
    expectVerdict(run, ['app-permission-set-associated', 'live-token-exchange'], 'notAdminApproved');
  });

  it('app-admin-approved: Permitted Users = All users may self-authorize (user hasn\'t approved this consumer)', async () => {
    const run = await scenario({ refusal: 'notApproved', mutate: (fx) => void (policies(fx).permittedUsersPolicyType = 'AllSelfAuthorized') });
    expectVerdict(run, ['app-admin-approved', 'live-token-exchange'], 'notApproved');
  });

  it('app-ip-relaxation: IP restrictions enforced and the caller outside the profile\'s login IP ranges (ip restricted)', async () => {
    const run = await scenario({ refusal: 'ipRestricted',
      mutate: (fx) => {
        policies(fx).ipRelaxationPolicyType = 'Enforce';
        fx.emulator = { ...fx.emulator, loginIpRanges: { 'Minimum Access - API Only Integrations': [{ start: '10.0.0.0', end: '10.0.0.255' }] } };
      },
    });
    expectVerdict(run, ['app-ip-relaxation', 'live-token-exchange'], 'ipRestricted');
  });

  it('app-pkce: PKCE required on the app', async () => {
    const run = await scenario({ mutate: (fx) => void (globalOauth(fx).isPkceRequired = 'true') });
    // The emulator's JWT bearer grant does not look at PKCE: the login still works, the check flags seed 001 step 2.
    expectVerdict(run, ['app-pkce']);
  });

  it('app-jwt-access-tokens: JWT-based access tokens for named users', async () => {
    const run = await scenario({ mutate: (fx) => void (globalOauth(fx).isNamedUserJwtEnabled = 'true') });
    // The token is issued and REST accepts it (live-api-call passes); Metadata and Bulk API would refuse it.
    expectVerdict(run, ['app-jwt-access-tokens']);
    expect(check(run.report, 'live-api-call').status).to.equal('pass');
  });

  it('app-certificate-key-match: the app holds another key pair\'s certificate (invalid assertion)', async () => {
    const run = await scenario({ refusal: 'invalidAssertion', mutate: (fx) => void (globalOauth(fx).certificate = otherKey.certificatePem) });
    expectVerdict(run, ['app-certificate-key-match', 'live-token-exchange'], 'invalidAssertion');
  });

  it('app-certificate-key-match: doctor given another private key (invalid assertion)', async () => {
    const run = await scenario({ refusal: 'invalidAssertion', options: { privateKeyFile: otherKey.privateKeyFile } });
    expectVerdict(run, ['app-certificate-key-match', 'live-token-exchange'], 'invalidAssertion');
  });

  it('app-certificate: the certificate expired', async () => {
    const now = Date.now();
    const run = await scenario({
      mutate: (fx) => void (globalOauth(fx).certificate = certificateFor(jwt.privateKeyPem, new Date(now - 400 * DAY_MS), new Date(now - DAY_MS))),
    });
    // The emulator, like the JWT signature check, uses the certificate's key and not its dates: login works.
    // 400 days in use is past the default rotation period of 365 days: credential-age warns (NHI7).
    expectVerdict(run, ['app-certificate', 'credential-age']);
    expect(check(run.report, 'app-certificate').status).to.equal('fail');
    expect(check(run.report, 'credential-age').status).to.equal('warn');
    expect(check(run.report, 'credential-age').fix?.command).to.match(/^sf integration rotate --name /);
  });

  it('app-certificate: the certificate expires within 30 days (warn)', async () => {
    const now = Date.now();
    const run = await scenario({
      mutate: (fx) => void (globalOauth(fx).certificate = certificateFor(jwt.privateKeyPem, new Date(now - DAY_MS), new Date(now + 10 * DAY_MS))),
    });
    expectVerdict(run, ['app-certificate']);
    expect(check(run.report, 'app-certificate').status).to.equal('warn');
  });

  it('app-flow-enabled: no certificate on the app, so no JWT bearer flow (invalid assertion)', async () => {
    const run = await scenario({ refusal: 'jwtNotEnabled', mutate: (fx) => void delete globalOauth(fx).certificate });
    expectVerdict(run, ['app-flow-enabled', 'live-token-exchange'], 'jwtNotEnabled');
    expect(check(run.report, 'app-certificate').status).to.equal('skip');
  });

  it('app-consumer-key: the consumer key was rotated (client identifier invalid)', async () => {
    const run = await scenario({ refusal: 'unknownClient', mutate: (fx) => void (globalOauth(fx).consumerKey = `3MVG9${'R'.repeat(80)}`) });
    expectVerdict(run, ['app-consumer-key', 'live-token-exchange'], 'unknownClient');
  });

  it('app-scopes: the refresh_token scope removed', async () => {
    const run = await scenario({ refusal: 'missingRefreshScope',
      mutate: (fx) => {
        const settings = component(fx, 'ExtlClntAppOauthSettings', JWT_APP);
        settings.commaSeparatedOauthScopes = String(settings.commaSeparatedOauthScopes)
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== 'RefreshToken' && x !== 'OfflineAccess')
          .join(', ');
      },
    });
    expectVerdict(run, ['app-scopes', 'live-token-exchange'], 'missingRefreshScope');
  });

  it('app-exists: the app is not in the org (client identifier invalid)', async () => {
    const run = await scenario({ refusal: 'unknownClient',
      mutate: (fx) => {
        for (const type of Object.keys(fx.metadata ?? {})) {
          fx.metadata![type] = fx.metadata![type].filter((c) => c.fullName !== JWT_APP && c.externalClientApplication !== JWT_APP);
        }
      },
    });
    expectVerdict(run, ['app-exists', 'live-token-exchange'], 'unknownClient');
  });

  it('app-exists: doctor asked for a misspelt app name, and suggests the near match', async () => {
    const run = await scenario({ options: { appName: 'HubSpot_Integraton' } });
    // Only the name is wrong: the live exchange with the right consumer key works.
    expectVerdict(run, ['app-exists']);
    expect(check(run.report, 'app-exists').finding).to.include(JWT_APP);
  });

  it('app-propagation: the app changed a moment ago (External client app is not installed)', async () => {
    const run = await scenario({ refusal: 'ecaNotInstalled',
      mutate: (fx) => void (fx.emulator = { ...fx.emulator, propagationSeconds: 600 }),
      afterStart: (emu) => {
        const header = emu.store.getMetadata('ExternalClientApplication', JWT_APP)!;
        emu.store.putMetadata('ExternalClientApplication', { ...header, description: 'edited in Setup' }, { system: true });
      },
    });
    expectVerdict(run, ['app-propagation', 'live-token-exchange'], 'ecaNotInstalled');
  });

  // ---- User ------------------------------------------------------------------------------------------------------
  it('user-active: the integration user deactivated (inactive user)', async () => {
    const run = await scenario({ refusal: 'inactiveUser', mutate: (fx) => void (one(fx, 'User', (u) => u.Username === jwt.username).IsActive = false) });
    expectVerdict(run, ['user-active', 'live-token-exchange'], 'inactiveUser');
  });

  it('user-permission-set-assigned: the assignment expired', async () => {
    const run = await scenario({ refusal: 'notAdminApproved',
      mutate: (fx) => {
        const ps = one(fx, 'PermissionSet', (p) => p.Name === JWT_APP);
        one(fx, 'PermissionSetAssignment', (a) => a.PermissionSetId === ps.Id).ExpirationDate = new Date(Date.now() - DAY_MS).toISOString();
      },
    });
    // The set is still selected on the app (app-permission-set-associated passes); what broke is the assignment,
    // so the cause "not assigned, or its assignment expired" is the confirmed one ranked first. The user also lacks
    // the spec's object access while the assignment is expired.
    expectVerdict(run, ['user-permission-set-assigned', 'user-spec-drift', 'live-token-exchange'], 'notAdminApproved', 'user-permission-set-assigned');
  });

  it('user-permission-set-assigned: the assignment has an expiry date (warn: it will lapse)', async () => {
    const run = await scenario({
      mutate: (fx) => {
        const ps = one(fx, 'PermissionSet', (p) => p.Name === JWT_APP);
        one(fx, 'PermissionSetAssignment', (a) => a.PermissionSetId === ps.Id).ExpirationDate = new Date(Date.now() + 10 * DAY_MS).toISOString();
      },
    });
    expectVerdict(run, ['user-permission-set-assigned']);
    expect(check(run.report, 'user-permission-set-assigned').status).to.equal('warn');
  });

  it('user-api-enabled: API Enabled removed from the profile and the permission set (API is disabled for this User)', async () => {
    const run = await scenario({ refusal: 'apiDisabled',
      mutate: (fx) => {
        const profile = one(fx, 'Profile', (p) => p.Name === INTEGRATION_PROFILE);
        profile.PermissionsApiEnabled = false;
        one(fx, 'PermissionSet', (p) => p.IsOwnedByProfile === true && p.ProfileId === profile.Id).PermissionsApiEnabled = false;
        one(fx, 'PermissionSet', (p) => p.Name === JWT_APP).PermissionsApiEnabled = false;
      },
    });
    // The spec asks for ApiEnabled, so the user now lacks a permission of the spec too.
    expectVerdict(run, ['user-api-enabled', 'user-spec-drift', 'live-token-exchange'], 'apiDisabled');
  });

  it('user-least-privilege: Modify All Data added to the permission set', async () => {
    const run = await scenario({ mutate: (fx) => void (one(fx, 'PermissionSet', (p) => p.Name === JWT_APP).PermissionsModifyAllData = true) });
    // Privilege creep is also drift from the spec create wrote.
    expectVerdict(run, ['user-least-privilege', 'user-spec-drift']);
    expect(check(run.report, 'user-least-privilege').status).to.equal('fail');
    expect(check(run.report, 'user-least-privilege').finding).to.include('ModifyAllData');
  });

  it('user-license: the user moved to a profile of the full Salesforce license', async () => {
    const run = await scenario({
      mutate: (fx) => {
        const salesforce = one(fx, 'UserLicense', (l) => l.Name === 'Salesforce');
        const profileId = id18('00eEm00000000S1');
        fx.records!.Profile.push({ Id: profileId, Name: 'API Only - Salesforce', UserLicenseId: salesforce.Id, UserType: 'Standard', PermissionsApiEnabled: true, PermissionsApiUserOnly: true });
        fx.records!.PermissionSet.push({
          Id: id18('0PSEm00000000S1'),
          Name: 'X00eEm00000000S1',
          Label: 'API Only - Salesforce',
          IsOwnedByProfile: true,
          IsCustom: false,
          ProfileId: profileId,
          LicenseId: salesforce.Id,
          Type: 'Profile',
          PermissionsApiEnabled: true,
          PermissionsApiUserOnly: true,
        });
        one(fx, 'User', (u) => u.Username === jwt.username).ProfileId = profileId;
      },
    });
    expectVerdict(run, ['user-license']);
  });

  it('user-api-only: the profile allows interactive login', async () => {
    const run = await scenario({
      mutate: (fx) => {
        const profile = one(fx, 'Profile', (p) => p.Name === INTEGRATION_PROFILE);
        profile.PermissionsApiUserOnly = false;
        one(fx, 'PermissionSet', (p) => p.IsOwnedByProfile === true && p.ProfileId === profile.Id).PermissionsApiUserOnly = false;
      },
    });
    expectVerdict(run, ['user-api-only']);
  });

  it('user-permission-set-license: the Salesforce API Integration license assignment removed', async () => {
    const run = await scenario({
      mutate: (fx) => {
        const user = one(fx, 'User', (u) => u.Username === jwt.username);
        fx.records!.PermissionSetLicenseAssign = records(fx, 'PermissionSetLicenseAssign').filter((a) => a.AssigneeId !== user.Id);
      },
    });
    // The emulator does not tie the token endpoint to the license: the login works, the check flags it.
    expectVerdict(run, ['user-permission-set-license']);
  });

  it('user-spec-drift: Contact access added to the permission set outside the spec (privilege creep)', async () => {
    const run = await scenario({
      mutate: (fx) => {
        const ps = one(fx, 'PermissionSet', (p) => p.Name === JWT_APP);
        fx.records!.ObjectPermissions.push({ ParentId: ps.Id, SobjectType: 'Contact', PermissionsRead: true, PermissionsCreate: false, PermissionsEdit: false, PermissionsDelete: false, PermissionsViewAllRecords: false, PermissionsModifyAllRecords: false });
      },
    });
    expectVerdict(run, ['user-spec-drift']);
    expect(check(run.report, 'user-spec-drift').finding).to.include('Contact.read');
  });

  it('user-spec-drift: doctor given a spec that asks for less (Account read only)', async () => {
    const { parseSpecFile } = await import('../../src/desired/index.js');
    const text = (await readFile(jwt.specFile, 'utf8')).replace(/\n\s+- edit\n/, '\n');
    const run = await scenario({ options: { spec: parseSpecFile(text, 'narrow.yaml') } });
    expectVerdict(run, ['user-spec-drift']);
    expect(check(run.report, 'user-spec-drift').finding).to.include('Account.edit');
  });

  it('user-exists: the username doctor and the external system use is not in the org (user hasn\'t approved this consumer)', async () => {
    // The org's user was renamed (as a sandbox refresh does); the external system still sends the old name.
    const run = await scenario({ refusal: 'unknownUser', mutate: (fx) => void (one(fx, 'User', (u) => u.Username === jwt.username).Username = `${jwt.username}.dev`) });
    expectVerdict(run, ['user-exists', 'live-token-exchange'], 'unknownUser');
  });

  // ---- Org: served under a My Domain host name --------------------------------------------------------------------
  it('user-sandbox-username: in sandbox emulated-org--dev the username lacks the .dev suffix', async () => {
    const run = await scenario({
      subdomain: 'emulated-org--dev.sandbox',
      mutate: (fx) => void (one(fx, 'Organization', () => true).IsSandbox = true),
    });
    expectVerdict(run, ['user-sandbox-username']);
    expect(run.report.org).to.include({ isSandbox: true, subdomain: 'emulated-org--dev.sandbox', audience: 'https://test.salesforce.com' });
  });

  it('org-login-url: a sandbox behind a production-style subdomain (the external system signs for login.salesforce.com: audience is invalid)', async () => {
    let external: NonNullable<LiveResult['tokenExchange']> | undefined;
    const run = await scenario(
      { subdomain: 'emulated-org', mutate: (fx) => void (one(fx, 'Organization', () => true).IsSandbox = true) },
      undefined,
      async ({ emu }) => {
        // What an external system that infers the environment from the subdomain sends (seed 001 step 7).
        const live = await domain.exchangeToken(
          { loginUrl: emu.instanceUrl, instanceUrl: emu.instanceUrl, audience: 'https://login.salesforce.com' },
          { flow: 'jwt', clientId: jwt.consumerKey, username: jwt.username, privateKeyPem: jwt.privateKeyPem },
          { apiVersion: '66.0' }
        );
        external = live.tokenExchange;
      }
    );
    // Doctor's own exchange uses the audience the org really needs, so it passes; the check flags the subdomain.
    expectVerdict(run, ['org-login-url']);
    expect(external?.ok).to.equal(false);
    const text = `${external?.error ?? ''}: ${external?.errorDescription ?? ''}`;
    expect(text).to.equal(pair('audience'));
    const [top] = domain.explainError(text, run.report.checks).causes;
    expect(top.confirmed).to.equal(true);
    expect(top.confirmingChecks).to.include('org-login-url');
  });

  // ---- Live ------------------------------------------------------------------------------------------------------
  it('live-api-call: the token is issued but the REST call is refused', async () => {
    // No org state makes the emulator issue a token and then refuse REST (real orgs do, with API_DISABLED_FOR_ORG):
    // injected as a fault on the API version resource, which only the live REST call reads.
    const run = await scenario({
      afterStart: (emu) =>
        emu.injectFault({ method: 'GET', path: '^/services/data/v[0-9.]+/?$', status: 403, errorCode: 'API_DISABLED_FOR_ORG', message: 'API is not enabled for this Organization or Partner' }),
    });
    expectVerdict(run, ['live-api-call']);
    const call = check(run.report, 'live-api-call');
    expect(call.finding).to.include('API_DISABLED_FOR_ORG');
    expect(domain.explainError(call.finding, run.report.checks).entry).to.equal('api-disabled');
  });

  it('worked for weeks, then invalid_grant: a 1-day refresh token policy aged the approval out', async () => {
    const run = await scenario({ refusal: 'notApproved',
      // The permission set was associated three days ago (the org loads at that time), and it is now now.
      mutate: (fx) => {
        Object.assign(policies(fx), { refreshTokenPolicyType: 'SpecificLifetime', refreshTokenValidityPeriod: 1, refreshTokenValidityUnit: 'Days' });
        fx.emulator = { ...fx.emulator, now: new Date(Date.now() - 3 * DAY_MS).toISOString() };
      },
      afterStart: (emu) => void delete emu.store.settings.now,
    });
    expectVerdict(run, ['app-refresh-token-policy', 'live-token-exchange'], 'notApproved');
    const explanation = domain.explainError(`It worked for weeks, now: ${pair('notApproved')}`, run.report.checks);
    expect(explanation.entry).to.equal('worked-then-invalid-grant');
    expect(explanation.causes[0]).to.include({ confirmed: true });
    expect(explanation.causes[0].confirmingChecks).to.deep.equal(['app-refresh-token-policy']);
  });

  // ---- Client credentials ------------------------------------------------------------------------------------------
  const ccOptions = async (): Promise<Partial<DoctorOptions>> => ({
    appName: CC_APP,
    username: cc.username,
    clientId: cc.consumerKey,
    clientSecret: cc.secret,
    privateKeyFile: undefined,
    spec: await (await import('../../src/desired/index.js')).readSpecFile(cc.specFile),
  });

  it('client credentials: the integration create set up passes', async () => {
    const run = await scenario({ options: await ccOptions() });
    expect(run.report.flow).to.equal('client-credentials');
    expectVerdict(run, []);
    expect(check(run.report, 'app-client-credentials-user').status).to.equal('pass');
    expect(check(run.report, 'live-api-call').status).to.equal('pass');
  });

  it('app-client-credentials-user: no run-as user on the app (no client credentials user enabled)', async () => {
    const run = await scenario({ refusal: 'ccNoUser', mutate: (fx) => void delete policies(fx, CC_APP).clientCredentialsFlowUser, options: await ccOptions() });
    expectVerdict(run, ['app-client-credentials-user', 'live-token-exchange'], 'ccNoUser');
  });

  // ---- --fix -------------------------------------------------------------------------------------------------------
  const breakFixable = (fx: Fixture): void => {
    Object.assign(policies(fx), { commaSeparatedPermissionSet: '', refreshTokenPolicyType: 'Zero' });
    globalOauth(fx).isPkceRequired = 'true';
    const ps = one(fx, 'PermissionSet', (p) => p.Name === JWT_APP);
    one(fx, 'PermissionSetAssignment', (a) => a.PermissionSetId === ps.Id).ExpirationDate = new Date(Date.now() - DAY_MS).toISOString();
  };
  const BROKEN = ['app-permission-set-associated', 'app-pkce', 'app-refresh-token-policy', 'live-token-exchange', 'user-permission-set-assigned', 'user-spec-drift'];

  it('--fix repairs the association, the policies and the assignment; doctor then passes', async () => {
    const asked: string[][] = [];
    await scenario(
      { mutate: breakFixable },
      {
        confirm: (plan) => {
          asked.push(plan.steps.map((step) => step.id));
          return Promise.resolve(true);
        },
      },
      async (run, org) => {
        expect(asked, 'the plan shown before writing').to.have.length(1);
        expect(asked[0]).to.have.members(['app', 'permission-set-assignment']);
        const fixes = run.report.fixes ?? [];
        expect(fixes.map((f) => f.name)).to.have.members(['app', 'permission-set-assignment']);
        expect(fixes.every((f) => f.status !== 'failed'), JSON.stringify(fixes)).to.equal(true);
        expect(run.writes, 'the fixes wrote').to.be.greaterThan(0);
        // The report after --fix re-ran the checks: only the just-deployed app's propagation warns.
        expect(flagged(run.report), describeChecks(run.report)).to.deep.equal(['app-propagation']);

        agePropagation(run.emu.store);
        run.emu.clearLog();
        const again = await domain.diagnoseOrg(org, 'emu', await jwtOptions());
        expect(flagged(again), describeChecks(again)).to.deep.equal([]);
        expect(check(again, 'live-token-exchange').status).to.equal('pass');
        expect(run.emu.log().writes).to.equal(0);
      }
    );
  });

  it('--fix declined writes nothing and reports the findings unchanged', async () => {
    let offered = 0;
    const run = await scenario(
      { mutate: breakFixable },
      {
        confirm: () => {
          offered++;
          return Promise.resolve(false);
        },
      }
    );
    expect(offered).to.equal(1);
    expect(run.report.fixes).to.deep.equal([]);
    expect(run.writes).to.equal(0);
    expect(flagged(run.report), describeChecks(run.report)).to.deep.equal(BROKEN);
  });

  it('every check id is flagged by some scenario above', async () => {
    const { CHECK_IDS } = await import('../../src/checks/index.js');
    expect([...CHECK_IDS].filter((id) => !covered.has(id))).to.deep.equal([]);
    expect(CHECK_IDS).to.have.length(28);
  });
});
