/*
 * The message bundles of the doctor: every user-facing word of checks (messages/checks.md) and of the error
 * catalogue (messages/errors.md).
 */
import { Messages } from '@salesforce/core';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);

export const checkMessages = Messages.loadMessages('@integration-kit/plugin-integration', 'checks');
export const errorMessages = Messages.loadMessages('@integration-kit/plugin-integration', 'errors');

export type Tokens = Array<string | number>;

/** A checks.md message with its %s tokens filled. */
export const say = (key: string, tokens: Tokens = []): string => checkMessages.getMessage(key, tokens.map(String));
