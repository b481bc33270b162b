/*
 * `npm run emulator -- [--fixture FILE] [--port N]`: serves one emulated org on 127.0.0.1 until SIGINT/SIGTERM.
 * The first line on stdout is `instance-url: http://127.0.0.1:PORT`, the second `access-token: TOKEN` (a session
 * of the org's first active System Administrator), so that scripts can read them and log the sf CLI in.
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './server.js';

const usage = 'usage: npm run emulator -- [--fixture FILE] [--port N]';

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: { fixture: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be a whole number from 0 to 65535, got "${values.port ?? ''}". ${usage}`);
  }
  const emu = await startEmulator({ fixture: values.fixture, port });
  process.stdout.write(`instance-url: ${emu.instanceUrl}\naccess-token: ${emu.accessToken}\n`);
  const stop = (): void => {
    void emu.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

main().catch((e: unknown) => {
  process.stderr.write(`emulator: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
