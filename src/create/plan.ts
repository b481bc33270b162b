/*
 * create's plan, as pure data decided before the first write: the license it stands on, the key pair, every part
 * of the integration in the org (the one planner, from the desired state of the spec), the live check, and the
 * documents of what was set up.
 */
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { inspectCertificate, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from '../credentials/index.js';
import { desiredState, specToFile, type DesiredAppCertificate, type IntegrationSpec } from '../desired/index.js';
import type { OrgSnapshot } from '../org/index.js';
import { INTEGRATION_LICENSE } from '../salesforce/licenses.js';
import { documentsStep, keyPairStep, textWithRefs, verifyStep, type KeyPairSource } from '../plan/local.js';
import { planChanges, step } from '../plan/plan.js';
import { planText } from '../plan/render.js';
import type { Plan, RefName } from '../plan/types.js';
import { renderRunbook } from '../report/runbook.js';

/** What the output directory and the flags hold, read before planning. */
export type LocalCredentials = {
  source: KeyPairSource;
  /** The certificate the app should carry when it is already on disk (existing in the output directory, or brought). */
  certificatePem?: string;
  /** runbook.md and integration.yaml are already in the output directory. */
  documentsWritten?: boolean;
};

export type CreatePlanOptions = {
  verify: boolean;
  /** Minutes the live check keeps asking while a new app propagates. */
  waitMinutes?: number;
  outputDir?: string;
  /** The org as the runbook names it in commands (alias or username). */
  targetOrg?: string;
  now?: Date;
};

export const RUNBOOK_FILE = 'runbook.md';
export const SPEC_FILE = 'integration.yaml';
export const SECRET_FILE = 'consumer-secret.txt';

/** ./NAME-integration, where create writes the key pair and the documents unless --output-dir says otherwise. */
export const defaultOutputDir = (spec: IntegrationSpec): string => resolve(`./${spec.name.replace(/[^A-Za-z0-9_-]+/g, '-')}-integration`);

/** Where the key pair is: the files the user brought, else the output directory. */
export const keyFilesOf = (spec: IntegrationSpec, outputDir: string): { privateKeyFile: string; certificateFile: string } => ({
  privateKeyFile: spec.certificate.privateKeyFile ? resolve(spec.certificate.privateKeyFile) : join(outputDir, PRIVATE_KEY_FILE),
  certificateFile: spec.certificate.certificateFile ? resolve(spec.certificate.certificateFile) : join(outputDir, CERTIFICATE_FILE),
});

const appCertificate = (spec: IntegrationSpec, local: LocalCredentials): DesiredAppCertificate | undefined => {
  if (spec.flow !== 'jwt') return undefined;
  if (local.certificatePem) return { pem: local.certificatePem };
  return local.source === 'generate' ? { generated: true } : undefined;
};

/** When a certificate on disk expires (it was validated before planning; the runbook only names the date). */
const expiryOf = (pem: string): string | undefined => {
  try {
    return inspectCertificate(pem).notAfter;
  } catch {
    return undefined;
  }
};

/** The plan for one integration. Throws PlanBlocked when the org cannot take it (no license, ...). */
export const planIntegration = (spec: IntegrationSpec, snap: OrgSnapshot, local: LocalCredentials, opts: CreatePlanOptions): Plan => {
  const outputDir = opts.outputDir ?? defaultOutputDir(spec);
  const jwt = spec.flow === 'jwt';
  const lic = snap.integrationLicense;
  const keys = keyFilesOf(spec, outputDir);
  const changes = planChanges(desiredState(spec, appCertificate(spec, local)), snap);
  const appStep = changes.find((s) => s.id === 'app');
  const secretFile = spec.flow === 'client-credentials' ? join(outputDir, SECRET_FILE) : undefined;
  const steps = [
    step({ id: 'license', action: snap.user ? 'unchanged' : 'skip', subject: lic ? planText('subject.license', [lic.name, lic.used, lic.total]) : INTEGRATION_LICENSE }),
    // The key pair first: local, cheap, and reused by a re-run if an org write fails later.
    keyPairStep({
      source: local.source,
      dir: outputDir,
      keySize: spec.certificate.keySize,
      validityDays: spec.certificate.validityDays,
      commonName: `${spec.name} integration`,
      providedFile: spec.certificate.privateKeyFile,
    }),
    ...changes,
    verifyStep({ enabled: opts.verify, flow: spec.flow, hosts: snap.org, app: spec.app, username: spec.user.username, secretFile, waitMinutes: opts.waitMinutes ?? 0 }),
  ];
  const othersChange = steps.some((s) => s.action === 'create' || s.action === 'update');
  const runbook = textWithRefs((value: (name: RefName) => string) =>
    renderRunbook({
      spec,
      values: {
        consumerKey: value('consumerKey'),
        username: spec.user.username,
        privateKeyFile: jwt ? keys.privateKeyFile : undefined,
        consumerSecretFile: secretFile,
        subdomain: snap.org.subdomain,
        loginUrl: snap.org.loginUrl,
        audience: snap.org.audience,
        instanceUrl: snap.org.instanceUrl,
      },
      orgId: snap.org.id,
      certificateFile: jwt ? keys.certificateFile : undefined,
      certificateExpires: !jwt ? undefined : local.certificatePem ? expiryOf(local.certificatePem) : value('certificateExpires'),
      createdAt: (opts.now ?? new Date()).toISOString(),
      targetOrg: opts.targetOrg ?? '',
    })
  );
  steps.push(
    documentsStep({
      files: [
        { path: join(outputDir, RUNBOOK_FILE), name: RUNBOOK_FILE, content: runbook },
        { path: join(outputDir, SPEC_FILE), name: SPEC_FILE, content: [toYaml(specToFile(spec))] },
      ],
      exist: local.documentsWritten === true,
      othersChange,
      // Without the live check, nothing else reads back the consumer key of an app this run writes.
      readKeyOf: !opts.verify && appStep?.ops.length ? spec.app : undefined,
    })
  );
  return { steps, warnings: [] };
};
