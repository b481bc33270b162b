/*
 * The credentials module's user-facing text (messages/credentials.md). Tokens passed here are paths, sizes,
 * dates and algorithm names, never key material.
 */
import { Messages } from '@salesforce/core';
import type { CredentialWarning, CredentialWarningCode } from './types.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
export const messages = Messages.loadMessages('@integration-kit/plugin-integration', 'credentials');

export const warning = (code: CredentialWarningCode, tokens: string[] = [], actionTokens: string[] = []): CredentialWarning => {
  const { message, actions } = messages.createWarning(`warning.${code}`, tokens, actionTokens);
  return actions && actions.length > 0 ? { code, message, actions } : { code, message };
};

/** A short, key-free reason for a low-level failure: the Node error code, or its class name. */
export const reasonOf = (e: unknown): string => {
  const err = e as { code?: unknown; name?: unknown } | undefined;
  if (err && typeof err.code === 'string') return err.code;
  if (err && typeof err.name === 'string') return err.name;
  return 'unknown error';
};
