/*
 * The emulator's server: one org behind http://127.0.0.1:PORT. Routes come from the modules; this file adds
 * auth, fault injection, the request log and the two non-Salesforce paths (/__emulator/state, /__emulator/log).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agePropagation, deriveAppRecords, userHasPermission } from './apps.js';
import { Faults, faultResponse, type FaultSpec } from './faults.js';
import {
  bearerToken,
  invalidAuthHeader,
  invalidSession,
  json,
  resolveSession,
  restError,
  toApiError,
  type EmuRequest,
  type EmuResponse,
  type LogEntry,
  type Route,
} from './http.js';
import { connectRoutes } from './connect.js';
import { metadataRoutes } from './metadata.js';
import { oauthRoutes } from './oauth.js';
import { trackPropagation } from './propagation.js';
import { restRoutes } from './rest.js';
import { revokeRoutes } from './revoke.js';
import { stagedCredentialRoutes } from './staged-credentials.js';
import { parseSoapRequest } from './soap.js';
import { soqlRoutes } from './soql.js';
import { newAccessToken, OrgStore, type Fixture, type StoreDeriver } from './store.js';
import { completeFixtureTokens, tokenRoutes } from './tokens.js';
import { usageRoutes } from './usage.js';

export type EmulatorOptions = {
  /** A fixture object or the path of a fixture JSON file; default: fixtures/default.json. */
  fixture?: Fixture | string;
  /** 0 (default) = any free port. */
  port?: number;
};

export type Emulator = {
  instanceUrl: string;
  /** A valid session of the org's first active System Administrator. */
  accessToken: string;
  store: OrgStore;
  injectFault(spec: FaultSpec): void;
  clearFaults(): void;
  log(): { entries: LogEntry[]; writes: number };
  clearLog(): void;
  state(): Fixture;
  close(): Promise<void>;
};

export const DEFAULT_FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'default.json');

export const loadFixture = async (fixture: Fixture | string | undefined): Promise<Fixture> => {
  if (fixture && typeof fixture === 'object') return structuredClone(fixture);
  const text = await readFile(fixture ?? DEFAULT_FIXTURE, 'utf8');
  return JSON.parse(text) as Fixture;
};

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const send = (res: ServerResponse, r: EmuResponse): void => {
  if (r.drop) {
    res.socket?.destroy();
    return;
  }
  let payload: Buffer | string = '';
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (Buffer.isBuffer(r.body)) payload = r.body;
  else if (typeof r.body === 'string') payload = r.body;
  else if (r.body !== undefined) {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json;charset=UTF-8';
  }
  res.writeHead(r.status, headers);
  res.end(payload);
};

/** The org's first active System Administrator: the user behind the admin access token. */
const firstAdmin = (store: OrgStore): string | undefined => {
  const adminProfiles = new Set(store.all('Profile').filter((p) => p.Name === 'System Administrator').map((p) => p.Id));
  return store.all('User').find((u) => u.IsActive !== false && adminProfiles.has(String(u.ProfileId)))?.Id;
};

export const startEmulator = async (options: EmulatorOptions = {}): Promise<Emulator> => {
  const fixture = await loadFixture(options.fixture);
  // After every metadata change: the derived app records, then what a certificate change means while it propagates.
  const deriver: StoreDeriver = { ...deriveAppRecords, derive: (s) => (deriveAppRecords.derive(s), trackPropagation(s)) };
  const store = new OrgStore(fixture, deriver);
  // Apps given in a fixture exist already: they have propagated.
  agePropagation(store);
  completeFixtureTokens(store);
  const faults = new Faults(store.settings.faults ?? []);
  const entries: LogEntry[] = [];
  let writesAtClear = 0;

  const adminId = firstAdmin(store);
  if (!adminId) throw new Error('The fixture has no active System Administrator user.');
  const accessToken = store.settings.adminAccessToken ?? newAccessToken(store.orgId);
  store.sessions.set(accessToken, { token: accessToken, userId: adminId, scopes: ['api', 'web', 'full'], issuedAt: Date.now() });

  const routes: Route[] = [
    ...oauthRoutes(),
    ...revokeRoutes(),
    ...tokenRoutes(),
    ...soqlRoutes(),
    ...metadataRoutes(),
    ...usageRoutes(),
    ...stagedCredentialRoutes(),
    ...connectRoutes(),
    ...restRoutes(),
  ];

  /** The routes: auth, then the handler of the first route that matches. */
  const dispatchRoutes = async (req: EmuRequest): Promise<EmuResponse> => {
    for (const route of routes) {
      if (route.method !== '*' && route.method !== req.method) continue;
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      if (route.auth === 'bearer') {
        const token = bearerToken(req.headers);
        if (!token) return invalidAuthHeader();
        const session = resolveSession(store, token);
        if (!session) return invalidSession();
        // A user without "API Enabled" (profile or permission set) gets no API at all; Salesforce answers every
        // REST call with API_DISABLED_FOR_ORG (REST API Developer Guide, status codes and error responses).
        if (!userHasPermission(store, session.userId, 'ApiEnabled')) {
          return json(403, [{ message: 'API is not enabled for this Organization or Partner', errorCode: 'API_DISABLED_FOR_ORG' }]);
        }
        req.session = session;
      }
      try {
        return await route.handler(req, match, store);
      } catch (e) {
        return restError(toApiError(e));
      }
    }
    return json(404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
  };

  const handle = async (req: EmuRequest): Promise<EmuResponse> => {
    if (req.path === '/__emulator/state' && req.method === 'GET') return json(200, store.dump());
    if (req.path === '/__emulator/log' && req.method === 'GET') return json(200, { entries, writes: store.writeCount - writesAtClear });

    let soapOperation: string | undefined;
    if (req.path.startsWith('/services/Soap/')) {
      try {
        soapOperation = parseSoapRequest(req.body.toString('utf8')).operation;
        req.log.soapOperation = soapOperation;
      } catch {
        /* the SOAP route answers the parse error */
      }
    }
    const fault = faults.take(req, soapOperation);
    if (fault) {
      req.log.fault = JSON.stringify(fault);
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      const answer = faultResponse(fault, Boolean(soapOperation));
      if (answer) return answer;
    }
    if (fault?.afterCommit) {
      // The org did the work; the answer is lost on the way back.
      await dispatchRoutes(req);
      return { status: 0, drop: true };
    }
    return dispatchRoutes(req);
  };

  const makeRequest = (method: string, url: URL, headers: IncomingHttpHeaders, body: Buffer, log: LogEntry): EmuRequest => ({
    method,
    url,
    path: url.pathname,
    headers,
    body,
    log,
    dispatch: (subMethod, pathWithQuery, subBody): Promise<EmuResponse> => {
      const subUrl = new URL(pathWithQuery, store.instanceUrl);
      const payload = subBody === undefined ? Buffer.alloc(0) : Buffer.from(typeof subBody === 'string' ? subBody : JSON.stringify(subBody));
      const subLog: LogEntry = { method: subMethod, path: subUrl.pathname, time: new Date().toISOString() };
      return handle(makeRequest(subMethod.toUpperCase(), subUrl, { authorization: headers.authorization, 'content-type': 'application/json' }, payload, subLog)).then(
        (r) => {
          log.sub = [...(log.sub ?? []), { ...subLog, status: r.status }];
          return r;
        }
      );
    },
  });

  const server: Server = createServer((req, res) => {
    void (async (): Promise<void> => {
      // Clients that join an instance URL ending in '/' with '/services/...' send '//services/...'; Salesforce
      // serves such paths, and URL parsing must not read them as a host.
      const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), store.instanceUrl);
      const entry: LogEntry = { method: req.method ?? 'GET', path: url.pathname, time: new Date().toISOString() };
      const isEmulatorPath = url.pathname.startsWith('/__emulator/');
      try {
        const body = await readBody(req);
        const before = store.writeCount;
        const response = await handle(makeRequest(entry.method, url, req.headers, body, entry));
        entry.status = response.drop ? 0 : response.status;
        entry.write = store.writeCount > before;
        if (!isEmulatorPath) entries.push(entry);
        send(res, response);
      } catch (e) {
        entry.status = 500;
        if (!isEmulatorPath) entries.push(entry);
        send(res, restError(toApiError(e)));
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  store.instanceUrl = `http://127.0.0.1:${port}`;

  return {
    instanceUrl: store.instanceUrl,
    accessToken,
    store,
    injectFault: (spec) => faults.add(spec),
    clearFaults: () => faults.clear(),
    log: () => ({ entries: [...entries], writes: store.writeCount - writesAtClear }),
    clearLog: (): void => {
      entries.length = 0;
      writesAtClear = store.writeCount;
    },
    state: () => store.dump(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
