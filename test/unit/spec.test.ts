/*
 * src/desired: flags or a spec file → a validated desired state, without an org or HTTP.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SfError } from '@salesforce/core';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import {
  buildSpec,
  draftSpec,
  parseSpecFile,
  readSpecFile,
  sandboxNameFromSubdomain,
  specFileSchema,
  specFileSchemaText,
  specToFile,
  validateAgainstOrg,
  validateSpec,
  withOwner,
  type BuiltSpec,
  type IntegrationSpec,
  type OrgCatalogue,
  type SpecEnv,
  type SpecInput,
} from '../../src/desired/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => join(here, 'fixtures', 'spec', name);

const prod: SpecEnv = { adminUsername: 'admin@acme.com', adminEmail: 'admin@acme.com', isSandbox: false };
const sandbox: SpecEnv = { adminUsername: 'admin@acme.com.dev', adminEmail: 'admin@acme.com.invalid', isSandbox: true };

const build = (input: SpecInput, env: SpecEnv = prod): BuiltSpec => buildSpec(input, env);
const hubspot = (extra: Partial<SpecInput> = {}, env: SpecEnv = prod): BuiltSpec => build({ name: 'HubSpot', ...extra }, env);

const org: OrgCatalogue = {
  objects: {
    Account: { fields: ['Id', 'Name', 'Industry', 'AnnualRevenue'] },
    Contact: { fields: ['Contact.Id', 'Contact.Email'] },
    Campaign: { fields: ['Name'] },
    'Invoice__c': { fields: ['Amount__c'] },
  },
};

/** Runs fn, expects the SfError it throws, and checks its message names the problem and its actions the fix. */
const failure = (fn: () => unknown): SfError => {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(SfError);
    return e as SfError;
  }
  throw new Error('expected an SfError');
};
const expectRefused = (fn: () => unknown, problemText: RegExp, fix: RegExp): SfError => {
  const err = failure(fn);
  expect(err.message).to.match(problemText);
  expect((err.actions ?? []).join('\n')).to.match(fix);
  expect(err.exitCode).to.equal(1);
  return err;
};
const expectRefusedAsync = async (p: Promise<unknown>, problemText: RegExp, fix: RegExp): Promise<void> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).to.be.instanceOf(SfError);
  expect((err as SfError).message).to.match(problemText);
  expect(((err as SfError).actions ?? []).join('\n')).to.match(fix);
};

describe('spec: defaults', () => {
  it('builds the whole desired state from --name HubSpot alone', () => {
    const { spec, warnings, notes } = hubspot();
    const expected: IntegrationSpec = {
      name: 'HubSpot',
      flow: 'jwt',
      ownerEmail: 'admin@acme.com',
      user: { username: 'hubspot.integration@acme.com', firstName: 'HubSpot', lastName: 'Integration', alias: 'hubspint', email: 'admin@acme.com' },
      permissionSet: {
        name: 'HubSpot_Integration',
        label: 'HubSpot Integration',
        description: 'API access for the HubSpot integration, provisioned by sf integration create. Owner: admin@acme.com.',
        objects: [],
        fields: [],
        systemPermissions: ['ApiEnabled'],
      },
      app: {
        kind: 'external-client-app',
        name: 'HubSpot_Integration',
        label: 'HubSpot Integration',
        contactEmail: 'admin@acme.com',
        description: 'API access for the HubSpot integration, provisioned by sf integration create. Owner: admin@acme.com.',
        callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
        scopes: ['Api', 'RefreshToken'],
        refreshTokenPolicy: { type: 'infinite' },
        ipRelaxation: 'BYPASS',
      },
      certificate: { validityDays: 365, keySize: 2048 },
      allowPrivileged: false,
    };
    expect(spec).to.deep.equal(expected);
    expect(warnings).to.deep.equal([]);
    expect(notes.join('\n')).to.match(/Relax IP restrictions \(default; Salesforce Help: "Configure OAuth Policies"\)/).and.match(/--ip-relaxation enforce/);
    expect(notes.join('\n')).to.match(/Owner: admin@acme\.com \(your own email/);
  });

  it('uses --email as owner, user email and app contact, and says nothing about the admin then', () => {
    const { spec, notes } = hubspot({ email: 'jane.doe@acme.com' });
    expect([spec.ownerEmail, spec.user.email, spec.app.contactEmail]).to.deep.equal(['jane.doe@acme.com', 'jane.doe@acme.com', 'jane.doe@acme.com']);
    expect(notes.join('\n')).not.to.match(/your own email/);
  });

  it('reads underscores as spaces in labels and hyphens in the username', () => {
    const { spec } = build({ name: 'Acme_ERP' });
    expect(spec.user.firstName).to.equal('Acme ERP');
    expect(spec.permissionSet.label).to.equal('Acme ERP Integration');
    expect(spec.permissionSet.name).to.equal('Acme_ERP_Integration');
    expect(spec.user.username).to.equal('acme-erp.integration@acme.com');
    expect(spec.user.alias).to.equal('acmeeint');
  });

  it('keeps ApiEnabled once, whatever else is asked, and strips the Permissions prefix', () => {
    const { spec } = hubspot({ systemPermissions: ['apienabled', 'PermissionsApiUserOnly', 'ApiUserOnly'] });
    expect(spec.permissionSet.systemPermissions).to.deep.equal(['ApiEnabled', 'ApiUserOnly']);
  });

  it('accepts client credentials with a Connected App', () => {
    const { spec } = hubspot({ flow: 'client-credentials', appType: 'connected-app' });
    expect(spec.flow).to.equal('client-credentials');
    expect(spec.app.kind).to.equal('connected-app');
  });
});

describe('spec: object and field flags', () => {
  it('adds the implied permissions as Setup does', () => {
    const { spec } = hubspot({
      objects: ['Account=create', 'Contact=edit', 'Lead=delete', 'Case=read', 'Task=Read,Create'],
      fields: ['Account.Industry=edit', 'Contact.Email=read'],
    });
    const byName = Object.fromEntries(spec.permissionSet.objects.map((o) => [o.object, o]));
    expect(byName.Account).to.include({ read: true, create: true, edit: false, delete: false });
    expect(byName.Contact).to.include({ read: true, create: false, edit: true, delete: false });
    expect(byName.Lead).to.include({ read: true, create: false, edit: true, delete: true, viewAll: false, modifyAll: false });
    expect(byName.Case).to.deep.equal({ object: 'Case', read: true, create: false, edit: false, delete: false, viewAll: false, modifyAll: false });
    expect(byName.Task).to.include({ read: true, create: true });
    expect(spec.permissionSet.fields).to.deep.equal([
      { field: 'Account.Industry', read: true, edit: true },
      { field: 'Contact.Email', read: true, edit: false },
    ]);
  });

  it('modifyAll implies every other object permission (allowed with --allow-privileged)', () => {
    const { spec } = hubspot({ objects: ['Account=modifyAll'], allowPrivileged: true });
    expect(spec.permissionSet.objects[0]).to.deep.equal({ object: 'Account', read: true, create: false, edit: true, delete: true, viewAll: true, modifyAll: true });
  });

  it('accepts the same object twice with the same access', () => {
    const { spec } = hubspot({ objects: ['Account=read,edit', 'Account=edit'] });
    expect(spec.permissionSet.objects).to.have.length(1);
  });
});

describe('spec: sandbox usernames', () => {
  it('derives the default username from the admin domain, suffix included', () => {
    expect(hubspot({}, sandbox).spec.user.username).to.equal('hubspot.integration@acme.com.dev');
  });

  it('appends the sandbox suffix to an explicit username that lacks it, with a warning', () => {
    const { spec, warnings } = hubspot({ username: 'svc.hubspot@acme.com', email: 'jane@acme.com' }, sandbox);
    expect(spec.user.username).to.equal('svc.hubspot@acme.com.dev');
    expect(warnings.map((w) => w.code)).to.deep.equal(['SandboxSuffixAppended']);
    expect(warnings[0].message).to.match(/svc\.hubspot@acme\.com lacks.*svc\.hubspot@acme\.com\.dev/);
  });

  it('leaves a username that already carries the suffix alone', () => {
    const { spec, warnings } = hubspot({ username: 'svc@acme.com.DEV', email: 'jane@acme.com' }, sandbox);
    expect(spec.user.username).to.equal('svc@acme.com.DEV');
    expect(warnings).to.deep.equal([]);
  });

  it('prefers the sandbox name from the My Domain over the admin username', () => {
    expect(sandboxNameFromSubdomain('acme--uat.sandbox')).to.equal('uat');
    expect(sandboxNameFromSubdomain('acme')).to.equal(undefined);
    const { spec } = hubspot({ username: 'svc@acme.com', email: 'jane@acme.com' }, { ...sandbox, sandboxName: 'uat' });
    expect(spec.user.username).to.equal('svc@acme.com.uat');
  });

  it('never changes usernames outside sandboxes', () => {
    const { spec, warnings } = hubspot({ username: 'svc@acme.com' });
    expect(spec.user.username).to.equal('svc@acme.com');
    expect(warnings).to.deep.equal([]);
  });

  it('warns when the owner would be a masked sandbox address', () => {
    const { warnings } = hubspot({}, sandbox);
    expect(warnings.map((w) => w.code)).to.deep.equal(['OwnerEmailInvalid']);
    expect(warnings[0].actions?.join()).to.match(/--email/);
  });
});

describe('spec: files', () => {
  it('reads YAML and JSON files to the same spec', async () => {
    const yaml = build({ specFile: await readSpecFile(fixture('hubspot.yaml')) }).spec;
    const json = build({ specFile: await readSpecFile(fixture('hubspot.json')) }).spec;
    expect(yaml).to.deep.equal(json);
    expect(yaml.ownerEmail).to.equal('jane.doe@acme.com');
    expect(yaml.permissionSet.description).to.equal('Syncs companies and contacts with HubSpot CRM.');
    expect(yaml.permissionSet.objects.map((o) => o.object)).to.deep.equal(['Account', 'Contact']);
    expect(yaml.permissionSet.fields).to.deep.equal([{ field: 'Account.Industry', read: true, edit: false }]);
    expect(yaml.certificate).to.deep.equal({ validityDays: 180, keySize: 3072 });
  });

  it('reads a .yml client-credentials spec with policies', async () => {
    const { spec, warnings } = build({ specFile: await readSpecFile(fixture('erp-client-credentials.yml')) });
    expect(spec.flow).to.equal('client-credentials');
    expect(spec.app.kind).to.equal('connected-app');
    expect(spec.app.refreshTokenPolicy).to.deep.equal({ type: 'specific_lifetime', value: 8, unit: 'HOURS' });
    expect(spec.app.ipRelaxation).to.equal('BYPASS');
    expect(spec.user.username).to.equal('erp.sync@acme.com');
    // The refresh policy only ages out JWT approvals.
    expect(warnings).to.deep.equal([]);
  });

  it('lets flags override the file: scalars replace, objects and fields per name, permissions add up', async () => {
    const specFile = await readSpecFile(fixture('hubspot.yaml'));
    const { spec } = build({
      specFile,
      email: 'owner@acme.com',
      certValidityDays: 90,
      ipRelaxation: 'bypass',
      objects: ['account=read,edit', 'Lead=read'],
      fields: ['Account.Industry=edit'],
      systemPermissions: ['ApiUserOnly'],
    });
    expect(spec.ownerEmail).to.equal('owner@acme.com');
    expect(spec.certificate).to.deep.equal({ validityDays: 90, keySize: 3072 });
    expect(spec.app.ipRelaxation).to.equal('BYPASS');
    expect(spec.permissionSet.objects.map((o) => [o.object, o.edit])).to.deep.equal([
      ['account', true],
      ['Contact', false],
      ['Lead', false],
    ]);
    expect(spec.permissionSet.systemPermissions).to.deep.equal(['ApiEnabled', 'ApiUserOnly']);
  });

  it('round-trips: the file written for a spec builds the same spec', () => {
    const { spec } = hubspot({
      email: 'jane@acme.com',
      objects: ['Account=delete', 'Invoice__c=read'],
      fields: ['Account.Industry=edit'],
      refreshTokenPolicy: 'inactivity:30:days',
      ipRelaxation: 'enforce-relax-refresh',
      keySize: 4096,
    });
    const file = specToFile(spec);
    expect(file.objects).to.deep.equal({ Account: ['read', 'edit', 'delete'], 'Invoice__c': ['read'] });
    expect(file.policies).to.deep.equal({ refreshTokenPolicy: 'inactivity:30:days', ipRelaxation: 'enforce-relax-refresh' });
    const again = build({ specFile: parseSpecFile(JSON.stringify(file), 'hubspot.json') }).spec;
    expect(again).to.deep.equal(spec);
  });

  it('records allowPrivileged in the file and honours it from there, with warnings', () => {
    const { spec } = hubspot({ systemPermissions: ['ViewSetup'], allowPrivileged: true });
    const file = specToFile(spec);
    expect(file.allowPrivileged).to.equal(true);
    const { warnings } = build({ specFile: parseSpecFile(JSON.stringify(file), 'x.json') });
    expect(warnings.map((w) => w.code)).to.deep.equal(['PrivilegedAllowed']);
  });
});

describe('spec: schema', () => {
  const schemaPath = join(here, '..', '..', 'spec-schema', 'integration-spec.schema.json');
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(specFileSchema);

  it('the committed schema file is the generated one (run scripts/spec-schema.ts after changing it)', () => {
    expect(readFileSync(schemaPath, 'utf8')).to.equal(specFileSchemaText());
  });

  for (const name of ['hubspot.yaml', 'hubspot.json', 'erp-client-credentials.yml']) {
    it(`example ${name} validates against the schema`, () => {
      const data: unknown = parseYaml(readFileSync(fixture(name), 'utf8'));
      expect(validate(data), ajv.errorsText(validate.errors)).to.equal(true);
    });
  }

  it('a written spec validates against the schema', () => {
    const { spec } = hubspot({ objects: ['Account=read'], fields: ['Account.Name=read'], refreshTokenPolicy: 'lifetime:4:hours' });
    expect(validate(JSON.parse(JSON.stringify(specToFile(spec)))), ajv.errorsText(validate.errors)).to.equal(true);
  });

  for (const name of ['unknown-keys.yaml', 'bad-values.yaml']) {
    it(`the schema refuses ${name}, as readSpecFile/buildSpec do`, async () => {
      expect(validate(parseYaml(readFileSync(fixture(name), 'utf8')))).to.equal(false);
      const err = await readSpecFile(fixture(name)).then((f) => failure(() => build({ specFile: f })), (e: unknown) => e);
      expect(err).to.be.instanceOf(SfError);
    });
  }
});

describe('spec: validateAgainstOrg', () => {
  it('returns Salesforce spelling of objects and fields', () => {
    const { spec } = hubspot({ objects: ['account=read', 'invoice__C=read', 'contact=read'], fields: ['ACCOUNT.industry=read', 'contact.email=read'] });
    const checked = validateAgainstOrg(spec, org);
    expect(checked.permissionSet.objects.map((o) => o.object)).to.deep.equal(['Account', 'Invoice__c', 'Contact']);
    expect(checked.permissionSet.fields.map((f) => f.field)).to.deep.equal(['Account.Industry', 'Contact.Email']);
    expect(spec.permissionSet.objects[0].object).to.equal('account');
  });

  it('uses the org license list when given and checks system permissions when known', () => {
    const { spec } = hubspot({ objects: ['Campaign=read'], systemPermissions: ['apiuseronly'] });
    const checked = validateAgainstOrg(spec, { ...org, integrationLicenseObjects: ['Campaign'], systemPermissions: ['ApiEnabled', 'ApiUserOnly'] });
    expect(checked.permissionSet.objects[0].object).to.equal('Campaign');
    expect(checked.permissionSet.systemPermissions).to.deep.equal(['ApiEnabled', 'ApiUserOnly']);
  });

  it('validateSpec returns the warnings of a valid spec', () => {
    const { spec } = hubspot({ refreshTokenPolicy: 'zero' });
    expect(validateSpec(spec).map((w) => w.code)).to.deep.equal(['RefreshPolicyAgesOut']);
  });
});

describe('spec: privileged access', () => {
  it('is granted with --allow-privileged and reported as warnings', () => {
    const { spec, warnings } = hubspot({ systemPermissions: ['ModifyAllData'], objects: ['Account=viewAll'], allowPrivileged: true });
    expect(spec.allowPrivileged).to.equal(true);
    expect(warnings).to.have.length(1);
    expect(warnings[0].message).to.match(/ModifyAllData \(tier 0, full org compromise\)/).and.match(/Account: viewAll/);
  });

  it('does not count ApiEnabled or ApiUserOnly as privileged', () => {
    expect(hubspot({ systemPermissions: ['ApiEnabled', 'ApiUserOnly'] }).warnings).to.deep.equal([]);
  });
});

describe('spec: bad input is refused with the problem and its fix', () => {
  it('a name with a space', () => expectRefused(() => build({ name: 'Hub Spot' }), /"Hub Spot" may contain only letters, digits and underscores/, /--name Hub_Spot/));
  it('a name with a leading digit', () => expectRefused(() => build({ name: '3PL' }), /"3PL" must start with a letter/, /--name X3PL/));
  it('a name with a double underscore', () => expectRefused(() => build({ name: 'Hub__Spot' }), /two underscores in a row/, /--name Hub_Spot/));
  it('a name with a trailing underscore', () => expectRefused(() => build({ name: 'HubSpot_' }), /ends with an underscore/, /--name HubSpot\b/));
  it('a name too long for the app name', () =>
    expectRefused(() => build({ name: 'A'.repeat(29) }), /longer than 28 characters/, new RegExp(`--name ${'A'.repeat(28)}\\b`)));
  it('no name at all', () => expectRefused(() => build({}), /has no name/, /--name HubSpot/));
  it('an empty name', () => expectRefused(() => build({ name: '' }), /--name is empty/, /--name HubSpot/));
  it('a username not in email form', () => expectRefused(() => hubspot({ username: 'hubspot integration' }), /username "hubspot integration" isn't valid/, /--username/));
  it('a username longer than 80 characters', () =>
    expectRefused(() => hubspot({ username: `${'u'.repeat(72)}@acme.com` }), /has 81 characters; Salesforce allows at most 80/, /shorter --username/));
  it('an explicit username that the sandbox suffix pushes over 80 characters', () =>
    expectRefused(() => hubspot({ username: `${'u'.repeat(70)}@acme.com`, email: 'j@acme.com' }, sandbox), /allows at most 80/, /sandbox suffix/));
  it('a bad owner email', () => expectRefused(() => hubspot({ email: 'jane@' }), /"jane@" isn't a valid email address/, /--email jane\.doe@acme\.com/));
  it('no owner email anywhere', () =>
    expectRefused(() => build({ name: 'HubSpot' }, { adminUsername: 'admin@acme.com', isSandbox: false }), /has no owner/, /--email/));
  it('an object flag without words', () => expectRefused(() => hubspot({ objects: ['Account'] }), /"Account" isn't in the form NAME=WORDS/, /--object Account=read,create,edit/));
  it('an object flag with an empty word list', () => expectRefused(() => hubspot({ objects: ['Account='] }), /no permission words/, /at least one of read/));
  it('an unknown object permission word', () =>
    expectRefused(() => hubspot({ objects: ['Account=read,raed'] }), /--object Account=read,raed: "raed" isn't an object permission/, /read,create,edit/));
  it('an unknown field permission word', () =>
    expectRefused(() => hubspot({ objects: ['Account=read'], fields: ['Account.Industry=write'] }), /"write" isn't a field permission/, /read or edit/));
  it('an object name that is not an API name', () => expectRefused(() => hubspot({ objects: ['Sales Order=read'] }), /"Sales Order" isn't an object API name/, /Object Manager/));
  it('a field without its object', () => expectRefused(() => hubspot({ fields: ['Industry=read'] }), /"Industry" isn't a field in the form Object\.Field/, /--field Account\.Industry=read/));
  it('a field whose object has no access', () => expectRefused(() => hubspot({ fields: ['Account.Industry=read'] }), /its object Account has no object access/, /--object Account=read/));
  it('field edit on a read-only object', () =>
    expectRefused(() => hubspot({ objects: ['Account=read'], fields: ['Account.Industry=edit'] }), /asks for edit, but its object Account gives neither/, /Add edit/));
  it('the same object twice with different access', () =>
    expectRefused(() => hubspot({ objects: ['Account=read', 'account=edit'] }), /--object Account=read and --object account=edit ask for different access/, /Give each object or field once/));
  it('forbidden system permissions without --allow-privileged', () =>
    expectRefused(
      () => hubspot({ systemPermissions: ['ModifyAllData', 'ViewSetup', 'ApiEnabled'] }),
      /Refused dangerous system permissions .*ModifyAllData \(tier 0, full org compromise\), ViewSetup \(tier 4/,
      /--allow-privileged/
    ));
  it('viewAll without --allow-privileged', () =>
    expectRefused(() => hubspot({ objects: ['Account=viewAll'] }), /Refused View All \/ Modify All object access .*Account: viewAll/, /--allow-privileged/));
  it('a malformed system permission name', () => expectRefused(() => hubspot({ systemPermissions: ['API Enabled'] }), /"API Enabled" isn't a system permission name/, /without "Permissions"/));
  it('a certificate validity of 0 days', () => expectRefused(() => hubspot({ certValidityDays: 0 }), /validity of 0 days isn't allowed: use a whole number from 1 to 3650/, /--cert-validity-days/));
  it('a certificate validity over ten years', () => expectRefused(() => hubspot({ certValidityDays: 3651 }), /3651 days/, /--cert-validity-days/));
  it('a 1024-bit key size', () => expectRefused(() => hubspot({ keySize: 1024 }), /1024 isn't a supported RSA key size/, /--key-size 2048, 3072 or 4096/));
  it('a private key without its certificate', () => expectRefused(() => hubspot({ privateKeyFile: 'key.pem' }), /Only --private-key-file was given/, /both --private-key-file and --certificate-file/));
  it('key files with client credentials', () =>
    expectRefused(() => hubspot({ flow: 'client-credentials', privateKeyFile: 'k.pem', certificateFile: 'c.pem' }), /for the JWT bearer flow/, /--flow jwt/));
  it('a refresh policy without its unit', () => expectRefused(() => hubspot({ refreshTokenPolicy: 'lifetime:8' }), /"lifetime:8" isn't a refresh-token policy/, /lifetime:N:UNIT/));
  it('an unknown refresh policy', () => expectRefused(() => hubspot({ refreshTokenPolicy: 'lifetime:0:days' }), /"lifetime:0:days" isn't/, /whole number from 1/));
  it('an unknown IP relaxation', () => expectRefused(() => hubspot({ ipRelaxation: 'relax' }), /--ip-relaxation relax: "relax" isn't an IP relaxation setting/, /enforce .*bypass/));
  it('an unknown flow', () => expectRefused(() => hubspot({ flow: 'password' }), /"password" isn't a supported OAuth flow/, /--flow client-credentials/));
  it('an unknown app type', () => expectRefused(() => hubspot({ appType: 'eca' }), /"eca" isn't an app type/, /--app-type external-client-app/));
  it('an unknown object in the org', () =>
    expectRefused(() => validateAgainstOrg(hubspot({ objects: ['Shipment__c=read'] }).spec, org), /object Shipment__c doesn't exist/, /sf sobject list/));
  it('a misspelt object, with the nearest name', () =>
    expectRefused(() => validateAgainstOrg(hubspot({ objects: ['Acount=read'] }).spec, org), /object Acount doesn't exist/, /Did you mean Account\?/));
  it('a misspelt field, with the nearest name', () =>
    expectRefused(
      () => validateAgainstOrg(hubspot({ objects: ['Account=read'], fields: ['Account.Industy=read'] }).spec, org),
      /field Account\.Industy doesn't exist/,
      /Did you mean Industry\?/
    ));
  it('an object not on the Salesforce Integration license', () =>
    expectRefused(() => validateAgainstOrg(hubspot({ objects: ['Campaign=read'] }).spec, org), /Campaign isn't available on the Salesforce Integration license/, /Leave it out/));
  it('an unknown system permission when the org lists them', () =>
    expectRefused(
      () => validateAgainstOrg(hubspot({ systemPermissions: ['ApiUserOnlyy'] }).spec, { ...org, systemPermissions: ['ApiEnabled', 'ApiUserOnly'] }),
      /system permission ApiUserOnlyy doesn't exist/,
      /Did you mean ApiUserOnly\?/
    ));
  it('an unreadable spec file', () => expectRefusedAsync(readSpecFile(fixture('missing.yaml')), /Can't read the spec file .*missing\.yaml \(ENOENT\)/, /Check the path/));
  it('malformed YAML, naming the line', () => expectRefusedAsync(readSpecFile(fixture('malformed.yaml')), /malformed\.yaml isn't valid YAML or JSON at line 4/, /Fix the syntax/));
  it('malformed JSON, naming the line', () => expectRefusedAsync(readSpecFile(fixture('malformed.json')), /malformed\.json isn't valid YAML or JSON at line 3/, /Fix the syntax/));
  it('a spec file that is not a mapping', () => expectRefused(() => parseSpecFile('- a\n- b\n', 'list.yaml'), /list\.yaml doesn't hold a mapping/, /name: HubSpot/));
  it('unknown spec keys, each with its line and the nearest key', async () => {
    const err = await readSpecFile(fixture('unknown-keys.yaml')).then(
      () => undefined,
      (e: unknown) => e as SfError
    );
    expect(err).to.be.instanceOf(SfError);
    expect(err?.message).to.match(/have 3 problems/);
    expect(err?.message).to.match(/objets \(unknown-keys\.yaml:2\) isn't a key/);
    expect(err?.message).to.match(/policies\.ipRelaxtion \(unknown-keys\.yaml:5\)/);
    expect(err?.message).to.match(/colour \(unknown-keys\.yaml:6\)/);
    expect(err?.actions).to.include.members(['Did you mean objects?', 'Did you mean ipRelaxation?']);
    expect(err?.data).to.have.nested.property('problems[0].code', 'SpecUnknownKeySuggest');
  });
  it('wrong value types and bad words in a file, all at once with their lines', async () => {
    const err = await readSpecFile(fixture('bad-values.yaml')).then(
      () => undefined,
      (e: unknown) => e as SfError
    );
    expect(err?.message).to.match(/certificate\.validityDays \(bad-values\.yaml:5\) must be of type integer, not string/);
    const file = parseSpecFile(readFileSync(fixture('bad-values.yaml'), 'utf8').replace('long', '30'), 'bad-values.yaml');
    const bad = expectRefused(() => build({ specFile: file }), /have 2 problems/, /lifetime:N:UNIT/);
    expect(bad.message).to.match(/objects\.Account \(bad-values\.yaml:3\): "write" isn't an object permission/);
    expect(bad.message).to.match(/policies\.refreshTokenPolicy \(bad-values\.yaml:7\): "forever" isn't a refresh-token policy/);
  });
  it('a file without a name', () => expectRefused(() => parseSpecFile('flow: jwt\n', 'noname.yaml'), /noname\.yaml has no `name` key/, /name: HubSpot/));
  it('many problems at once, in one error with every fix', () => {
    const err = expectRefused(() => build({ name: 'Hub Spot', email: 'x', keySize: 1000, ipRelaxation: 'open' }), /have 4 problems/, /--name Hub_Spot/);
    expect(err.name).to.equal('InvalidSpecError');
    expect(err.actions?.join('\n')).to.match(/--key-size 2048/).and.match(/--email jane/).and.match(/Use enforce/);
  });
});

describe('the owner filled in after the org is read (draftSpec, withOwner)', () => {
  const env = { adminUsername: 'admin@acme.com', isSandbox: false };

  it('is, once the admin email is known, the same desired state buildSpec makes, with the same warnings and notes', () => {
    const input: SpecInput = { name: 'HubSpot', objects: ['Account=read'], systemPermissions: ['ModifyAllData'], allowPrivileged: true };
    const draft = draftSpec(input, env);
    expect(draft.ownerPending).to.deep.equal({ display: 'HubSpot', description: undefined });
    expect(withOwner(draft, 'admin@acme.com')).to.deep.equal(build(input));
    const masked = withOwner(draftSpec(input, { ...env, adminUsername: 'admin@acme.com.dev', isSandbox: true }), 'admin@acme.com.invalid');
    expect(masked).to.deep.equal(build(input, sandbox));
    expect(masked.warnings[0].code).to.equal('OwnerEmailInvalid');
  });

  it('keeps a spec checked against the org since: its names stay in Salesforce spelling', () => {
    const draft = draftSpec({ name: 'HubSpot', objects: ['account=read'], fields: ['account.industry=read'] }, env);
    const checked = validateAgainstOrg(draft.spec, org);
    const { spec } = withOwner({ ...draft, spec: checked }, 'admin@acme.com');
    expect(spec.permissionSet.fields.map((f) => f.field)).to.deep.equal(['Account.Industry']);
    expect([spec.ownerEmail, spec.user.email, spec.app.contactEmail]).to.deep.equal(['admin@acme.com', 'admin@acme.com', 'admin@acme.com']);
    expect(spec.app.description).to.match(/Owner: admin@acme\.com\.$/);
  });

  it('leaves a given owner alone: --email or the file owner, then withOwner changes nothing', () => {
    const draft = draftSpec({ name: 'HubSpot', email: 'jane.doe@acme.com' }, env);
    expect(draft.ownerPending).to.equal(undefined);
    expect(withOwner(draft, 'admin@acme.com')).to.equal(draft);
    expect(draft).to.deep.equal(build({ name: 'HubSpot', email: 'jane.doe@acme.com' }));
  });

  it('refuses other problems before the read, and an org that tells no owner after it', () => {
    expectRefused(() => draftSpec({ name: 'Hub Spot' }, env), /Hub Spot/, /--name Hub_Spot/);
    const draft = draftSpec({ name: 'HubSpot' }, env);
    expectRefused(() => withOwner(draft, undefined), /has no owner/, /--email/);
  });

  it('checks the owner email and the description that names it once the owner is known', () => {
    const long = `${'a'.repeat(120)}@${'b'.repeat(60)}.com`;
    const draft = draftSpec({ name: 'HubSpot' }, env);
    const err = failure(() => withOwner(draft, long));
    expect(err.message).to.match(/have 2 problems/).and.match(/isn't a valid email address/).and.match(/description has 271 characters/);
  });
});
