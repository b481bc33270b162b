/*
 * Real-org end-to-end tests (NUTs): run with `npm run test:nuts` when an org is authorized in the sf CLI and named
 * in SF_INTEGRATION_NUT_ORG (alias or username). They read the org and plan only: `create --dry-run` writes
 * nothing, `doctor` is read-only. Without SF_INTEGRATION_NUT_ORG no test is defined, so nothing is skipped.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../helpers/sf.js';

const exec = promisify(execFile);
const org = process.env.SF_INTEGRATION_NUT_ORG;

type Envelope = { status: number; result?: Record<string, unknown> };

const runPlugin = async (args: string[]): Promise<Envelope> => {
  const { stdout } = await exec(process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', 'bin/dev.js', ...args, '--json'], { cwd: PROJECT_ROOT }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' })
  );
  return JSON.parse(stdout) as Envelope;
};

if (org) {
  describe(`sf integration on the real org ${org}`, function () {
    this.timeout(600_000);

    it('plans a create without writing anything', async () => {
      const r = await runPlugin(['integration', 'create', '--target-org', org, '--name', 'NutCheck', '--object', 'Account=read', '--dry-run']);
      expect(r.status).to.equal(0);
      expect(r.result?.dryRun).to.equal(true);
    });

    it('reports a missing app as app-exists fail, read-only', async () => {
      const r = await runPlugin(['integration', 'doctor', '--target-org', org, '--name', 'No_Such_App_NutCheck']);
      const reports = (r.result?.reports ?? []) as Array<{ checks: Array<{ id: string; status: string }> }>;
      expect(reports[0].checks.find((c) => c.id === 'app-exists')?.status).to.equal('fail');
    });
  });
}
