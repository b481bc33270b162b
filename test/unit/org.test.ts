/*
 * Pure parts of src/org: login host and audience per org kind (seed 001 step 7), app metadata mapping.
 */
import { expect } from 'chai';
import { oauthScopeNames } from '../../src/org/app-metadata.js';
import {
  ecaRefreshFields,
  ecaRefreshPolicy,
  formatRefreshPolicy,
  formatRefreshPolicyWords,
  parseRefreshPolicy,
  parseRefreshPolicyWords,
} from '../../src/salesforce/policies.js';
import {
  ecaMemberName,
  ecaToAppConfig,
  permissionSetIdsOf,
  permissionSetReferenceForm,
} from '../../src/org/app-metadata.js';
import { ecaComponents } from '../../src/org/deploy.js';
import { orgLoginFacts } from '../../src/org/snapshot.js';
import { exchangeToken, tokenEndpoint } from '../../src/org/token.js';

describe('orgLoginFacts', () => {
  it('production My Domain: log in at the My Domain, audience login.salesforce.com, subdomain as seed 001 shows it', () => {
    expect(orgLoginFacts('https://acme.my.salesforce.com', false)).to.deep.equal({
      loginUrl: 'https://acme.my.salesforce.com',
      audience: 'https://login.salesforce.com',
      subdomain: 'acme',
    });
  });

  it('sandboxes (enhanced and legacy) and developer editions', () => {
    expect(orgLoginFacts('https://acme--dev.sandbox.my.salesforce.com/', true)).to.deep.equal({
      loginUrl: 'https://acme--dev.sandbox.my.salesforce.com',
      audience: 'https://test.salesforce.com',
      subdomain: 'acme--dev.sandbox',
    });
    expect(orgLoginFacts('https://acme--dev.my.salesforce.com', true).subdomain).to.equal('acme--dev');
    expect(orgLoginFacts('https://acme-dev-ed.develop.my.salesforce.com', false).subdomain).to.equal('acme-dev-ed.develop');
  });

  it('an instance host without My Domain logs in at login or test; a non-Salesforce host is its own login host', () => {
    expect(orgLoginFacts('https://na85.salesforce.com', false)).to.deep.equal({ loginUrl: 'https://login.salesforce.com', audience: 'https://login.salesforce.com' });
    expect(orgLoginFacts('http://127.0.0.1:4000/', true)).to.deep.equal({ loginUrl: 'http://127.0.0.1:4000', audience: 'https://test.salesforce.com' });
  });
});

describe('tokenEndpoint: where the org expects a token request (one rule for create, doctor and rotate)', () => {
  const org = (instanceUrl: string, isSandbox = false): { instanceUrl: string; loginUrl: string } => ({ instanceUrl, ...orgLoginFacts(instanceUrl, isSandbox) });

  it('a My Domain org: both flows post to the My Domain', () => {
    const acme = org('https://acme.my.salesforce.com/');
    expect(tokenEndpoint(acme, 'jwt')).to.equal('https://acme.my.salesforce.com');
    expect(tokenEndpoint(acme, 'client-credentials')).to.equal('https://acme.my.salesforce.com');
    const dev = org('https://acme--dev.sandbox.my.salesforce.com', true);
    expect(tokenEndpoint(dev, 'jwt')).to.equal('https://acme--dev.sandbox.my.salesforce.com');
  });

  it('an instance host without My Domain: JWT at login or test, client credentials never there', () => {
    expect(tokenEndpoint(org('https://na85.salesforce.com'), 'jwt')).to.equal('https://login.salesforce.com');
    expect(tokenEndpoint(org('https://cs42.salesforce.com', true), 'jwt')).to.equal('https://test.salesforce.com');
    expect(tokenEndpoint(org('https://na85.salesforce.com'), 'client-credentials')).to.equal('https://na85.salesforce.com');
  });

  it('reports an endpoint that cannot be reached as a connection failure, not a Salesforce error', async () => {
    const live = await exchangeToken(
      { loginUrl: 'http://127.0.0.1:9', instanceUrl: 'http://127.0.0.1:9', audience: 'https://login.salesforce.com' },
      { flow: 'client-credentials', clientId: 'id', clientSecret: 'secret' },
      { apiVersion: '66.0' }
    );
    expect(live.tokenExchange).to.deep.include({ ok: false, error: 'connection_failed', loginUrl: 'http://127.0.0.1:9' });
    expect(live.apiCall).to.equal(undefined);
    expect(JSON.stringify(live)).to.not.include('secret');
  });
});

describe('app metadata mapping', () => {
  it('maps metadata scopes to the OAuth names tokens carry', () => {
    expect(oauthScopeNames(['Api', 'RefreshToken'])).to.deep.equal(['api', 'refresh_token', 'offline_access']);
  });

  it('reads and writes refresh token policies in the ConnectedApp spelling', () => {
    expect(parseRefreshPolicy('specific_lifetime:4:HOURS')).to.deep.equal({ type: 'specific_lifetime', value: 4, unit: 'HOURS' });
    expect(formatRefreshPolicy(parseRefreshPolicy('infinite'))).to.equal('infinite');
  });

  it('reads back what it writes in the External Client App spelling, and in the words of the flags', () => {
    const policy = { type: 'specific_inactivity' as const, value: 30, unit: 'DAYS' as const };
    expect(ecaRefreshFields(policy)).to.deep.equal({ refreshTokenPolicyType: 'SpecificInactivity', refreshTokenValidityPeriod: 30, refreshTokenValidityUnit: 'Days' });
    expect(ecaRefreshPolicy(ecaRefreshFields(policy))).to.deep.equal(policy);
    expect(ecaRefreshPolicy(ecaRefreshFields({ type: 'infinite' }))).to.deep.equal({ type: 'infinite' });
    expect(parseRefreshPolicyWords(formatRefreshPolicyWords(policy))).to.deep.equal(policy);
    expect(formatRefreshPolicyWords(policy)).to.equal('inactivity:30:days');
    expect(parseRefreshPolicyWords('lifetime:0:hours')).to.equal(undefined);
  });

  it('writes the five External Client App components with the policies seed 001 asks for', () => {
    const comps = ecaComponents({
      app: {
        kind: 'external-client-app',
        name: 'HubSpot_Integration',
        label: 'HubSpot Integration',
        contactEmail: 'owner@acme.com',
        description: 'd',
        callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
        scopes: ['Api', 'RefreshToken'],
        refreshTokenPolicy: { type: 'infinite' },
        ipRelaxation: 'BYPASS',
      },
      certificatePem: 'CERT',
      clientCredentials: false,
      permissionSetNames: ['HubSpot_Integration'],
      profileIds: [],
    });
    expect(comps.map((c) => c.type)).to.deep.equal([
      'ExternalClientApplication',
      'ExtlClntAppOauthSettings',
      'ExtlClntAppGlobalOauthSettings',
      'ExtlClntAppOauthConfigurablePolicies',
      'ExtlClntAppConfigurablePolicies',
    ]);
    const global = comps[2].component;
    expect(global).to.include({ certificate: 'CERT', isPkceRequired: false, isNamedUserJwtEnabled: false, isClientCredentialsFlowEnabled: false });
    expect(global).to.not.have.property('consumerKey');
    expect(comps[3].component).to.include({
      permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
      // API names, as Salesforce's sample and metadata from real orgs write them (the guide's text says Ids).
      commaSeparatedPermissionSet: 'HubSpot_Integration',
      refreshTokenPolicyType: 'Infinite',
      ipRelaxationPolicyType: 'Bypass',
    });
  });

  it('reads commaSeparatedPermissionSet in both forms (API names and Ids) and tells which form the org answered', () => {
    const byName = (n: string): string | undefined => ({ hubspot_integration: '0PS000000000001AAA' })[n.toLowerCase()];
    expect(permissionSetIdsOf('HubSpot_Integration, 0PS000000000002AAA, Unknown_Set', byName)).to.deep.equal(['0PS000000000001AAA', '0PS000000000002AAA']);
    expect(permissionSetReferenceForm('0PS000000000001AAA,0PS000000000002')).to.equal('ids');
    expect(permissionSetReferenceForm('HubSpot_Integration')).to.equal('names');
    expect(permissionSetReferenceForm('')).to.equal(undefined);
    const app = ecaToAppConfig(
      'HubSpot_Integration',
      { ExtlClntAppOauthConfigurablePolicies: { commaSeparatedPermissionSet: 'HubSpot_Integration', permittedUsersPolicyType: 'AdminApprovedPreAuthorized' } },
      { id: '0xI000000000001AAA' },
      { permissionSetIdByName: byName }
    );
    expect(app.permissionSetIds).to.deep.equal(['0PS000000000001AAA']);
  });

  it('keeps every External Client App component name within 40 characters, and two long apps apart', () => {
    expect(ecaMemberName('HubSpot_Integration', '_oauthPlcy')).to.equal('HubSpot_Integration_oauthPlcy');
    const a = 'Customer_Data_Platform_Sync_Integration';
    const b = 'Customer_Data_Platform_Sink_Integration';
    for (const suffix of ['_oauth', '_glbloauth', '_oauthPlcy', '_plcy']) {
      const name = ecaMemberName(a, suffix);
      expect(name.length, name).to.be.at.most(40);
      expect(name).to.match(/^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$/);
      expect(name.endsWith(suffix)).to.equal(true);
      expect(ecaMemberName(b, suffix)).to.not.equal(name);
    }
  });
});
