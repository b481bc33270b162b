/*
 * Fault injection: the next N requests matching a method + path pattern (or a SOAP operation) are answered
 * with a given status and Salesforce error body, delayed, or dropped (before processing, or after it: afterCommit). Set in a fixture's `emulator.faults`
 * or programmatically through Emulator.injectFault().
 */
import type { EmuRequest, EmuResponse } from './http.js';
import { json } from './http.js';

export type FaultSpec = {
  /** HTTP method to match ('*' or omitted = any). */
  method?: string;
  /** Regular expression source matched against the request path (omitted = any). */
  path?: string;
  /** Metadata/SOAP operation to match, e.g. 'deploy' or 'checkDeployStatus'. */
  soapOperation?: string;
  /** How many matching requests to affect (default 1). */
  times?: number;
  /** Answer with this status and error (e.g. 503; 403 REQUEST_LIMIT_EXCEEDED; 400 UNABLE_TO_LOCK_ROW). */
  status?: number;
  errorCode?: string;
  message?: string;
  /** Wait this long before answering (the real answer, or the fault's). */
  delayMs?: number;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** Let this many matching requests through first (a fault on the 5th revocation: after 4). */
  after?: number;
  /**
   * Process the request as usual (the org commits it), then close the connection without an answer: the client
   * cannot tell whether its write landed. What a load balancer timeout or a network cut after the commit looks like.
   */
  afterCommit?: boolean;
};

/** Salesforce's texts for the common transient errors (wire/rest-error-request-limit-exceeded-403.json). */
const DEFAULT_MESSAGES: Record<string, string> = {
  REQUEST_LIMIT_EXCEEDED: 'TotalRequests Limit exceeded.',
  UNABLE_TO_LOCK_ROW: 'unable to obtain exclusive access to this record or 1 records',
  SERVER_UNAVAILABLE: 'Service Unavailable',
};

type Armed = FaultSpec & { remaining: number; pattern?: RegExp; passed: number };

export class Faults {
  private readonly armed: Armed[] = [];

  public constructor(specs: unknown[] = []) {
    for (const s of specs) this.add(s as FaultSpec);
  }

  public add(spec: FaultSpec): void {
    this.armed.push({ ...spec, remaining: spec.times ?? 1, pattern: spec.path ? new RegExp(spec.path) : undefined, passed: 0 });
  }

  public clear(): void {
    this.armed.length = 0;
  }

  public pending(): FaultSpec[] {
    return this.armed.filter((a) => a.remaining > 0).map(({ pattern: _pattern, remaining, passed, ...spec }) => ({ ...spec, times: remaining, ...(spec.after ? { after: Math.max(0, spec.after - passed) } : {}) }));
  }

  /** Consumes and returns the first fault that matches the request, if any. */
  public take(req: EmuRequest, soapOperation?: string): FaultSpec | undefined {
    const hit = this.armed.find(
      (a) =>
        a.remaining > 0 &&
        (!a.method || a.method === '*' || a.method.toUpperCase() === req.method) &&
        (!a.pattern || a.pattern.test(req.path)) &&
        (!a.soapOperation || a.soapOperation === soapOperation)
    );
    if (!hit) return undefined;
    if (hit.passed < (hit.after ?? 0)) {
      hit.passed++;
      return undefined;
    }
    hit.remaining--;
    return hit;
  }
}

/** The answer a fault gives, or undefined when it only delays. */
export const faultResponse = (fault: FaultSpec, soap: boolean): EmuResponse | undefined => {
  if (fault.afterCommit) return undefined;
  if (fault.drop) return { status: 0, drop: true };
  if (!fault.status) return undefined;
  const errorCode = fault.errorCode ?? (fault.status === 503 ? 'SERVER_UNAVAILABLE' : 'UNKNOWN_EXCEPTION');
  const message = fault.message ?? DEFAULT_MESSAGES[errorCode] ?? errorCode;
  if (soap) {
    return {
      status: fault.status === 503 ? 503 : 500,
      headers: { 'content-type': 'text/xml;charset=UTF-8' },
      body: soapFault(`sf:${errorCode}`, `${errorCode}: ${message}`),
    };
  }
  return json(fault.status, [{ message, errorCode }]);
};

export const soapFault = (faultcode: string, faultstring: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="http://soap.sforce.com/2006/04/metadata">' +
  `<soapenv:Body><soapenv:Fault><faultcode>${escapeXml(faultcode)}</faultcode><faultstring>${escapeXml(faultstring)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`;

export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
