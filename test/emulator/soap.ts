/*
 * SOAP envelopes for the Metadata API, read with a real XML parser (fast-xml-parser) and written with its
 * builder. Namespaces are stripped on read (jsforce and Salesforce both address elements by local name).
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
});

export type SoapRequest = {
  operation: string;
  sessionId?: string;
  /** The operation element's content, namespaces removed, values as strings. */
  payload: Record<string, unknown>;
};

export class SoapParseError extends Error {}

export const parseXml = (text: string): Record<string, unknown> => {
  try {
    return parser.parse(text, true) as Record<string, unknown>;
  } catch (e) {
    throw new SoapParseError(e instanceof Error ? e.message : String(e));
  }
};

export const parseSoapRequest = (text: string): SoapRequest => {
  const doc = parseXml(text);
  const env = doc.Envelope as Record<string, unknown> | undefined;
  if (!env || typeof env !== 'object') throw new SoapParseError('Missing SOAP Envelope');
  const header = (env.Header ?? {}) as Record<string, unknown>;
  const sessionHeader = header.SessionHeader as Record<string, unknown> | undefined;
  const body = env.Body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') throw new SoapParseError('Missing SOAP Body');
  const operation = Object.keys(body).find((k) => !k.startsWith('@_'));
  if (!operation) throw new SoapParseError('Empty SOAP Body');
  const payload = body[operation];
  return {
    operation,
    sessionId: sessionHeader?.sessionId !== undefined ? String(sessionHeader.sessionId) : undefined,
    payload: (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>,
  };
};

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  // xsi:nil="true" must keep its value (the builder's default prints attributes valued "true" bare).
  suppressBooleanAttributes: false,
  format: false,
});

export const buildXml = (obj: unknown): string => builder.build(obj);

/** A Metadata API response envelope around `<{operation}Response>{content}</...>`. */
export const soapResponse = (operation: string, content: unknown): string =>
  '<?xml version="1.0" encoding="UTF-8"?>' +
  buildXml({
    'soapenv:Envelope': {
      '@_xmlns:soapenv': 'http://schemas.xmlsoap.org/soap/envelope/',
      '@_xmlns': METADATA_NS,
      '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
      'soapenv:Body': { [`${operation}Response`]: content },
    },
  });

/** Always an array: SOAP repeats elements for arrays and gives a single value otherwise. */
export const asArray = <T>(v: T | T[] | undefined | null): T[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
