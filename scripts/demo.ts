/*
 * `npm run demo`: the main job, end to end, against the local org emulator. Starts an emulated Enterprise
 * Edition org, logs the real `sf` CLI in to it (throwaway HOME, so your own CLI config is untouched), links this
 * plugin, creates a JWT integration for "HubSpot", logs in with it through the real `sf org login jwt`, and ends
 * with a doctor run on the integration it created.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator } from '../test/emulator/index.js';
import { newSfHome, PROJECT_ROOT } from '../test/helpers/sf.js';

const exec = promisify(execFile);

const step = (title: string): void => {
  process.stdout.write(`\n=== ${title}\n`);
};

type CreateJson = {
  result?: { consumerKey?: string; privateKeyFile?: string; username?: string; appName?: string; steps?: Array<{ name: string; status: string }> };
};

const main = async (): Promise<void> => {
  step('Building the plugin');
  await exec('npx', ['tsc', '-p', '.'], { cwd: PROJECT_ROOT });
  const emu = await startEmulator();
  const sf = await newSfHome();
  const run = async (title: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
    step(title);
    const r = await sf.run(args, extraEnv);
    process.stdout.write(r.stdout);
    if (r.code !== 0) throw new Error(`sf ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r.stdout;
  };
  try {
    step(`Emulated org at ${emu.instanceUrl} (sf CLI home: ${sf.home})`);
    await run('sf plugins link .', ['plugins', 'link', PROJECT_ROOT, '--no-install']);
    await run('sf org login access-token', ['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emulator'], {
      SF_ACCESS_TOKEN: emu.accessToken,
    });
    await run('sf org display --target-org emulator', ['org', 'display', '--target-org', 'emulator']);
    await run('Integration licenses (sf data query)', [
      'data',
      'query',
      '--target-org',
      'emulator',
      '--query',
      "SELECT Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'",
    ]);

    const outputDir = join(sf.home, 'hubspot-integration');
    const createArgs = ['integration', 'create', '--target-org', 'emulator', '--name', 'HubSpot', '--object', 'Account=read,create,edit', '--object', 'Contact=read', '--field', 'Account.Industry=read', '--output-dir', outputDir];
    await run('sf integration create --dry-run (the plan; nothing is written)', [...createArgs, '--dry-run']);
    await run('sf integration create', createArgs);
    const before = emu.log().writes;
    const created = (JSON.parse(await sf.run([...createArgs, '--json']).then((r) => r.stdout)) as CreateJson).result ?? {};
    step(
      `The same command again (--json): ${(created.steps ?? []).map((s) => `${s.name} ${s.status}`).join(', ')}; writes: ${emu.log().writes - before}`
    );

    await run('sf org login jwt with what create made (the real CLI signs the JWT)', [
      'org',
      'login',
      'jwt',
      '--client-id',
      created.consumerKey ?? '',
      '--jwt-key-file',
      created.privateKeyFile ?? '',
      '--username',
      created.username ?? '',
      '--instance-url',
      emu.instanceUrl,
      '--alias',
      'hubspot',
    ]);

    await run('sf integration doctor (with the live token exchange)', [
      'integration',
      'doctor',
      '--target-org',
      'emulator',
      '--name',
      created.appName ?? '',
      '--client-id',
      created.consumerKey ?? '',
      '--private-key-file',
      created.privateKeyFile ?? '',
    ]);
    await run('sf integration audit (every app, identity and connected user, with NHI findings)', ['integration', 'audit', '--target-org', 'emulator']);
    // Trust in pipelines: a create from another directory would replace the app's certificate and lock out the
    // first key; it is refused before any write (exit 1), naming the certificate the app holds.
    const takeoverWrites = emu.log().writes;
    const takeover = await sf.run([...createArgs.slice(0, -1), join(sf.home, 'someone-else'), '--dry-run']);
    step(
      `The same integration from another directory: exit ${takeover.code}, writes: ${emu.log().writes - takeoverWrites}\n${takeover.stderr.split('\n').filter((l) => l.trim() && !l.trim().startsWith('›')).slice(0, 3).join('\n')}`
    );
    await run('sf integration revoke --block --dry-run (cutting the integration off, planned; nothing is written)', [
      'integration',
      'revoke',
      '--target-org',
      'emulator',
      '--app',
      created.appName ?? '',
      '--block',
      '--dry-run',
    ]);
    // sf integration migrate: an integration still on a standard license (Standard User profile, a permission set with
    // Account and Campaign access that pre-authorizes it for the HubSpot app) moved to the Integration license.
    const standard = emu.store.all('Profile').find((p) => p.Name === 'Standard User')!;
    const legacy = emu.store.insert('User', {
      Username: 'legacy.sync@emulated-org.example',
      FirstName: 'Legacy',
      LastName: 'Sync',
      Email: 'admin@emulated-org.example',
      Alias: 'legacy',
      TimeZoneSidKey: 'America/Los_Angeles',
      LocaleSidKey: 'en_US',
      EmailEncodingKey: 'UTF-8',
      LanguageLocaleKey: 'en_US',
      ProfileId: standard.Id,
    });
    const legacySet = emu.store.insert('PermissionSet', { Name: 'Legacy_Sync_Access', Label: 'Legacy Sync Access', PermissionsApiEnabled: true });
    for (const object of ['Account', 'Campaign']) emu.store.insert('ObjectPermissions', { ParentId: legacySet.Id, SobjectType: object, PermissionsRead: true });
    emu.store.insert('PermissionSetAssignment', { AssigneeId: legacy.Id, PermissionSetId: legacySet.Id });
    const hubspotApp = emu.store.all('ExternalClientApplication').find((a) => a.DeveloperName === created.appName)!;
    emu.store.insert('SetupEntityAccess', { ParentId: legacySet.Id, SetupEntityId: hubspotApp.Id });
    const migrateArgs = ['integration', 'migrate', '--target-org', 'emulator', '--from-user', 'legacy.sync@emulated-org.example', '--name', 'Legacy_Sync', '--app', created.appName ?? ''];
    await run('sf integration migrate --dry-run (the analysis: what is carried, dropped, and the seat freed)', [...migrateArgs, '--dry-run']);
    await run('sf integration migrate (a new Integration user takes over; the old one is retired)', [
      ...migrateArgs,
      '--private-key-file',
      created.privateKeyFile ?? '',
      '--output-dir',
      join(sf.home, 'legacy-migration'),
      '--no-prompt',
    ]);
    await run('sf integration rotate --dry-run (the plan of a certificate rotation)', [
      'integration', 'rotate', '--target-org', 'emulator', '--name', created.appName ?? '', '--output-dir', outputDir, '--dry-run',
    ]);
    await run('sf integration rotate (new key pair, certificate replaced, new key proved, old key refused)', [
      'integration', 'rotate', '--target-org', 'emulator', '--name', created.appName ?? '', '--output-dir', outputDir, '--no-prompt',
    ]);
    await run('sf integration rotate --strategy new-app --dry-run (the zero-downtime route: a second app with a new certificate)', [
      'integration', 'rotate', '--target-org', 'emulator', '--name', created.appName ?? '', '--strategy', 'new-app', '--output-dir', outputDir, '--dry-run',
    ]);
    const { entries, writes } = emu.log();
    step(`The emulator answered ${entries.length} requests; client writes to the org: ${writes}. Files: ${outputDir}`);
  } finally {
    await emu.close();
    await sf.dispose();
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
