/*
 * `npm run demo`: the main job, end to end, against the local org emulator. Starts an emulated Enterprise
 * Edition org, logs the real `sf` CLI in to it (throwaway HOME, so your own CLI config is untouched), and
 * shows the org and its integration licenses. Later stages (create, doctor) extend this script.
 */
import { startEmulator } from '../test/emulator/index.js';
import { newSfHome } from '../test/helpers/sf.js';

const step = (title: string): void => {
  process.stdout.write(`\n=== ${title}\n`);
};

const main = async (): Promise<void> => {
  const emu = await startEmulator();
  const sf = await newSfHome();
  try {
    step(`Emulated org at ${emu.instanceUrl} (sf CLI home: ${sf.home})`);
    const login = await sf.run(['org', 'login', 'access-token', '--instance-url', emu.instanceUrl, '--no-prompt', '--alias', 'emulator'], {
      SF_ACCESS_TOKEN: emu.accessToken,
    });
    process.stdout.write(login.stdout);
    if (login.code !== 0) throw new Error(`sf org login access-token failed:\n${login.stderr}`);

    step('sf org display --target-org emulator');
    const display = await sf.run(['org', 'display', '--target-org', 'emulator']);
    process.stdout.write(display.stdout);
    if (display.code !== 0) throw new Error(`sf org display failed:\n${display.stderr}`);

    step('Integration licenses (sf data query)');
    const licenses = await sf.run([
      'data',
      'query',
      '--target-org',
      'emulator',
      '--query',
      "SELECT Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'",
    ]);
    process.stdout.write(licenses.stdout);
    if (licenses.code !== 0) throw new Error(`sf data query failed:\n${licenses.stderr}`);

    const { entries, writes } = emu.log();
    step(`The emulator answered ${entries.length} requests from the real CLI; writes to the org: ${writes}`);
  } finally {
    await emu.close();
    await sf.dispose();
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
