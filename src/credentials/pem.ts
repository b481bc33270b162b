/*
 * PEM text handling shared by the key and certificate readers. Nothing here logs or echoes its input.
 */

export type PemBlock = { label: string; text: string };

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The PEM text of `input`: the input itself, or, when it is the one-line base64 form of a PEM file (what
 * `base64 -w 0 private-key.pem` prints and external systems ask for), its decoded text. A UTF-8 byte-order
 * mark and Windows line ends are tolerated.
 */
export const toPemText = (input: string): string => {
  const text = input.replace(/^\uFEFF/, '');
  if (text.includes('-----BEGIN')) return text;
  const compact = text.replace(/\s+/g, '');
  if (compact.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) return decoded;
  }
  return text;
};

/** Every PEM block in `text`, in order. */
export const pemBlocks = (text: string): PemBlock[] =>
  [...toPemText(text).matchAll(BLOCK)].map((m) => ({ label: m[1], text: m[0] }));

/** The label of the first `-----BEGIN x-----` line, even when its END line is missing. */
export const firstPemLabel = (text: string): string | undefined => /-----BEGIN ([A-Z0-9 ]+)-----/.exec(toPemText(text))?.[1];

export const derToPem = (der: Buffer, label: string): string => {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
};
