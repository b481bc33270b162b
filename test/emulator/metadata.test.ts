/*
 * Metadata API of the org emulator: deploy/retrieve of External Client Apps and Connected Apps, the CRUD calls,
 * and every refusal a real org makes (apps.ts checkComponent). Real HTTP against an in-process emulator.
 */
import { expect } from 'chai';
import JSZip from 'jszip';
import { loadFixture } from './server.js';
import { asArray, parseXml } from './soap.js';
import type { Fixture } from './store.js';
import { startEmulator, type Emulator } from './index.js';

const NS = 'http://soap.sforce.com/2006/04/metadata';
type Obj = Record<string, unknown>;

const envelope = (sessionId: string, body: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  `<soapenv:Header xmlns="${NS}"><SessionHeader><sessionId>${sessionId}</sessionId></SessionHeader></soapenv:Header>` +
  `<soapenv:Body xmlns="${NS}">${body}</soapenv:Body></soapenv:Envelope>`;

const soap = async (emu: Emulator, body: string, opts: { token?: string; version?: string } = {}): Promise<{ status: number; body: Obj }> => {
  const res = await fetch(`${emu.instanceUrl}/services/Soap/m/${opts.version ?? '66.0'}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml', SOAPAction: '""' },
    body: envelope(opts.token ?? emu.accessToken, body),
  });
  const doc = parseXml(await res.text());
  return { status: res.status, body: ((doc.Envelope as Obj).Body ?? {}) as Obj };
};

const result = (body: Obj, op: string): Obj => (body[`${op}Response`] as Obj).result as Obj;

const xmlFile = (root: string, inner: string): string => `<?xml version="1.0" encoding="UTF-8"?><${root} xmlns="${NS}">${inner}</${root}>`;

const packageXml = (types: Record<string, string[]>, version = '66.0'): string =>
  xmlFile(
    'Package',
    Object.entries(types)
      .map(([name, members]) => `<types>${members.map((m) => `<members>${m}</members>`).join('')}<name>${name}</name></types>`)
      .join('') + `<version>${version}</version>`
  );

const zipOf = async (files: Record<string, string>): Promise<string> => {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(files)) zip.file(name, text);
  return (await zip.generateAsync({ type: 'nodebuffer' })).toString('base64');
};

type EcaOptions = { permissionSetIds?: string; runAs?: string; policyExtra?: string; globalExtra?: string; oauthExtra?: string; headerExtra?: string };

const ecaParts = (name: string, o: EcaOptions = {}): Record<string, { type: string; member: string; path: string; xml: string }> => ({
  header: {
    type: 'ExternalClientApplication',
    member: name,
    path: `externalClientApps/${name}.eca`,
    xml: xmlFile('ExternalClientApplication', `<contactEmail>ops@example.com</contactEmail><distributionState>Local</distributionState><label>${name} label</label>${o.headerExtra ?? ''}`),
  },
  oauth: {
    type: 'ExtlClntAppOauthSettings',
    member: `${name}_oauth`,
    path: `extlClntAppOauthSettings/${name}_oauth.ecaOauth`,
    xml: xmlFile('ExtlClntAppOauthSettings', `<commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes><externalClientApplication>${name}</externalClientApplication><label>${name} oauth</label>${o.oauthExtra ?? ''}`),
  },
  global: {
    type: 'ExtlClntAppGlobalOauthSettings',
    member: `${name}_glbloauth`,
    path: `extlClntAppGlobalOauthSets/${name}_glbloauth.ecaGlblOauth`,
    xml: xmlFile(
      'ExtlClntAppGlobalOauthSettings',
      `<callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl><certificate>-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----</certificate><externalClientApplication>${name}</externalClientApplication><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled><label>${name} global</label>${o.globalExtra ?? ''}`
    ),
  },
  policy: {
    type: 'ExtlClntAppOauthConfigurablePolicies',
    member: `${name}_oauthPlcy`,
    path: `extlClntAppOauthPolicies/${name}_oauthPlcy.ecaOauthPlcy`,
    xml: xmlFile(
      'ExtlClntAppOauthConfigurablePolicies',
      (o.runAs ? `<clientCredentialsFlowUser>${o.runAs}</clientCredentialsFlowUser>` : '') +
        (o.permissionSetIds ? `<commaSeparatedPermissionSet>${o.permissionSetIds}</commaSeparatedPermissionSet>` : '') +
        `<externalClientApplication>${name}</externalClientApplication><ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType><isClientCredentialsFlowEnabled>${o.runAs ? 'true' : 'false'}</isClientCredentialsFlowEnabled><label>${name} policy</label><permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType><refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType><refreshTokenValidityPeriod>4</refreshTokenValidityPeriod><refreshTokenValidityUnit>Hours</refreshTokenValidityUnit>${o.policyExtra ?? ''}`
    ),
  },
  plugins: {
    type: 'ExtlClntAppConfigurablePolicies',
    member: `${name}_plcy`,
    path: `extlClntAppPolicies/${name}_plcy.ecaPlcy`,
    xml: xmlFile('ExtlClntAppConfigurablePolicies', `<externalClientApplication>${name}</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled><label>${name} plugins</label>`),
  },
});

/** A deploy zip of the given parts (package.xml lists exactly them). */
const zipOfParts = (parts: Array<{ type: string; member: string; path: string; xml: string }>, version = '66.0'): Promise<string> => {
  const types: Record<string, string[]> = {};
  for (const p of parts) (types[p.type] ??= []).push(p.member);
  return zipOf({ 'package.xml': packageXml(types, version), ...Object.fromEntries(parts.map((p) => [p.path, p.xml])) });
};

const deploy = async (emu: Emulator, zipB64: string, opts: { checkOnly?: boolean; version?: string; token?: string } = {}): Promise<Obj> => {
  const started = await soap(
    emu,
    `<deploy><ZipFile>${zipB64}</ZipFile><DeployOptions><checkOnly>${opts.checkOnly ? 'true' : 'false'}</checkOnly><rollbackOnError>true</rollbackOnError><singlePackage>true</singlePackage></DeployOptions></deploy>`,
    opts
  );
  expect(started.status).to.equal(200);
  const asyncResult = result(started.body, 'deploy');
  expect(asyncResult).to.include({ done: 'false', state: 'Queued' });
  expect(String(asyncResult.id)).to.match(/^0Af/);
  const status = await soap(emu, `<checkDeployStatus><asyncProcessId>${String(asyncResult.id)}</asyncProcessId><includeDetails>true</includeDetails></checkDeployStatus>`, opts);
  return result(status.body, 'checkDeployStatus');
};

const failuresOf = (r: Obj): Obj[] => asArray(((r.details ?? {}) as Obj).componentFailures as Obj | Obj[]);
const successesOf = (r: Obj): Obj[] => asArray(((r.details ?? {}) as Obj).componentSuccesses as Obj | Obj[]);

const retrieve = async (emu: Emulator, types: Record<string, string[]>): Promise<{ zip: JSZip; result: Obj }> => {
  const typesXml = Object.entries(types)
    .map(([name, members]) => `<types>${members.map((m) => `<members>${m}</members>`).join('')}<name>${name}</name></types>`)
    .join('');
  const started = await soap(emu, `<retrieve><retrieveRequest><apiVersion>66.0</apiVersion><singlePackage>true</singlePackage><unpackaged>${typesXml}</unpackaged></retrieveRequest></retrieve>`);
  const id = String(result(started.body, 'retrieve').id);
  expect(id).to.match(/^09S/);
  const r = result((await soap(emu, `<checkRetrieveStatus><asyncProcessId>${id}</asyncProcessId><includeZip>true</includeZip></checkRetrieveStatus>`)).body, 'checkRetrieveStatus');
  expect(r).to.include({ done: 'true', status: 'Succeeded', success: 'true' });
  return { zip: await JSZip.loadAsync(Buffer.from(String(r.zipFile), 'base64')), result: r };
};

const fixtureWith = async (change: (f: Fixture) => void): Promise<Fixture> => {
  const f = await loadFixture(undefined);
  change(f);
  return f;
};

const setEcaSetting = (f: Fixture, field: string, value: boolean): void => {
  const s = f.metadata?.ExternalClientAppSettings?.[0];
  if (s) s[field] = value;
};

describe('emulator Metadata API', () => {
  let emu: Emulator;
  let permSetId: string;
  const runAsUsername = 'integration@emulated-org.example';

  const seedOrg = (e: Emulator): void => {
    permSetId = e.store.insert('PermissionSet', { Name: 'Integration_Access', Label: 'Integration Access' }).Id;
    const apiOnly = e.store.all('Profile').find((p) => p.Name === 'Minimum Access - API Only Integrations')!;
    e.store.insert('User', {
      Username: runAsUsername,
      LastName: 'Integration',
      Email: 'integration@example.com',
      Alias: 'integ',
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ProfileId: apiOnly.Id,
    });
    e.clearLog();
  };

  beforeEach(async () => {
    emu = await startEmulator();
    seedOrg(emu);
  });
  afterEach(async () => emu.close());

  /** Deploys and expects a single failure with the given problem, and no write. */
  const expectRefused = async (zipB64: string, problem: RegExp, opts: { version?: string; token?: string } = {}): Promise<Obj> => {
    const r = await deploy(emu, zipB64, opts);
    expect(r).to.include({ done: 'true', status: 'Failed', success: 'false' });
    const failures = failuresOf(r);
    expect(failures.map((f) => String(f.problem))).to.satisfy((ps: string[]) => ps.some((p) => problem.test(p)), JSON.stringify(failures));
    expect(emu.log().writes).to.equal(0);
    return r;
  };

  describe('auth', () => {
    it('answers INVALID_SESSION_ID as a SOAP fault (HTTP 500)', async () => {
      const r = await soap(emu, '<describeMetadata><asOfVersion>66.0</asOfVersion></describeMetadata>', { token: 'bogus' });
      expect(r.status).to.equal(500);
      expect(r.body.Fault).to.deep.include({ faultcode: 'sf:INVALID_SESSION_ID' });
      expect(String((r.body.Fault as Obj).faultstring)).to.match(/^INVALID_SESSION_ID: Invalid Session ID found in SessionHeader/);
    });

    it('logs the SOAP operation', async () => {
      await soap(emu, '<describeMetadata><asOfVersion>66.0</asOfVersion></describeMetadata>');
      expect(emu.log().entries.at(-1)?.soapOperation).to.equal('describeMetadata');
    });
  });

  describe('deploy of an External Client App', () => {
    it('deploys header, OAuth settings, global settings with certificate, policies and plugin policies', async () => {
      const parts = ecaParts('My_ECA', { permissionSetIds: permSetId, runAs: runAsUsername });
      const r = await deploy(emu, await zipOfParts(Object.values(parts)));
      expect(r, JSON.stringify(failuresOf(r))).to.include({ status: 'Succeeded', success: 'true', numberComponentErrors: '0', numberComponentsDeployed: '5', numberComponentsTotal: '5' });
      const successes = successesOf(r);
      expect(successes.find((s) => s.fullName === 'My_ECA')).to.include({ componentType: 'ExternalClientApplication', created: 'true', success: 'true' });
      expect(emu.log().writes).to.equal(5);

      const eca = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === 'My_ECA');
      expect(eca).to.include({ MasterLabel: 'My_ECA label', OrgScopedExternalApp: `${emu.store.orgId}:My_ECA`, DistributionState: 'Local' });
      const pol = emu.store.all('ExtlClntAppOauthPlcyCnfg').find((p) => p.ExternalClientApplicationId === eca?.Id);
      expect(pol).to.include({ PermittedUsersPolicyType: 'AdminApprovedPreAuthorized', IsClientCredentialsFlowEnabled: true, ClientCredentialsFlowUser: runAsUsername });
      expect(emu.store.all('SetupEntityAccess').filter((s) => s.SetupEntityId === eca?.Id).map((s) => s.ParentId)).to.deep.equal([permSetId]);
      expect(emu.store.all('AppMenuItem').some((a) => a.ApplicationId === eca?.Id)).to.equal(true);

      const global = emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth');
      expect(String(global?.consumerKey)).to.match(/^3MVG9[A-Za-z0-9._]{80}$/);
      expect(String(global?.consumerSecret)).to.match(/^[0-9A-F]{64}$/);
      expect(emu.store.getMetadata('ExtlClntAppOauthSettings', 'My_ECA_oauth')?.oauthLink).to.equal(`${emu.store.orgId}:My_ECA`);
    });

    it('retrieves the deployed app in Salesforce format, with the consumer key and without the secret by default', async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA', { permissionSetIds: permSetId }))));
      const { zip, result: r } = await retrieve(emu, { ExternalClientApplication: ['My_ECA'], ExtlClntAppGlobalOauthSettings: ['My_ECA_glbloauth'], ConnectedApp: ['Nope'] });
      const text = await zip.file('extlClntAppGlobalOauthSets/My_ECA_glbloauth.ecaGlblOauth')!.async('string');
      expect(text).to.match(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<ExtlClntAppGlobalOauthSettings xmlns="${NS}">`));
      const doc = parseXml(text).ExtlClntAppGlobalOauthSettings as Obj;
      const keys = Object.keys(doc).filter((k) => !k.startsWith('@_'));
      expect(keys).to.deep.equal([...keys].sort());
      expect(doc.consumerKey).to.equal(emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth')?.consumerKey);
      expect(doc).to.not.have.property('consumerSecret');
      expect(doc.certificate).to.contain('BEGIN CERTIFICATE');
      expect(await zip.file('package.xml')!.async('string')).to.contain('<name>ExternalClientApplication</name>');
      const props = asArray(r.fileProperties as Obj | Obj[]);
      expect(props.find((p) => p.fullName === 'My_ECA')).to.include({ type: 'ExternalClientApplication', fileName: 'externalClientApps/My_ECA.eca' });
      expect(asArray(r.messages as Obj | Obj[])[0]).to.include({ problem: "Entity of type 'ConnectedApp' named 'Nope' cannot be found" });
    });

    it('includes the consumer secret on retrieve when the org allows secrets through Metadata API', async () => {
      await emu.close();
      emu = await startEmulator({ fixture: await fixtureWith((f) => setEcaSetting(f, 'enableConsumerSecretApiAccess', true)) });
      seedOrg(emu);
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      const { zip } = await retrieve(emu, { ExtlClntAppGlobalOauthSettings: ['My_ECA_glbloauth'] });
      const doc = parseXml(await zip.file('extlClntAppGlobalOauthSets/My_ECA_glbloauth.ecaGlblOauth')!.async('string')).ExtlClntAppGlobalOauthSettings as Obj;
      expect(String(doc.consumerSecret)).to.match(/^[0-9A-F]{64}$/);
      // The type page's second rule: users also need "View External Client Apps Consumer Secrets in Metadata".
      for (const type of ['Profile', 'PermissionSet']) {
        for (const rec of emu.store.all(type)) emu.store.update(type, rec.Id, { PermissionsViewClientSecret: false }, { system: true });
      }
      const again = await retrieve(emu, { ExtlClntAppGlobalOauthSettings: ['My_ECA_glbloauth'] });
      const withheld = parseXml(await again.zip.file('extlClntAppGlobalOauthSets/My_ECA_glbloauth.ecaGlblOauth')!.async('string')).ExtlClntAppGlobalOauthSettings as Obj;
      expect(withheld).to.not.have.property('consumerSecret');
      expect(String(withheld.consumerKey)).to.match(/^3MVG9/);
    });

    it('a redeploy of the retrieved files keeps key and secret; shouldRotateConsumerKey mints a new key', async () => {
      const parts = ecaParts('My_ECA');
      await deploy(emu, await zipOfParts(Object.values(parts)));
      const key = String(emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth')?.consumerKey);
      const same = { ...parts.global, xml: parts.global.xml.replace('<label>', `<consumerKey>${key}</consumerKey><label>`) };
      expect(await deploy(emu, await zipOfParts([same]))).to.include({ status: 'Succeeded' });
      expect(emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth')?.consumerKey).to.equal(key);
      const rotate = { ...parts.global, xml: parts.global.xml.replace('<label>', '<shouldRotateConsumerKey>true</shouldRotateConsumerKey><label>') };
      expect(await deploy(emu, await zipOfParts([rotate]))).to.include({ status: 'Succeeded' });
      expect(emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth')?.consumerKey).to.not.equal(key);
    });

    it('checkOnly validates without writing', async () => {
      const r = await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))), { checkOnly: true });
      expect(r).to.include({ status: 'Succeeded', checkOnly: 'true' });
      expect(emu.log().writes).to.equal(0);
      expect(emu.store.all('ExternalClientApplication')).to.have.length(0);
    });

    it('a SetupEntityAccess row inserted for the app is written back into commaSeparatedPermissionSet', async () => {
      // Retrieves answer Ids here (emulator.permissionSetReferences "ids"); the next test reads the API-name form.
      await emu.close();
      emu = await startEmulator({ fixture: await fixtureWith((f) => void (f.emulator = { ...f.emulator, permissionSetReferences: 'ids' })) });
      seedOrg(emu);
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      const eca = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === 'My_ECA')!;
      emu.store.insert('SetupEntityAccess', { ParentId: permSetId, SetupEntityId: eca.Id });
      expect(emu.store.getMetadata('ExtlClntAppOauthConfigurablePolicies', 'My_ECA_oauthPlcy')?.commaSeparatedPermissionSet).to.equal(permSetId);
      const { zip } = await retrieve(emu, { ExtlClntAppOauthConfigurablePolicies: ['My_ECA_oauthPlcy'] });
      expect(await zip.file('extlClntAppOauthPolicies/My_ECA_oauthPlcy.ecaOauthPlcy')!.async('string')).to.contain(`<commaSeparatedPermissionSet>${permSetId}</commaSeparatedPermissionSet>`);
    });

    it('accepts permission set API names or Ids, keeps Ids, and answers API names by default (permissionSetReferences "names")', async () => {
      const other = emu.store.insert('PermissionSet', { Name: 'Other_Access', Label: 'Other Access' }).Id;
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA', { permissionSetIds: `integration_access,${other}` }))));
      expect(emu.store.getMetadata('ExtlClntAppOauthConfigurablePolicies', 'My_ECA_oauthPlcy')?.commaSeparatedPermissionSet).to.equal(`${permSetId},${other}`);
      const eca = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === 'My_ECA')!;
      expect(emu.store.all('SetupEntityAccess').filter((a) => a.SetupEntityId === eca.Id).map((a) => a.ParentId)).to.have.members([permSetId, other]);
      const { zip } = await retrieve(emu, { ExtlClntAppOauthConfigurablePolicies: ['My_ECA_oauthPlcy'] });
      expect(await zip.file('extlClntAppOauthPolicies/My_ECA_oauthPlcy.ecaOauthPlcy')!.async('string')).to.contain(
        '<commaSeparatedPermissionSet>Integration_Access,Other_Access</commaSeparatedPermissionSet>'
      );
    });
  });

  describe('destructive deploy (destructiveChanges.xml)', () => {
    const destructive = (types: Record<string, string[]>): Promise<string> =>
      zipOf({ 'package.xml': packageXml({}, '66.0'), 'destructiveChanges.xml': packageXml(types, '66.0') });
    const allParts = (name: string): Record<string, string[]> =>
      Object.fromEntries(Object.values(ecaParts(name)).map((p) => [p.type, [p.member]]));

    it('deletes every component of an External Client App in one deploy; its records are gone', async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      const r = await deploy(emu, await destructive(allParts('My_ECA')));
      expect(r, JSON.stringify(failuresOf(r))).to.include({ status: 'Succeeded', success: 'true' });
      expect(successesOf(r).find((s) => s.fullName === 'My_ECA')).to.include({ componentType: 'ExternalClientApplication', deleted: 'true' });
      expect(emu.store.getMetadata('ExternalClientApplication', 'My_ECA')).to.equal(undefined);
      expect(emu.store.getMetadata('ExtlClntAppGlobalOauthSettings', 'My_ECA_glbloauth')).to.equal(undefined);
      expect(emu.store.all('ExternalClientApplication').some((a) => a.DeveloperName === 'My_ECA')).to.equal(false);
    });

    it("takes the deleted app's OAuth tokens with it, and leaves other apps' tokens", async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      await deploy(emu, await zipOfParts(Object.values(ecaParts('Other_ECA'))));
      const user = emu.store.all('User')[0];
      for (const label of ['My_ECA label', 'Other_ECA label']) emu.store.insert('OauthToken', { AppName: label, UserId: user.Id, DeleteToken: `DT-${label}`, UseCount: 1 }, { system: true });
      const before = emu.store.all('OauthToken').length;
      await deploy(emu, await destructive(allParts('My_ECA')));
      expect(emu.store.all('OauthToken').some((t) => t.AppName === 'My_ECA label')).to.equal(false);
      expect(emu.store.all('OauthToken').some((t) => t.AppName === 'Other_ECA label')).to.equal(true);
      expect(emu.store.all('OauthToken').length).to.equal(before - 1);
    });

    it('refuses a member the org does not hold with the "No <Type> named: <name> found" warning, deleting nothing', async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      emu.clearLog();
      const r = await deploy(emu, await destructive({ ...allParts('My_ECA'), ConnectedApp: ['Nobody_Here'] }));
      expect(r).to.include({ status: 'Failed', success: 'false' });
      expect(failuresOf(r).map((f) => f.problem)).to.include('No ConnectedApp named: Nobody_Here found');
      expect(emu.store.getMetadata('ExternalClientApplication', 'My_ECA')).to.not.equal(undefined);
      expect(emu.log().writes).to.equal(0);
    });

    it('refuses deleting the app header while a component naming it stays, and unknown type names', async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      const header = await deploy(emu, await destructive({ ExternalClientApplication: ['My_ECA'] }));
      expect(header).to.include({ status: 'Failed' });
      expect(JSON.stringify(failuresOf(header))).to.match(/refers to it/);
      const unknown = await deploy(emu, await destructive({ ExternalClientApp: ['My_ECA'] }));
      expect(failuresOf(unknown).map((f) => f.problem)).to.include("Unknown type name 'ExternalClientApp' specified in destructiveChanges.xml");
      expect(emu.store.getMetadata('ExternalClientApplication', 'My_ECA')).to.not.equal(undefined);
    });
  });

  describe('deploy validation against the published Metadata API types', () => {
    it('fails a component with an element its type lacks, naming the element and the type, and stores nothing', async () => {
      const parts = ecaParts('My_ECA');
      // A Connected App spelling inside an External Client App file.
      const policy = { ...parts.policy, xml: parts.policy.xml.replace('<label>', '<isAdminApproved>true</isAdminApproved><label>') };
      const r = await expectRefused(await zipOfParts([parts.header, policy]), /Element \{http:\/\/soap\.sforce\.com\/2006\/04\/metadata\}isAdminApproved invalid at this location in type ExtlClntAppOauthConfigurablePolicies/);
      expect(failuresOf(r).map((f) => f.fullName)).to.deep.equal(['My_ECA_oauthPlcy']);
      expect(emu.store.listMetadata('ExternalClientApplication')).to.have.length(0);
      expect(emu.store.listMetadata('ExtlClntAppOauthConfigurablePolicies')).to.have.length(0);
    });

    it('checks element types: booleans, numbers, enumeration values, and required elements', async () => {
      const parts = ecaParts('My_ECA');
      const swap = (part: (typeof parts)['header'], from: string, to: string): (typeof parts)['header'] => ({ ...part, xml: part.xml.replace(from, to) });
      const cases: Array<[Array<(typeof parts)['header']>, RegExp]> = [
        [[parts.header, swap(parts.global, '<isClientCredentialsFlowEnabled>true', '<isClientCredentialsFlowEnabled>yes')], /isClientCredentialsFlowEnabled: 'yes' is not a valid boolean value/],
        [[parts.header, swap(parts.policy, '<refreshTokenValidityPeriod>4', '<refreshTokenValidityPeriod>four')], /refreshTokenValidityPeriod: 'four' is not a valid number value/],
        [[parts.header, swap(parts.policy, '<label>', '<policyAction>Deny</policyAction><label>')], /'Deny' is not a valid value for the enum 'PolicyAction'/],
        [[parts.header, swap(parts.plugins, '<isEnabled>true</isEnabled>', '')], /Element \{[^}]+\}isEnabled is required in type ExtlClntAppConfigurablePolicies/],
      ];
      for (const [files, problem] of cases) {
        // eslint-disable-next-line no-await-in-loop
        await expectRefused(await zipOfParts(files), problem);
      }
      // StepUpMFA is a PolicyAction value of the published type.
      const stepUp = swap(parts.policy, '<label>', '<policyAction>StepUpMFA</policyAction><label>');
      expect(await deploy(emu, await zipOfParts([parts.header, stepUp]))).to.include({ status: 'Succeeded' });
    });

    it('refuses a package.xml type name the Metadata API does not have, and reads files only from the registry folders', async () => {
      const parts = ecaParts('My_ECA');
      const zip = new JSZip();
      zip.file('package.xml', `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="${NS}"><types><members>My_ECA</members><name>ExternalClientApp</name></types><version>66.0</version></Package>`);
      zip.file('externalClientApps/My_ECA.eca', parts.header.xml);
      const r = await expectRefused((await zip.generateAsync({ type: 'nodebuffer' })).toString('base64'), /Unknown type name 'ExternalClientApp' specified in package\.xml/);
      expect(failuresOf(r)).to.have.length(1);
      const misplaced = new JSZip();
      misplaced.file('package.xml', `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="${NS}"><types><members>My_ECA</members><name>ExternalClientApplication</name></types><version>66.0</version></Package>`);
      misplaced.file('externalClientApplications/My_ECA.externalClientApplication', parts.header.xml);
      await expectRefused((await misplaced.generateAsync({ type: 'nodebuffer' })).toString('base64'), /was named in package.xml, but was not found in zipped directory/);
    });

    it('refuses External Client App component names longer than 40 characters', async () => {
      const name = 'A_Very_Long_External_Client_App_Name_X';
      await expectRefused(await zipOfParts(Object.values(ecaParts(name))), /too long for ExtlClntAppOauthConfigurablePolicies: use at most 40 characters/);
      expect(emu.store.listMetadata('ExternalClientApplication')).to.have.length(0);
    });
  });

  describe('deploy refusals (nothing is written)', () => {
    it('refuses every ECA component while External Client Apps are off', async () => {
      await emu.close();
      // "Opt in to External Client Apps" has no published metadata field: an org setting of the emulator.
      emu = await startEmulator({ fixture: await fixtureWith((f) => void (f.emulator = { ...f.emulator, externalClientAppsOptIn: false })) });
      seedOrg(emu);
      const r = await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA'))), /Opt in to External Client Apps/);
      expect(failuresOf(r)).to.have.length(5);
    });

    it('refuses the OAuth settings types below v66.0 without "Allow Access to OAuth Consumer Secrets via Metadata API"', async () => {
      const parts = ecaParts('My_ECA');
      await expectRefused(await zipOfParts(Object.values(parts), '62.0'), /Allow Access to OAuth Consumer Secrets via Metadata API/, { version: '62.0' });
    });

    it('accepts them below v66.0 when the setting is on', async () => {
      await emu.close();
      emu = await startEmulator({ fixture: await fixtureWith((f) => setEcaSetting(f, 'enableConsumerSecretApiAccess', true)) });
      seedOrg(emu);
      expect(await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))), { version: '62.0' })).to.include({ status: 'Succeeded' });
    });

    it('needs "View External Client Apps Consumer Secrets in Metadata" for OAuth settings and the ECA admin permission for policies', async () => {
      await emu.close();
      emu = await startEmulator({
        fixture: await fixtureWith((f) => {
          for (const rec of [...(f.records?.Profile ?? []), ...(f.records?.PermissionSet ?? [])]) {
            rec.PermissionsViewClientSecret = false;
            rec.PermissionsExternalClientAppAdmin = false;
          }
        }),
      });
      seedOrg(emu);
      const parts = ecaParts('My_ECA');
      await expectRefused(await zipOfParts([parts.header, parts.global]), /View External Client Apps Consumer Secrets in Metadata/);
      await expectRefused(await zipOfParts([parts.header, parts.policy]), /View all External Client Apps, view their settings, and edit their policies/);
      await expectRefused(await zipOfParts([parts.header, parts.plugins]), /View all External Client Apps, view their settings, and edit their policies/);
    });

    it('refuses a consumer key chosen by the deployer', async () => {
      const parts = ecaParts('My_ECA', { globalExtra: '<consumerKey>MY_OWN_KEY_123</consumerKey>' });
      await expectRefused(await zipOfParts(Object.values(parts)), /cannot provide a consumer key/i);
    });

    it('refuses a stale oauthLink', async () => {
      const parts = ecaParts('My_ECA', { oauthExtra: '<oauthLink>00D000000000001AAA:Other</oauthLink>' });
      await expectRefused(await zipOfParts(Object.values(parts)), /OAuth link .* is incorrect/);
    });

    it('refuses policies naming an External Client App that exists neither in the org nor in the deploy', async () => {
      const parts = ecaParts('Ghost');
      await expectRefused(await zipOfParts([parts.policy]), /No ExternalClientApplication named Ghost/);
    });

    it('refuses unknown permission set names and Ids in commaSeparatedPermissionSet', async () => {
      await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA', { permissionSetIds: 'No_Such_Set' }))), /not the ID of a permission set/);
      await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA', { permissionSetIds: '0PS000000000099AAA' }))), /not the ID of a permission set/);
    });

    it('refuses a client-credentials user who does not exist, is inactive or lacks API Only', async () => {
      await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA', { runAs: 'nobody@example.com' }))), /valid execution user/);
      await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA', { runAs: 'admin@emulated-org.example' }))), /valid execution user/);
      const u = emu.store.all('User').find((x) => x.Username === runAsUsername)!;
      emu.store.update('User', u.Id, { IsActive: false });
      emu.clearLog();
      await expectRefused(await zipOfParts(Object.values(ecaParts('My_ECA', { runAs: runAsUsername }))), /valid execution user/);
    });

    it('refuses invalid policy enum values', async () => {
      // ipRelaxationPolicyType is a plain string in the WSDL (no enumeration), with documented values.
      for (const [field, bad, problem] of [['ipRelaxationPolicyType', 'Relaxed', 'is not a valid value for ipRelaxationPolicyType'], ['refreshTokenPolicyType', 'Forever', 'is not a valid value for the enum'], ['permittedUsersPolicyType', 'Everyone', 'is not a valid value for the enum']]) {
        const parts = ecaParts('My_ECA');
        const policy = { ...parts.policy, xml: parts.policy.xml.replace(new RegExp(`<${field}>[^<]*</${field}>`), `<${field}>${bad}</${field}>`) };
        await expectRefused(await zipOfParts([parts.header, policy]), new RegExp(`'${bad}' ${problem}`));
      }
    });

    it('rolls back the whole deploy when one component fails', async () => {
      const parts = ecaParts('My_ECA', { permissionSetIds: 'NotAnId' });
      const r = await expectRefused(await zipOfParts(Object.values(parts)), /not the ID/);
      expect(successesOf(r).some((s) => s.fullName === 'My_ECA')).to.equal(true);
      expect(emu.store.all('ExternalClientApplication')).to.have.length(0);
    });

    it('refuses a package.xml member without a file', async () => {
      const zipB64 = await zipOf({ 'package.xml': packageXml({ ExternalClientApplication: ['Missing'] }) });
      await expectRefused(zipB64, /named in package.xml, but was not found in zipped directory/);
    });
  });

  describe('CRUD calls', () => {
    for (const op of ['createMetadata', 'updateMetadata', 'upsertMetadata']) {
      it(`${op} on an ECA type is refused with INVALID_TYPE`, async () => {
        const r = await soap(emu, `<${op}><metadata xsi:type="ExternalClientApplication"><fullName>X</fullName><contactEmail>a@b.co</contactEmail><label>X</label></metadata></${op}>`);
        expect(r.status).to.equal(500);
        expect(r.body.Fault).to.deep.include({ faultcode: 'sf:INVALID_TYPE' });
        expect(emu.log().writes).to.equal(0);
      });
    }

    it('readMetadata / deleteMetadata / renameMetadata on ECA types are refused', async () => {
      for (const body of [
        '<readMetadata><type>ExtlClntAppGlobalOauthSettings</type><fullNames>X</fullNames></readMetadata>',
        '<deleteMetadata><type>ExternalClientApplication</type><fullNames>X</fullNames></deleteMetadata>',
        '<renameMetadata><type>ExtlClntAppOauthSettings</type><oldFullName>X</oldFullName><newFullName>Y</newFullName></renameMetadata>',
      ]) {
        const r = await soap(emu, body);
        expect(r.status).to.equal(500);
        expect(r.body.Fault).to.deep.include({ faultcode: 'sf:INVALID_TYPE' });
      }
    });

    const connectedApp = (name: string, extra = ''): string =>
      `<metadata xsi:type="ConnectedApp"><fullName>${name}</fullName><contactEmail>ops@example.com</contactEmail><label>${name}</label><oauthConfig><callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl><isAdminApproved>true</isAdminApproved><scopes>Api</scopes><scopes>RefreshToken</scopes></oauthConfig><oauthPolicy><ipRelaxation>ENFORCE</ipRelaxation><refreshTokenPolicy>infinite</refreshTokenPolicy></oauthPolicy>${extra}</metadata>`;

    it('blocks creating a Connected App (Spring \'26) by default', async () => {
      const r = await soap(emu, `<upsertMetadata>${connectedApp('CA_One')}</upsertMetadata>`);
      const res = result(r.body, 'upsertMetadata');
      expect(res).to.include({ success: 'false', fullName: 'CA_One' });
      expect(String((res.errors as Obj).message)).to.match(/can no longer create connected apps/);
      expect(emu.log().writes).to.equal(0);
      const dep = await expectRefused(
        await zipOf({ 'package.xml': packageXml({ ConnectedApp: ['CA_Two'] }), 'connectedApps/CA_Two.connectedApp': xmlFile('ConnectedApp', '<contactEmail>a@example.com</contactEmail><label>CA_Two</label>') }),
        /can no longer create connected apps/
      );
      expect(failuresOf(dep)[0]).to.include({ componentType: 'ConnectedApp', fullName: 'CA_Two', problemType: 'Error' });
    });

    describe('with Connected App creation allowed', () => {
      beforeEach(async () => {
        await emu.close();
        emu = await startEmulator({ fixture: await fixtureWith((f) => ((f.emulator ??= {}).allowConnectedAppCreation = true)) });
        seedOrg(emu);
      });

      it('upsert creates, read returns it without the secret, update and delete work', async () => {
        const up = result((await soap(emu, `<upsertMetadata>${connectedApp('CA_One', '<permissionSetName>Integration_Access</permissionSetName>')}</upsertMetadata>`)).body, 'upsertMetadata');
        expect(up).to.include({ created: 'true', fullName: 'CA_One', success: 'true' });
        const row = emu.store.all('ConnectedApplication').find((c) => c.Name === 'CA_One');
        expect(row).to.include({ OptionsAllowAdminApprovedUsersOnly: true });
        expect(emu.store.all('SetupEntityAccess').filter((s) => s.SetupEntityId === row?.Id).map((s) => s.ParentId)).to.deep.equal([permSetId]);

        const read = result((await soap(emu, '<readMetadata><type>ConnectedApp</type><fullNames>CA_One</fullNames><fullNames>Missing</fullNames></readMetadata>')).body, 'readMetadata');
        const [rec, missing] = asArray(read.records as Obj | Obj[]);
        expect(rec).to.include({ fullName: 'CA_One', '@_type': 'ConnectedApp' });
        expect(String((rec.oauthConfig as Obj).consumerKey)).to.match(/^3MVG9/);
        expect(rec.oauthConfig).to.not.have.property('consumerSecret');
        expect(missing).to.deep.equal({ '@_nil': 'true' });

        const upd = result((await soap(emu, `<updateMetadata>${connectedApp('CA_One').replace('<label>CA_One</label>', '<label>Renamed</label>')}</updateMetadata>`)).body, 'updateMetadata');
        expect(upd).to.include({ success: 'true' });
        expect(emu.store.getMetadata('ConnectedApp', 'CA_One')?.label).to.equal('Renamed');

        const del = result((await soap(emu, '<deleteMetadata><type>ConnectedApp</type><fullNames>CA_One</fullNames></deleteMetadata>')).body, 'deleteMetadata');
        expect(del).to.include({ fullName: 'CA_One', success: 'true' });
        expect(emu.store.all('ConnectedApplication')).to.have.length(0);
      });

      it('refuses a deployer-chosen consumer key, profiles without admin approval, bad enums and bad run-as users', async () => {
        const cases: Array<[string, RegExp]> = [
          [connectedApp('CA_K').replace('<isAdminApproved>', '<consumerKey>MYKEY1234</consumerKey><isAdminApproved>'), /^You cannot provide a Consumer Key$/],
          [connectedApp('CA_P', '<profileName>Standard User</profileName>').replace('<isAdminApproved>true', '<isAdminApproved>false'), /isAdminApproved/],
          // ipRelaxation and refreshTokenPolicy are plain strings in the WSDL, with documented values (not enumerations).
          [connectedApp('CA_I').replace('<ipRelaxation>ENFORCE', '<ipRelaxation>LOOSE'), /'LOOSE' is not a valid value for ipRelaxation/],
          [connectedApp('CA_R').replace('<refreshTokenPolicy>infinite', '<refreshTokenPolicy>forever'), /'forever' is not a valid value for refreshTokenPolicy/],
          [connectedApp('CA_S').replace('<scopes>Api', '<scopes>SFApiPlatform</scopes><scopes>Api'), /'SFApiPlatform' is not a valid value for the enum 'ConnectedAppOauthAccessScope'/],
          [connectedApp('CA_U').replace('<scopes>Api', '<oauthClientCredentialUser>admin@emulated-org.example</oauthClientCredentialUser><scopes>Api'), /valid execution user/],
        ];
        for (const [md, problem] of cases) {
          const res = result((await soap(emu, `<createMetadata>${md}</createMetadata>`)).body, 'createMetadata');
          expect(res.success, md).to.equal('false');
          expect(String((res.errors as Obj).message)).to.match(problem);
        }
        expect(emu.log().writes).to.equal(0);
      });

      it('updates and deletes of an existing app keep working after creation is blocked again', async () => {
        await soap(emu, `<createMetadata>${connectedApp('CA_One')}</createMetadata>`);
        emu.store.settings.allowConnectedAppCreation = false;
        expect(result((await soap(emu, `<updateMetadata>${connectedApp('CA_One')}</updateMetadata>`)).body, 'updateMetadata')).to.include({ success: 'true' });
        expect(result((await soap(emu, '<deleteMetadata><type>ConnectedApp</type><fullNames>CA_One</fullNames></deleteMetadata>')).body, 'deleteMetadata')).to.include({ success: 'true' });
        const gone = result((await soap(emu, '<deleteMetadata><type>ConnectedApp</type><fullNames>CA_One</fullNames></deleteMetadata>')).body, 'deleteMetadata');
        expect(gone).to.include({ success: 'false' });
        expect((gone.errors as Obj).statusCode).to.equal('INVALID_CROSS_REFERENCE_KEY');
      });
    });

    it('listMetadata and describeMetadata answer', async () => {
      await deploy(emu, await zipOfParts(Object.values(ecaParts('My_ECA'))));
      const list = asArray(result((await soap(emu, '<listMetadata><queries><type>ExternalClientApplication</type></queries><asOfVersion>66.0</asOfVersion></listMetadata>')).body, 'listMetadata') as unknown as Obj | Obj[]);
      expect(list.map((p) => p.fullName)).to.deep.equal(['My_ECA']);
      const describe = result((await soap(emu, '<describeMetadata><asOfVersion>66.0</asOfVersion></describeMetadata>')).body, 'describeMetadata');
      expect(asArray(describe.metadataObjects as Obj | Obj[]).map((o) => o.xmlName)).to.include('ExtlClntAppGlobalOauthSettings');
    });
  });
});
