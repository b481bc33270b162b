/*
 * The steps of a plan that are not org writes: the key pair on disk, the live verification, the documents written
 * next to the key. Pure builders: they describe the files and the exchange as data; apply.ts performs them like any
 * other step (no callback into a command). create uses all three; rotate will use the key pair (keepPrevious) and
 * the verification.
 */
import type { AppKind, Flow, TokenHosts } from '../org/index.js';
import { step } from './plan.js';
import { planText } from './render.js';
import type { Change, Operation, Ref, RefName, Step, Text } from './types.js';

/** Where the key pair comes from: already in the output directory, brought with flags, to be generated, or none (client credentials). */
export type KeyPairSource = 'existing' | 'provided' | 'generate' | 'none';

export const keyPairStep = (args: {
  source: KeyPairSource;
  dir: string;
  keySize: 2048 | 3072 | 4096;
  validityDays: number;
  commonName: string;
  /** What the subject names for a pair the user brought. */
  providedFile?: string;
  /** Keep a pair already in `dir` as *.previous.pem (rotate). */
  keepPrevious?: boolean;
}): Step => {
  if (args.source === 'none') return step({ id: 'certificate', action: 'skip', subject: planText('subject.no-certificate') });
  if (args.source === 'existing') return step({ id: 'certificate', action: 'unchanged', subject: planText('subject.key-files') });
  // A key the user brought stays where it is: copying a private key only makes a second secret to guard.
  if (args.source === 'provided') return step({ id: 'certificate', action: 'skip', subject: args.providedFile ?? planText('subject.your-key-pair') });
  return step({
    id: 'certificate',
    action: 'create',
    subject: planText('subject.key-pair', [args.keySize, args.validityDays]),
    changes: [{ key: 'certificate.generate' }],
    ops: [{ kind: 'generate-key-pair', dir: args.dir, keySize: args.keySize, validityDays: args.validityDays, commonName: args.commonName, ...(args.keepPrevious ? { keepPrevious: true } : {}) }],
  });
};

/**
 * The live check: the app's consumer key (and for client credentials its secret, kept in a 0600 file) read back
 * from the org, then the exchange the external system makes. Changes nothing: `unchanged` when it passes.
 */
export const verifyStep = (args: {
  enabled: boolean;
  flow: Flow;
  hosts: TokenHosts;
  app: { kind: AppKind; name: string };
  username: string;
  /** Client credentials: where the consumer secret is kept. */
  secretFile?: string;
  waitMinutes: number;
}): Step => {
  if (!args.enabled) return step({ id: 'verify', action: 'skip', subject: planText('subject.no-verify') });
  const cc = args.flow === 'client-credentials';
  const ops: Operation[] = [
    { kind: 'read-credentials', app: args.app, secret: cc },
    // Rewritten only when the org's secret changed (a re-run leaves the file alone).
    ...(cc && args.secretFile ? [{ kind: 'write-file' as const, path: args.secretFile, content: [{ ref: 'consumerSecret' as const }, '\n'], secret: true, onlyIfChanged: true }] : []),
    { kind: 'verify', hosts: args.hosts, flow: args.flow, clientId: { ref: 'consumerKey' }, username: args.username, waitMinutes: args.waitMinutes, appName: args.app.name },
  ];
  return step({ id: 'verify', action: 'unchanged', subject: planText('subject.verify', [args.flow]), ops });
};

/**
 * Documents of what was set up (the runbook, the spec file): written when missing or when the rest of the plan
 * changes something, left alone otherwise, so a re-run that changes nothing writes nothing.
 */
export const documentsStep = (args: {
  files: Array<{ path: string; name: string; content: Text }>;
  exist: boolean;
  othersChange: boolean;
  /** Read the consumer key first when no earlier step does. */
  readKeyOf?: { kind: AppKind; name: string };
}): Step => {
  const subject = args.files.map((f) => f.name).join(', ');
  if (args.exist && !args.othersChange) return step({ id: 'documents', action: 'unchanged', subject });
  const changes: Change[] = args.files.map((f) => ({ key: 'documents.write', values: [f.name] }));
  const ops: Operation[] = [
    ...(args.readKeyOf ? [{ kind: 'read-credentials' as const, app: args.readKeyOf, secret: false }] : []),
    ...args.files.map((f) => ({ kind: 'write-file' as const, path: f.path, content: f.content, secret: false })),
  ];
  return step({ id: 'documents', action: args.exist ? 'update' : 'create', subject, changes, ops });
};

const MARK = '\u0000';

/**
 * Text rendered now whose named values are filled in by apply: `render` gets a function that stands for a value
 * (the consumer key the org mints during the run), and the result is cut where those stand-ins are.
 */
export const textWithRefs = (render: (value: (name: RefName) => string) => string): Text =>
  render((name) => `${MARK}${name}${MARK}`)
    .split(MARK)
    .map((part, i): string | Ref => (i % 2 === 1 ? { ref: part as RefName } : part))
    .filter((part) => part !== '');
