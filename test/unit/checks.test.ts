import { expect } from 'chai';
import { ALL_CHECKS, CHECK_IDS, checkById, runChecks } from '../../src/checks/index.js';
import { checkMessages } from '../../src/checks/messages.js';
import type { CheckContext, CheckResult, CheckStatus } from '../../src/checks/types.js';
import type { OrgSnapshot } from '../../src/org/types.js';
import {
  clientCredentialsContext,
  clientCredentialsSnapshot,
  CONSUMER_KEY,
  daysFrom,
  EC_CERTIFICATE,
  healthyContext,
  healthySnapshot,
  IDS,
  INTEGRATION_PROFILE,
  makeCertificate,
  minutesBefore,
  NOW,
  permissionSet,
  profileSet,
  sandboxOrg,
  USERNAME,
} from './snapshot-fixtures.js';

const run = (id: string, snapshot: OrgSnapshot = healthySnapshot(), ctx: CheckContext = healthyContext()): CheckResult => {
  const check = checkById(id);
  if (!check) throw new Error(`no check ${id}`);
  return { id, group: check.group, ...check.run(snapshot, ctx) };
};

/** Asserts the status, that the finding names each value, and that a warn/fail carries a fix. */
const expectResult = (result: CheckResult, status: CheckStatus, ...values: string[]): void => {
  expect(result.status, result.finding).to.equal(status);
  for (const value of values) expect(result.finding).to.include(value);
  if (status === 'warn' || status === 'fail') {
    expect(result.fix?.setup, `${result.id} fix`).to.match(/\S/);
  } else {
    expect(result.fix).to.equal(undefined);
  }
};

const EXPECTED_IDS = [
  'org-login-url',
  'app-exists',
  'app-flow-enabled',
  'app-certificate',
  'app-certificate-key-match',
  'app-consumer-key',
  'app-scopes',
  'app-pkce',
  'app-jwt-access-tokens',
  'app-admin-approved',
  'app-refresh-token-policy',
  'app-ip-relaxation',
  'app-permission-set-associated',
  'app-propagation',
  'app-client-credentials-user',
  'credential-age',
  'user-exists',
  'user-active',
  'user-license',
  'user-api-only',
  'user-permission-set-assigned',
  'user-permission-set-license',
  'user-api-enabled',
  'user-least-privilege',
  'user-sandbox-username',
  'user-spec-drift',
  'live-token-exchange',
  'live-api-call',
];

describe('checks', () => {
  describe('registry and runChecks', () => {
    it('has exactly the contract ids, ordered Org, App, User, Live', () => {
      expect([...CHECK_IDS]).to.deep.equal(EXPECTED_IDS);
      const groups = ALL_CHECKS.map((check) => check.group);
      const order = ['org', 'app', 'user', 'live'];
      expect(groups.map((group) => order.indexOf(group))).to.deep.equal(
        [...groups.map((group) => order.indexOf(group))].sort((a, b) => a - b)
      );
    });

    it('documents every id with a one-line description', () => {
      for (const id of CHECK_IDS) {
        const description = checkMessages.getMessage(`${id}.description`);
        expect(description, id).to.match(/\S/);
        expect(description, id).not.to.include('\n');
      }
    });

    it('passes every check on the seed-001 JWT setup (the run-as user check does not apply to JWT)', () => {
      const results = runChecks(healthySnapshot(), healthyContext());
      expect(results.map((result) => result.id)).to.deep.equal(EXPECTED_IDS);
      const notPassing = results.filter((result) => result.status !== 'pass').map((result) => result.id);
      expect(notPassing).to.deep.equal(['app-client-credentials-user']);
    });

    it('passes every check on the seed-004 client-credentials setup except the certificate ones (the secret is as old as the app)', () => {
      const results = runChecks(clientCredentialsSnapshot(), clientCredentialsContext());
      const notPassing = results.filter((result) => result.status !== 'pass').map((result) => `${result.id}:${result.status}`);
      expect(notPassing).to.deep.equal(['app-certificate:skip', 'app-certificate-key-match:skip']);
    });

    it('skips app checks without an app, user checks without a user, live checks without live results', () => {
      const snapshot = healthySnapshot({ app: null, user: null });
      const results = runChecks(snapshot, healthyContext({ live: undefined, desired: undefined }));
      const byId = new Map(results.map((result) => [result.id, result]));
      expect(byId.get('app-exists')?.status).to.equal('fail');
      expect(byId.get('user-exists')?.status).to.equal('fail');
      for (const result of results) {
        if (!['org-login-url', 'app-exists', 'user-exists'].includes(result.id)) {
          expect(result.status, result.id).to.equal('skip');
          expect(result.finding, result.id).to.match(/\S/);
        }
      }
    });

    it('gives every warn/fail a fix, and commands with autoFixable only where doctor --fix applies', () => {
      const broken = healthySnapshot({
        app: {
          pkceRequired: true,
          namedUserJwt: true,
          refreshTokenPolicy: { type: 'specific_lifetime', value: 1, unit: 'DAYS' },
          ipRelaxation: 'ENFORCE',
          permittedUsers: 'AllSelfAuthorized',
          permissionSetIds: [],
        },
        user: { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet, expirationDate: daysFrom(NOW, 5).toISOString() }], permissionSetLicenses: [] },
      });
      const results = runChecks(broken, healthyContext());
      const fixable = results.filter((result) => result.fix?.autoFixable).map((result) => result.id);
      expect(fixable).to.have.members([
        'app-pkce',
        'app-jwt-access-tokens',
        'app-admin-approved',
        'app-refresh-token-policy',
        'app-ip-relaxation',
        'app-permission-set-associated',
        'user-permission-set-assigned',
        'user-permission-set-license',
      ]);
      for (const result of results.filter((r) => r.fix?.autoFixable)) {
        expect(result.fix?.command).to.equal(`sf integration doctor --fix --name HubSpot_Integration --username ${USERNAME}`);
      }
    });
  });

  describe('org-login-url', () => {
    it('passes a production org and names login URL, audience and subdomain', () => {
      expectResult(run('org-login-url'), 'pass', 'Production', 'https://acme.my.salesforce.com', 'https://login.salesforce.com', 'acme');
    });

    it('passes an enhanced-domain sandbox with test.salesforce.com', () => {
      const result = run('org-login-url', healthySnapshot({ org: sandboxOrg() }), healthyContext({ live: undefined }));
      expectResult(result, 'pass', 'Sandbox', 'https://test.salesforce.com', 'acme--dev.sandbox');
    });

    it('passes an org without My Domain in the instance URL and says so', () => {
      const org = { subdomain: undefined, instanceUrl: 'https://localhost:8443', loginUrl: 'https://localhost:8443', audience: 'https://localhost:8443' };
      expectResult(run('org-login-url', healthySnapshot({ org }), healthyContext({ live: undefined })), 'pass', 'no My Domain subdomain');
    });

    it('fails a sandbox whose audience is login.salesforce.com ("audience is invalid")', () => {
      const org = { ...sandboxOrg(), audience: 'https://login.salesforce.com' };
      const result = run('org-login-url', healthySnapshot({ org }), healthyContext({ live: undefined }));
      expectResult(result, 'fail', 'Sandbox', 'the audience https://login.salesforce.com is for a Production org');
      expect(result.fix?.setup).to.include('https://test.salesforce.com');
    });

    it('fails a production org whose login URL is test.salesforce.com', () => {
      const result = run('org-login-url', healthySnapshot({ org: { loginUrl: 'https://test.salesforce.com' } }));
      expectResult(result, 'fail', 'https://test.salesforce.com points to a Sandbox org');
    });

    it('fails a production org with a sandbox-form subdomain', () => {
      const result = run('org-login-url', healthySnapshot({ org: { subdomain: 'acme--dev' } }));
      expectResult(result, 'fail', "subdomain 'acme--dev' has the form of a Sandbox org");
    });

    it('fails when the live exchange used the other environment', () => {
      const ctx = healthyContext({
        live: { tokenExchange: { ok: false, error: 'invalid_grant', errorDescription: 'audience is invalid', loginUrl: 'https://test.salesforce.com', audience: 'https://test.salesforce.com' } },
      });
      const result = run('org-login-url', healthySnapshot(), ctx);
      expectResult(result, 'fail', 'the token request went to https://test.salesforce.com', "the assertion's audience https://test.salesforce.com");
    });

    it('fails client credentials against login.salesforce.com ("request not supported on this domain")', () => {
      const snapshot = clientCredentialsSnapshot({ org: { loginUrl: 'https://login.salesforce.com' } });
      const result = run('org-login-url', snapshot, clientCredentialsContext({ live: undefined }));
      expectResult(result, 'fail', 'https://login.salesforce.com', 'request not supported on this domain');
    });
  });

  describe('app-exists', () => {
    it('passes and names the app', () => {
      expectResult(run('app-exists'), 'pass', 'External Client App', 'HubSpot_Integration', IDS.app);
    });

    it('names a Connected App as such', () => {
      expectResult(run('app-exists', healthySnapshot({ app: { kind: 'connected-app' } })), 'pass', 'Connected App');
    });

    it('fails for a missing app and suggests near names', () => {
      const snapshot = healthySnapshot({ app: null, otherAppNames: ['Hubspot Integration', 'Zendesk'] });
      const result = run('app-exists', snapshot, healthyContext({ appName: 'HubSpot_Integraton' }));
      expectResult(result, 'fail', 'HubSpot_Integraton', 'Hubspot Integration');
      expect(result.finding).not.to.include('Zendesk');
    });

    it('fails when no app was named and none pre-authorizes the user', () => {
      const snapshot = healthySnapshot({ app: null, otherAppNames: ['Zendesk'] });
      expectResult(run('app-exists', snapshot, healthyContext({ appName: undefined })), 'fail', USERNAME, 'Zendesk');
    });
  });

  describe('app-flow-enabled', () => {
    it('passes JWT with a certificate', () => {
      expectResult(run('app-flow-enabled'), 'pass', 'JWT bearer');
    });
    it('fails JWT without a certificate', () => {
      const result = run('app-flow-enabled', healthySnapshot({ app: { certificate: undefined } }));
      expectResult(result, 'fail', 'HubSpot_Integration', 'no certificate');
      expect(result.fix?.setup).to.include('Enable JWT Bearer Flow');
    });
    it('passes client credentials when enabled', () => {
      expectResult(run('app-flow-enabled', clientCredentialsSnapshot(), clientCredentialsContext()), 'pass', 'client credentials');
    });
    it('fails client credentials when the flow is off', () => {
      const result = run('app-flow-enabled', clientCredentialsSnapshot({ app: { clientCredentialsEnabled: false } }), clientCredentialsContext());
      expectResult(result, 'fail', 'does not enable the client credentials flow');
      expect(result.fix?.setup).to.include('Enable Client Credentials Flow');
    });
    it('skips without an app', () => {
      expectResult(run('app-flow-enabled', healthySnapshot({ app: null })), 'skip', 'app-exists');
    });
  });

  describe('app-certificate', () => {
    const withCert = (certificate: string): OrgSnapshot => healthySnapshot({ app: { certificate } });

    it('passes RSA 2048 / SHA-256 valid for a year and names it', () => {
      expectResult(run('app-certificate'), 'pass', 'CN=salesforce-jwt-integration', '2048', 'sha256WithRSAEncryption', '2028-02-29');
    });
    it('passes SHA-512 (SHA-2 family)', () => {
      expectResult(run('app-certificate', withCert(makeCertificate({ digest: 'sha512' }))), 'pass', 'sha512WithRSAEncryption');
    });
    it('fails an expired certificate with its date', () => {
      const certificate = makeCertificate({ notBefore: daysFrom(NOW, -400), notAfter: daysFrom(NOW, -1) });
      expectResult(run('app-certificate', withCert(certificate)), 'fail', 'expired on 2027-02-28');
    });
    it('warns when it expires within 30 days', () => {
      const certificate = makeCertificate({ notAfter: daysFrom(NOW, 10) });
      expectResult(run('app-certificate', withCert(certificate)), 'warn', 'expires on 2027-03-11', 'in 10 days');
    });
    it('passes at 30 days left', () => {
      expectResult(run('app-certificate', withCert(makeCertificate({ notAfter: daysFrom(NOW, 31) }))), 'pass');
    });
    it('fails a certificate not yet valid', () => {
      const certificate = makeCertificate({ notBefore: daysFrom(NOW, 2), notAfter: daysFrom(NOW, 400) });
      expectResult(run('app-certificate', withCert(certificate)), 'fail', 'not valid before 2027-03-03');
    });
    it('warns on a SHA-1 signature', () => {
      expectResult(run('app-certificate', withCert(makeCertificate({ digest: 'sha1' }))), 'warn', 'sha1WithRSAEncryption', 'not SHA-256');
    });
    it('fails an RSA key under 2048 bits', () => {
      expectResult(run('app-certificate', withCert(makeCertificate({ bits: 1024 }))), 'fail', '1024 bits', 'fewer than 2048');
    });
    it('fails an EC key', () => {
      expectResult(run('app-certificate', withCert(EC_CERTIFICATE)), 'fail', 'the key is ec', 'only RSA', 'CN=ec-test');
    });
    it('reports every problem and the worst status', () => {
      const certificate = makeCertificate({ digest: 'sha1', bits: 1024, notAfter: daysFrom(NOW, 3) });
      expectResult(run('app-certificate', withCert(certificate)), 'fail', '1024 bits', 'sha1WithRSAEncryption', 'in 3 days');
    });
    it('fails a certificate that does not parse', () => {
      expectResult(run('app-certificate', withCert('-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----')), 'fail', 'not a parseable');
    });
    it('skips without a certificate and without an app', () => {
      expectResult(run('app-certificate', healthySnapshot({ app: { certificate: undefined } })), 'skip', 'HubSpot_Integration');
      expectResult(run('app-certificate', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-certificate-key-match', () => {
    it('passes a matching key and names its path', () => {
      expectResult(run('app-certificate-key-match'), 'pass', './hubspot-integration/private-key.pem');
    });
    it('fails a key that does not match ("invalid assertion")', () => {
      const ctx = healthyContext({ privateKey: { path: './old.pem', matchesCertificate: false } });
      expectResult(run('app-certificate-key-match', healthySnapshot(), ctx), 'fail', './old.pem', 'invalid assertion');
    });
    it('skips without --private-key-file, without a certificate, without an app', () => {
      expectResult(run('app-certificate-key-match', healthySnapshot(), healthyContext({ privateKey: undefined })), 'skip', '--private-key-file');
      expectResult(run('app-certificate-key-match', healthySnapshot({ app: { certificate: undefined } })), 'skip');
      expectResult(run('app-certificate-key-match', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-consumer-key', () => {
    it('passes the app consumer key, masked', () => {
      const result = run('app-consumer-key');
      expectResult(result, 'pass', '3MVG9x…tion');
      expect(result.finding).not.to.include(CONSUMER_KEY);
    });
    it('fails another key and names both (masked)', () => {
      const ctx = healthyContext({ clientId: '3MVG9yyyyyyyyyyyyyyyyyyyyOtherApp' });
      expectResult(run('app-consumer-key', healthySnapshot(), ctx), 'fail', '3MVG9y…rApp', '3MVG9x…tion', 'client identifier invalid');
    });
    it('skips without --client-id, and when the app key could not be read', () => {
      expectResult(run('app-consumer-key', healthySnapshot(), healthyContext({ clientId: undefined })), 'skip', '--client-id');
      expectResult(run('app-consumer-key', healthySnapshot({ app: { consumerKey: undefined } })), 'skip', 'could not be read');
    });
  });

  describe('app-scopes', () => {
    it('passes api + refresh_token and names them', () => {
      expectResult(run('app-scopes'), 'pass', 'api, refresh_token, offline_access');
    });
    it('accepts offline_access alone and metadata spellings', () => {
      expectResult(run('app-scopes', healthySnapshot({ app: { scopes: ['api', 'offline_access'] } })), 'pass');
      expectResult(run('app-scopes', healthySnapshot({ app: { scopes: ['Api', 'RefreshToken'] } })), 'pass');
    });
    it('fails without refresh_token for JWT', () => {
      expectResult(run('app-scopes', healthySnapshot({ app: { scopes: ['api', 'web'] } })), 'fail', 'api, web', 'refresh_token/offline_access');
    });
    it('does not require refresh_token for client credentials', () => {
      expectResult(run('app-scopes', clientCredentialsSnapshot({ app: { scopes: ['api'] } }), clientCredentialsContext()), 'pass');
    });
    it('fails without api', () => {
      expectResult(run('app-scopes', healthySnapshot({ app: { scopes: ['refresh_token', 'web'] } })), 'fail', 'missing: api');
    });
    it('warns on full', () => {
      expectResult(run('app-scopes', healthySnapshot({ app: { scopes: ['full', 'api', 'refresh_token'] } })), 'warn', 'full, api, refresh_token');
    });
    it('skips without an app', () => {
      expectResult(run('app-scopes', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-pkce', () => {
    it('passes when PKCE is not required', () => {
      expectResult(run('app-pkce'), 'pass', 'does not require PKCE');
    });
    it('fails for JWT when required, auto-fixable', () => {
      const result = run('app-pkce', healthySnapshot({ app: { pkceRequired: true } }));
      expectResult(result, 'fail', 'requires PKCE');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('warns for client credentials when required', () => {
      expectResult(run('app-pkce', clientCredentialsSnapshot({ app: { pkceRequired: true } }), clientCredentialsContext()), 'warn', 'requires PKCE');
    });
    it('skips without an app', () => {
      expectResult(run('app-pkce', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-jwt-access-tokens', () => {
    it('passes when named-user JWT tokens are off', () => {
      expectResult(run('app-jwt-access-tokens'), 'pass', 'HubSpot_Integration');
    });
    it('warns when on: Bulk and Metadata API break', () => {
      const result = run('app-jwt-access-tokens', healthySnapshot({ app: { namedUserJwt: true } }));
      expectResult(result, 'warn', 'Bulk API', 'Metadata API');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('skips without an app', () => {
      expectResult(run('app-jwt-access-tokens', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-admin-approved', () => {
    it('passes admin-approved pre-authorized', () => {
      expectResult(run('app-admin-approved'), 'pass', 'AdminApprovedPreAuthorized');
    });
    it('fails self-authorize for JWT ("user hasn\'t approved this consumer")', () => {
      const result = run('app-admin-approved', healthySnapshot({ app: { permittedUsers: 'AllSelfAuthorized' } }));
      expectResult(result, 'fail', 'AllSelfAuthorized', "user hasn't approved this consumer");
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('warns self-authorize for client credentials', () => {
      const snapshot = clientCredentialsSnapshot({ app: { permittedUsers: 'AllSelfAuthorized' } });
      expectResult(run('app-admin-approved', snapshot, clientCredentialsContext()), 'warn', 'AllSelfAuthorized');
    });
    it('skips without an app', () => {
      expectResult(run('app-admin-approved', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-refresh-token-policy', () => {
    it('passes infinite for JWT', () => {
      expectResult(run('app-refresh-token-policy'), 'pass', 'infinite');
    });
    it('fails a specific lifetime for JWT and names it', () => {
      const snapshot = healthySnapshot({ app: { refreshTokenPolicy: { type: 'specific_lifetime', value: 1, unit: 'DAYS' } } });
      const result = run('app-refresh-token-policy', snapshot);
      expectResult(result, 'fail', 'specific_lifetime:1:DAYS', 'valid until revoked');
      expect(result.fix?.setup).to.include('Salesforce Help: "Configure OAuth Policies"');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('fails zero (immediately expire) for JWT', () => {
      expectResult(run('app-refresh-token-policy', healthySnapshot({ app: { refreshTokenPolicy: { type: 'zero' } } })), 'fail', 'zero');
    });
    it('passes any policy for client credentials and says why', () => {
      const snapshot = clientCredentialsSnapshot({ app: { refreshTokenPolicy: { type: 'zero' } } });
      expectResult(run('app-refresh-token-policy', snapshot, clientCredentialsContext()), 'pass', 'zero', 'does not apply');
    });
    it('skips without an app', () => {
      expectResult(run('app-refresh-token-policy', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-ip-relaxation', () => {
    it('passes BYPASS', () => {
      expectResult(run('app-ip-relaxation'), 'pass', 'BYPASS', 'Relax IP restrictions');
    });
    for (const value of ['ENFORCE', 'BYPASS_2FACTOR', 'ENFORCE_RELAXREFRESH'] as const) {
      it(`warns ${value} with the "not authorized" explanation`, () => {
        const result = run('app-ip-relaxation', healthySnapshot({ app: { ipRelaxation: value } }));
        expectResult(result, 'warn', value, 'not authorized');
        expect(result.fix?.autoFixable).to.equal(true);
      });
    }
    it('skips without an app', () => {
      expectResult(run('app-ip-relaxation', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-permission-set-associated', () => {
    it('passes when a held permission set is selected on the app', () => {
      expectResult(run('app-permission-set-associated'), 'pass', 'HubSpot_Integration');
    });
    it('passes when the user profile is selected on the app', () => {
      const snapshot = healthySnapshot({ app: { permissionSetIds: [], profileIds: [IDS.profile] } });
      expectResult(run('app-permission-set-associated', snapshot), 'pass', INTEGRATION_PROFILE);
    });
    it('fails when the app selects another set (invalid_app_access), naming both sides', () => {
      const other = permissionSet({ id: IDS.otherSet, name: 'Other_Set' });
      const snapshot = healthySnapshot({ app: { permissionSetIds: [IDS.otherSet] }, permissionSets: [other] });
      const result = run('app-permission-set-associated', snapshot);
      expectResult(result, 'fail', 'Other_Set', 'HubSpot_Integration', USERNAME, 'invalid_app_access');
      expect(result.fix?.setup).to.include('Salesforce Help: "Preauthorize User App Access Through External Client App Policies"');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('passes when the selected set is assigned but expired: the expiry is user-permission-set-assigned\'s finding', () => {
      const user = { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet, expirationDate: daysFrom(NOW, -1).toISOString() }] };
      expectResult(run('app-permission-set-associated', healthySnapshot({ user })), 'pass', 'assignment to the user expired');
      expectResult(run('user-permission-set-assigned', healthySnapshot({ user })), 'fail', 'expired');
    });
    it('skips for client credentials with self-authorization', () => {
      const snapshot = clientCredentialsSnapshot({ app: { permittedUsers: 'AllSelfAuthorized', permissionSetIds: [] } });
      expectResult(run('app-permission-set-associated', snapshot, clientCredentialsContext()), 'skip', 'self-authorize');
    });
    it('skips without an app or a user', () => {
      expectResult(run('app-permission-set-associated', healthySnapshot({ app: null })), 'skip', 'app-exists');
      expectResult(run('app-permission-set-associated', healthySnapshot({ user: null })), 'skip', 'user-exists');
    });
  });

  describe('app-propagation', () => {
    it('passes an app changed a day ago', () => {
      expectResult(run('app-propagation'), 'pass', '1440 minutes');
    });
    it('warns an app changed 3 minutes ago', () => {
      const result = run('app-propagation', healthySnapshot({ app: { lastModifiedDate: minutesBefore(NOW, 3) } }));
      expectResult(result, 'warn', '3 minutes ago', minutesBefore(NOW, 3));
      expect(result.fix?.command).to.equal(undefined);
    });
    it('uses the creation date without a modification date', () => {
      const snapshot = healthySnapshot({ app: { lastModifiedDate: undefined, createdDate: minutesBefore(NOW, 9) } });
      expectResult(run('app-propagation', snapshot), 'warn', '9 minutes');
    });
    it('passes at 10 minutes', () => {
      expectResult(run('app-propagation', healthySnapshot({ app: { lastModifiedDate: minutesBefore(NOW, 10) } })), 'pass');
    });
    it('skips without dates or app', () => {
      const snapshot = healthySnapshot({ app: { lastModifiedDate: undefined, createdDate: undefined } });
      expectResult(run('app-propagation', snapshot), 'skip', 'no creation or modification date');
      expectResult(run('app-propagation', healthySnapshot({ app: null })), 'skip');
    });
  });

  describe('app-client-credentials-user', () => {
    const cc = clientCredentialsContext();
    it('passes an active API-only run-as user', () => {
      expectResult(run('app-client-credentials-user', clientCredentialsSnapshot(), cc), 'pass', USERNAME, INTEGRATION_PROFILE);
    });
    it('fails without a run-as user ("no client credentials user enabled")', () => {
      const snapshot = clientCredentialsSnapshot({ app: { runAsUsername: undefined } });
      expectResult(run('app-client-credentials-user', snapshot, cc), 'fail', 'no client credentials user enabled');
    });
    it('fails an inactive run-as user', () => {
      expectResult(run('app-client-credentials-user', clientCredentialsSnapshot({ user: { isActive: false } }), cc), 'fail', 'inactive');
    });
    it('fails a run-as user that is not API only', () => {
      const snapshot = clientCredentialsSnapshot({ permissionSets: [profileSet({ systemPermissions: { ApiEnabled: true } })] });
      expectResult(run('app-client-credentials-user', snapshot, cc), 'fail', 'API Only User', INTEGRATION_PROFILE);
    });
    it('warns when the run-as user is not the user checked', () => {
      const snapshot = clientCredentialsSnapshot({ app: { runAsUsername: 'admin@acme.com' } });
      expectResult(run('app-client-credentials-user', snapshot, cc), 'warn', 'admin@acme.com', USERNAME);
    });
    it('skips for JWT and without an app', () => {
      expectResult(run('app-client-credentials-user'), 'skip', 'JWT');
      expectResult(run('app-client-credentials-user', clientCredentialsSnapshot({ app: null }), cc), 'skip');
    });
  });

  describe('user-exists', () => {
    it('passes and names the user', () => {
      expectResult(run('user-exists'), 'pass', USERNAME, IDS.user);
    });
    it('fails a missing named user', () => {
      const result = run('user-exists', healthySnapshot({ user: null }), healthyContext({ username: 'integration@acme.com' }));
      expectResult(result, 'fail', 'integration@acme.com', 'sandbox');
    });
    it('fails when no user was named and the app leads to none', () => {
      const result = run('user-exists', healthySnapshot({ user: null }), healthyContext({ username: undefined }));
      expectResult(result, 'fail', 'HubSpot_Integration');
    });
  });

  describe('user-active', () => {
    it('passes an active user', () => {
      expectResult(run('user-active'), 'pass', USERNAME);
    });
    it('fails an inactive user ("inactive user")', () => {
      expectResult(run('user-active', healthySnapshot({ user: { isActive: false } })), 'fail', USERNAME, 'inactive user');
    });
    it('skips without a user', () => {
      expectResult(run('user-active', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-license', () => {
    it('passes the Salesforce Integration license', () => {
      expectResult(run('user-license'), 'pass', 'Salesforce Integration');
    });
    it('warns a standard license with cost, free integration licenses and the migration path', () => {
      const result = run('user-license', healthySnapshot({ user: { userLicenseName: 'Salesforce' } }));
      expectResult(result, 'warn', 'a Salesforce license', 'full-price', '4 of 5 free');
      expect(result.fix?.setup).to.include('Migrate').and.include('deactivate the old user');
    });
    it('skips without a user', () => {
      expectResult(run('user-license', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-api-only', () => {
    const notApiOnly = [profileSet({ systemPermissions: { ApiEnabled: true } })];
    it('passes through the profile', () => {
      expectResult(run('user-api-only'), 'pass', `profile '${INTEGRATION_PROFILE}'`);
    });
    it('passes through a permission set', () => {
      const sets = [...notApiOnly, permissionSet({ systemPermissions: { ApiEnabled: true, ApiUserOnly: true } })];
      expectResult(run('user-api-only', healthySnapshot({ permissionSets: sets })), 'pass', "permission set 'HubSpot_Integration'");
    });
    it('warns for JWT when nothing grants API Only User', () => {
      expectResult(run('user-api-only', healthySnapshot({ permissionSets: notApiOnly })), 'warn', USERNAME, INTEGRATION_PROFILE);
    });
    it('fails for client credentials when nothing grants API Only User', () => {
      const result = run('user-api-only', clientCredentialsSnapshot({ permissionSets: notApiOnly }), clientCredentialsContext());
      expectResult(result, 'fail', 'client credentials');
    });
    it('skips without a user', () => {
      expectResult(run('user-api-only', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-permission-set-assigned', () => {
    const assignment = (expirationDate?: string): Parameters<typeof healthySnapshot>[0] => ({
      user: { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet, expirationDate }] },
    });
    it('passes a never-expiring assignment', () => {
      expectResult(run('user-permission-set-assigned'), 'pass', 'HubSpot_Integration (never expires)');
    });
    it('warns an assignment with an expiry date, naming it', () => {
      const date = daysFrom(NOW, 30).toISOString();
      const result = run('user-permission-set-assigned', healthySnapshot(assignment(date)));
      expectResult(result, 'warn', date);
      expect(result.fix?.setup).to.include('Never Expires');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('fails an expired assignment', () => {
      const date = daysFrom(NOW, -2).toISOString();
      expectResult(run('user-permission-set-assigned', healthySnapshot(assignment(date))), 'fail', date, 'expired');
    });
    it("fails when none of the app's sets is assigned", () => {
      const result = run('user-permission-set-assigned', healthySnapshot({ user: { assignments: [] } }));
      expectResult(result, 'fail', 'holds none', 'HubSpot_Integration');
      expect(result.fix?.setup).to.include('HubSpot_Integration');
    });
    it('without an app, looks at every assignment', () => {
      expectResult(run('user-permission-set-assigned', healthySnapshot({ app: null })), 'pass', 'HubSpot_Integration');
    });
    it('skips without a user', () => {
      expectResult(run('user-permission-set-assigned', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-permission-set-license', () => {
    it('passes when the PSL is assigned', () => {
      expectResult(run('user-permission-set-license'), 'pass', 'SalesforceAPIIntegrationPsl', 'HubSpot_Integration');
    });
    it('fails when a set on the API Integration license lacks the PSL', () => {
      const result = run('user-permission-set-license', healthySnapshot({ user: { permissionSetLicenses: [] } }));
      expectResult(result, 'fail', 'HubSpot_Integration', 'SalesforceAPIIntegrationPsl', '4 of 5 free');
      expect(result.fix?.autoFixable).to.equal(true);
    });
    it('passes when no set needs it', () => {
      const snapshot = healthySnapshot({ user: { permissionSetLicenses: [] }, permissionSets: [permissionSet({ licenseName: undefined })] });
      expectResult(run('user-permission-set-license', snapshot), 'pass', 'no permission set license is needed');
    });
    it('skips without a user', () => {
      expectResult(run('user-permission-set-license', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-api-enabled', () => {
    it('passes and names the sources', () => {
      expectResult(run('user-api-enabled'), 'pass', `profile '${INTEGRATION_PROFILE}'`, "permission set 'HubSpot_Integration'");
    });
    it('passes through the permission set only', () => {
      const snapshot = healthySnapshot({ permissionSets: [profileSet({ systemPermissions: { ApiUserOnly: true } })] });
      const result = run('user-api-enabled', snapshot);
      expectResult(result, 'pass', "permission set 'HubSpot_Integration'");
      expect(result.finding).not.to.include('profile');
    });
    it('fails when neither grants it, naming what was checked', () => {
      const snapshot = healthySnapshot({
        permissionSets: [profileSet({ systemPermissions: { ApiUserOnly: true } }), permissionSet({ systemPermissions: {} })],
      });
      const result = run('user-api-enabled', snapshot);
      expectResult(result, 'fail', USERNAME, INTEGRATION_PROFILE, 'HubSpot_Integration');
      expect(result.fix?.setup).to.include('API Enabled');
    });
    it('ignores an expired permission set', () => {
      const snapshot = healthySnapshot({
        permissionSets: [profileSet({ systemPermissions: {} })],
        user: { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet, expirationDate: daysFrom(NOW, -1).toISOString() }] },
      });
      expectResult(run('user-api-enabled', snapshot), 'fail');
    });
    it('skips without a user', () => {
      expectResult(run('user-api-enabled', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-least-privilege', () => {
    it('passes the healthy user (ApiEnabled and ApiUserOnly are expected)', () => {
      expectResult(run('user-least-privilege'), 'pass', 'HubSpot_Integration');
    });
    it('fails Tier 0 from the profile, naming permission and source', () => {
      const snapshot = healthySnapshot({
        permissionSets: [profileSet({ profileName: 'System Administrator', systemPermissions: { ApiEnabled: true, ModifyAllData: true } })],
      });
      expectResult(run('user-least-privilege', snapshot), 'fail', 'ModifyAllData (Tier 0', "profile 'System Administrator'");
    });
    it('warns Tier 1..4 from a permission set', () => {
      const snapshot = healthySnapshot({
        permissionSets: [permissionSet({ systemPermissions: { ApiEnabled: true, ViewAllData: true, ViewSetup: true } })],
      });
      expectResult(run('user-least-privilege', snapshot), 'warn', 'ViewAllData (Tier 2', 'ViewSetup (Tier 4', "permission set 'HubSpot_Integration'");
    });
    it('warns object View All / Modify All', () => {
      const objects = [{ object: 'Account', read: true, create: false, edit: false, delete: false, viewAll: true, modifyAll: true }];
      const snapshot = healthySnapshot({ permissionSets: [permissionSet({ objects })] });
      expectResult(run('user-least-privilege', snapshot), 'warn', 'ViewAllRecords on Account', 'ModifyAllRecords on Account');
    });
    it('fails when Tier 0 and lower tiers mix, listing Tier 0 first', () => {
      const snapshot = healthySnapshot({
        permissionSets: [permissionSet({ systemPermissions: { ExportReport: true, AuthorApex: true } })],
      });
      const result = run('user-least-privilege', snapshot);
      expectResult(result, 'fail', 'AuthorApex', 'ExportReport');
      expect(result.finding.indexOf('AuthorApex')).to.be.lessThan(result.finding.indexOf('ExportReport'));
    });
    it('skips without a user', () => {
      expectResult(run('user-least-privilege', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('user-sandbox-username', () => {
    it('passes in production', () => {
      expectResult(run('user-sandbox-username'), 'pass', 'Production');
    });
    it('passes a suffixed username in sandbox dev', () => {
      const snapshot = healthySnapshot({ org: sandboxOrg(), user: { username: `${USERNAME}.dev` } });
      expectResult(run('user-sandbox-username', snapshot), 'pass', `${USERNAME}.dev`, '.dev');
    });
    it('infers the name from a legacy sandbox subdomain', () => {
      const snapshot = healthySnapshot({ org: { ...sandboxOrg(), subdomain: 'acme--uat' } });
      const result = run('user-sandbox-username', snapshot);
      expectResult(result, 'warn', USERNAME, '.uat');
      expect(result.fix?.setup).to.include(`${USERNAME}.uat`);
    });
    it('skips a scratch org and a sandbox whose name cannot be inferred', () => {
      expectResult(run('user-sandbox-username', healthySnapshot({ org: { isSandbox: true, isScratch: true } })), 'skip', 'Scratch');
      const org = { ...sandboxOrg(), subdomain: 'acme', instanceUrl: 'https://acme.my.salesforce.com' };
      expectResult(run('user-sandbox-username', healthySnapshot({ org })), 'skip', 'acme');
    });
  });

  describe('user-spec-drift', () => {
    it('passes when the user holds exactly the spec', () => {
      expectResult(run('user-spec-drift'), 'pass', USERNAME);
    });
    it('warns privilege creep, naming the permission and where it comes from', () => {
      const extra = permissionSet({ id: IDS.otherSet, name: 'Extra_Set', systemPermissions: { ExportReport: true }, objects: [], fields: [] });
      const snapshot = healthySnapshot({
        permissionSets: [extra],
        user: { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet }, { id: '0PaTt0000000002AAA', permissionSetId: IDS.otherSet }] },
      });
      const result = run('user-spec-drift', snapshot);
      expectResult(result, 'warn', 'Privilege creep', "ExportReport (permission set 'Extra_Set')");
    });
    it('warns an object permission beyond the spec', () => {
      const ctx = healthyContext({ desired: { objects: [{ object: 'Account', read: true, create: true, edit: true }], fields: [{ field: 'Account.Industry', edit: true }], systemPermissions: ['ApiEnabled'] } });
      expectResult(run('user-spec-drift', healthySnapshot(), ctx), 'warn', 'Contact.read');
    });
    it('fails a permission missing from the user', () => {
      const desired = { ...healthyContext().desired, objects: [{ object: 'Account', read: true, create: true, edit: true, delete: true }, { object: 'Contact', read: true }], fields: [{ field: 'Account.Industry', edit: true }], systemPermissions: ['ApiEnabled'] };
      const result = run('user-spec-drift', healthySnapshot(), healthyContext({ desired }));
      expectResult(result, 'fail', 'Account.delete');
    });
    it('skips without a spec or a user', () => {
      expectResult(run('user-spec-drift', healthySnapshot(), healthyContext({ desired: undefined })), 'skip', '--spec');
      expectResult(run('user-spec-drift', healthySnapshot({ user: null })), 'skip');
    });
  });

  describe('live-token-exchange', () => {
    const failing = (error: string, errorDescription: string): CheckContext =>
      healthyContext({ live: { tokenExchange: { ok: false, error, errorDescription, loginUrl: 'https://acme.my.salesforce.com' } } });

    it('passes and names host and user', () => {
      expectResult(run('live-token-exchange'), 'pass', 'https://acme.my.salesforce.com', USERNAME);
    });
    it('fails with the Salesforce error and the failing checks that explain it', () => {
      const snapshot = healthySnapshot({ app: { refreshTokenPolicy: { type: 'specific_lifetime', value: 4, unit: 'HOURS' } } });
      const result = run('live-token-exchange', snapshot, failing('invalid_grant', "user hasn't approved this consumer"));
      expectResult(result, 'fail', "invalid_grant: user hasn't approved this consumer", 'app-refresh-token-policy (fail)');
      expect(result.finding).not.to.include('app-permission-set-associated');
      expect(result.fix?.setup).to.include('Refresh Token Policy');
      expect(result.fix?.command).to.equal('sf integration doctor --error "invalid_grant: user hasn\'t approved this consumer"');
    });
    it('names the key mismatch for invalid assertion', () => {
      const ctx = { ...failing('invalid_grant', 'invalid assertion'), privateKey: { path: './k.pem', matchesCertificate: false } };
      expectResult(run('live-token-exchange', healthySnapshot(), ctx), 'fail', 'app-certificate-key-match (fail)');
    });
    it('fails with "none" when no check explains it', () => {
      expectResult(run('live-token-exchange', healthySnapshot(), failing('invalid_grant', 'audience is invalid')), 'fail', 'explained by: none');
    });
    it('skips without live results', () => {
      expectResult(run('live-token-exchange', healthySnapshot(), healthyContext({ live: undefined })), 'skip', '--client-id');
    });
  });

  describe('live-api-call', () => {
    it('passes and names the status', () => {
      expectResult(run('live-api-call'), 'pass', '200');
    });
    it('fails and names status and error', () => {
      const ctx = healthyContext({ live: { tokenExchange: { ok: true, loginUrl: 'https://acme.my.salesforce.com' }, apiCall: { ok: false, status: 403, error: 'API_DISABLED_FOR_ORG' } } });
      expectResult(run('live-api-call', healthySnapshot(), ctx), 'fail', '403', 'API_DISABLED_FOR_ORG');
    });
    it('skips when the token exchange failed or no call was made', () => {
      const ctx = healthyContext({ live: { tokenExchange: { ok: false, error: 'invalid_grant', loginUrl: 'https://acme.my.salesforce.com' } } });
      expectResult(run('live-api-call', healthySnapshot(), ctx), 'skip', 'live-token-exchange');
      expectResult(run('live-api-call', healthySnapshot(), healthyContext({ live: undefined })), 'skip');
    });
  });

  describe('a read the org refused', () => {
    const refused = (query: string, object: string, affects: Array<'app' | 'user' | 'permissions'>): NonNullable<OrgSnapshot['readFailures']>[number] => ({
      query,
      object,
      errorCode: 'INVALID_FIELD',
      message: "No such column 'PermissionsBypassMFAForUiLogins' on entity 'PermissionSet'.",
      affects,
    });

    it('skips the checks that need it, naming the query and Salesforce\'s error, instead of reading "no rows"', () => {
      const snapshot = { ...healthySnapshot(), permissionSets: {}, readFailures: [refused('userPermissionSets', 'PermissionSet', ['permissions'])] };
      const results = runChecks(snapshot, healthyContext());
      const byId = Object.fromEntries(results.map((r) => [r.id, r]));
      for (const id of ['user-api-enabled', 'user-api-only', 'user-permission-set-assigned', 'user-least-privilege', 'app-permission-set-associated']) {
        expectResult(byId[id], 'skip', 'PermissionSet', 'userPermissionSets', "INVALID_FIELD: No such column 'PermissionsBypassMFAForUiLogins'");
      }
      // Checks that do not read permission sets still run.
      expectResult(byId['user-exists'], 'pass');
      expectResult(byId['app-exists'], 'pass');
      expectResult(byId['app-pkce'], 'pass');
    });

    it('skips the app checks when the app could not be looked up, and the user checks when the user could not', () => {
      const noApp = { ...healthySnapshot(), app: undefined, readFailures: [refused('ecas', 'ExternalClientApplication', ['app'])] };
      expectResult(run('app-exists', noApp), 'skip', 'ExternalClientApplication', 'ecas');
      expectResult(run('app-scopes', noApp), 'skip', 'ExternalClientApplication');
      expectResult(run('user-api-enabled', noApp), 'pass');
      const noUser = { ...healthySnapshot(), user: undefined, readFailures: [refused('user', 'User', ['user'])] };
      expectResult(run('user-exists', noUser), 'skip', 'User', 'user');
      // A failure that leaves nothing unknown (affects nothing) skips nothing.
      expectResult(run('user-api-enabled', { ...healthySnapshot(), readFailures: [refused('logins', 'LoginHistory', [])] }), 'pass');
    });
  });
});
