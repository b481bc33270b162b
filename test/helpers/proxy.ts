/*
 * A small forward HTTP proxy on 127.0.0.1 for tests, as a corporate proxy stands between the CLI and Salesforce:
 * absolute-form requests (`GET http://host/path`) are forwarded, and CONNECT tunnels to a plain-HTTP origin are
 * opened and read request by request (the emulator speaks plain HTTP), so the proxy can say which requests went
 * through it, not only which hosts.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ProxiedRequest = { method: string; host: string; path: string; via: 'forward' | 'connect' };

export type TestProxy = {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
};

const forward = (req: IncomingMessage, res: ServerResponse, host: string, port: number, path: string): void => {
  const upstream = httpRequest({ host, port, method: req.method, path, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (e) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${e.message}`);
  });
  req.pipe(upstream);
};

export const startProxy = async (): Promise<TestProxy> => {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  // Requests inside a CONNECT tunnel: the tunnel's target is the origin, the request line holds only the path.
  const tunnelled = new Map<Socket, { host: string; port: number }>();
  const inner: Server = createServer((req, res) => {
    const target = tunnelled.get(req.socket);
    if (!target) {
      res.writeHead(400).end();
      return;
    }
    requests.push({ method: req.method ?? 'GET', host: `${target.host}:${target.port}`, path: (req.url ?? '/').split('?')[0], via: 'connect' });
    forward(req, res, target.host, target.port, req.url ?? '/');
  });
  const outer: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/');
    requests.push({ method: req.method ?? 'GET', host: url.host, path: url.pathname, via: 'forward' });
    forward(req, res, url.hostname, Number(url.port || 80), `${url.pathname}${url.search}`);
  });
  outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const [host, port] = (req.url ?? '').split(':');
    tunnelled.set(socket, { host, port: Number(port) });
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    inner.emit('connection', socket);
  });
  outer.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => outer.listen(0, '127.0.0.1', resolve));
  const { port } = outer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async (): Promise<void> => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => outer.close(() => resolve()));
      inner.close();
    },
  };
};
