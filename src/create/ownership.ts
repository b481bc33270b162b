/*
 * Ownership of an app's credentials. create writes the app whole, certificate and flow included, so a create run
 * from another output directory (another person, another machine, a lost checkout) would replace the certificate
 * the external system signs with, and lock it out ("invalid_grant: invalid assertion"). Before any write, the app
 * the org holds is compared with what this run holds: a certificate whose private key this run does not have, or a
 * flow whose credentials it would take away, is refused, naming the app and the certificate it holds, unless
 * --replace-credentials says the replacement is intended. Replacing a certificate on purpose is what
 * `sf integration rotate` is for: it keeps the old key working until the new one is proved.
 */
import { Messages, type SfError } from '@salesforce/core';
import { inspectCertificate, keyMatchesCertificate } from '../credentials/index.js';
import type { IntegrationSpec } from '../desired/index.js';
import type { AppConfig, OrgSnapshot } from '../org/index.js';
import type { LocalCredentials } from './plan.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');

const squash = (pem: string | undefined): string => (pem ?? '').replace(/-----[^-]+-----|\s+/g, '');

/** The SHA-256 fingerprint of the app's certificate, as Setup and `openssl x509 -fingerprint -sha256` show it. */
export const fingerprintOf = (pem: string): string => {
  try {
    return inspectCertificate(pem).sha256Fingerprint;
  } catch {
    return 'unreadable certificate';
  }
};

/** Whether this run holds the private key of the certificate the app carries. */
const holdsKeyOf = (app: AppConfig, local: LocalCredentials & { privateKeyPem?: string }): boolean => {
  if (!app.certificate) return true;
  if (local.privateKeyPem) {
    try {
      return keyMatchesCertificate(local.privateKeyPem, app.certificate);
    } catch {
      return squash(local.certificatePem) === squash(app.certificate);
    }
  }
  return false;
};

export type Takeover =
  | { kind: 'certificate'; app: string; fingerprint: string }
  | { kind: 'flow-to-client-credentials'; app: string; fingerprint: string }
  | { kind: 'flow-to-jwt'; app: string };

/** What this create would take away from whoever uses the app now, or undefined when nothing. Pure. */
export const takeoverOf = (spec: IntegrationSpec, snap: Pick<OrgSnapshot, 'app'>, local: LocalCredentials & { privateKeyPem?: string }): Takeover | undefined => {
  const app = snap.app;
  if (!app || app.kind !== spec.app.kind) return undefined;
  if (spec.flow === 'jwt') {
    if (app.certificate && !holdsKeyOf(app, local)) return { kind: 'certificate', app: app.name, fingerprint: fingerprintOf(app.certificate) };
    // The app is set up for client credentials and a JWT create would turn that flow off: the secret's holders are locked out.
    if (!app.certificate && app.clientCredentialsEnabled) return { kind: 'flow-to-jwt', app: app.name };
    return undefined;
  }
  // Client credentials writes the app without a certificate: whoever signs JWTs with it is locked out.
  if (app.certificate) return { kind: 'flow-to-client-credentials', app: app.name, fingerprint: fingerprintOf(app.certificate) };
  return undefined;
};

export const takeoverError = (t: Takeover, outputDir: string): SfError => {
  switch (t.kind) {
    case 'certificate':
      return messages.createError('error.CertificateNotHeld', [t.app, t.fingerprint, outputDir], [t.app]);
    case 'flow-to-client-credentials':
      return messages.createError('error.FlowTakesCertificate', [t.app, t.fingerprint], [t.app]);
    case 'flow-to-jwt':
      return messages.createError('error.FlowTakesSecret', [t.app], [t.app]);
  }
};

/** Throws (exit 1, before any write, --dry-run included) when the create would take an app's credentials away. */
export const assertOwnsCredentials = (
  spec: IntegrationSpec,
  snap: Pick<OrgSnapshot, 'app'>,
  local: LocalCredentials & { privateKeyPem?: string },
  opts: { replace: boolean; outputDir: string }
): void => {
  if (opts.replace) return;
  const t = takeoverOf(spec, snap, local);
  if (t) throw takeoverError(t, opts.outputDir);
};
