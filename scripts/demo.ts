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
    await run('sf integration rotate --dry-run (the plan of a certificate rotation)', [
      'integration', 'rotate', '--target-org', 'emulator', '--name', created.appName ?? '', '--output-dir', outputDir, '--dry-run',
    ]);
    await run('sf integration rotate (new key pair, certificate replaced, new key proved, old key refused)', [
      'integration', 'rotate', '--target-org', 'emulator', '--name', created.appName ?? '', '--output-dir', outputDir, '--no-prompt',
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
