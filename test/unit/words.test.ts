/*
 * Words users read cite what they can open: a Salesforce Help or developer guide page (title or URL), never an
 * internal source document ("seed 001") or a path in this repository. Covers every message file and the
 * generated files that ship in the package (schemas/, spec-schema/) plus the README.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../helpers/sf.js';

const shipped = async (): Promise<Array<{ file: string; text: string }>> => {
  const files: string[] = ['README.md'];
  for (const dir of ['messages', 'schemas', 'spec-schema']) {
    // eslint-disable-next-line no-await-in-loop
    files.push(...(await readdir(join(PROJECT_ROOT, dir))).map((f) => `${dir}/${f}`));
  }
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(PROJECT_ROOT, file), 'utf8') })));
};

/** `# key` sections of a messages file. */
const sections = (text: string): Array<{ key: string; body: string }> =>
  text
    .split(/^# /m)
    .slice(1)
    .map((chunk) => {
      const [key, ...rest] = chunk.split('\n');
      return { key: key.trim(), body: rest.join('\n').trim() };
    });

/** A citation a user can open: a named Salesforce Help / developer guide page, OWASP's list, or a URL. */
const CITATION = /Salesforce Help: "|Salesforce DX Developer Guide: "|OWASP Top 10 Non-Human Identities|https:\/\//;

describe('words users read', () => {
  it('never name an internal source document ("seed") in messages, schemas or the README', async () => {
    const hits = (await shipped()).flatMap(({ file, text }) =>
      text.split('\n').flatMap((line, i) => (/\bseeds?\b/i.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []))
    );
    expect(hits, hits.join('\n')).to.deep.equal([]);
  });

  it('never point at a path in this repository', async () => {
    const repoPath = /(?:^|[\s(`'"])(?:src|test|lib|scripts|bench|shared)\/[\w./-]+|\.ts\b/;
    const hits = (await shipped())
      .filter(({ file }) => file.startsWith('messages/'))
      .flatMap(({ file, text }) => text.split('\n').flatMap((line, i) => (repoPath.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])));
    expect(hits, hits.join('\n')).to.deep.equal([]);
  });

  it('every fix in the checks and the error catalogue cites a page the user can open', async () => {
    const missing: string[] = [];
    for (const file of ['checks.md', 'errors.md']) {
      // eslint-disable-next-line no-await-in-loop
      const text = await readFile(join(PROJECT_ROOT, 'messages', file), 'utf8');
      for (const { key, body } of sections(text)) {
        const isFix = file === 'errors.md' ? key.startsWith('fix.') : /\.fix(\.|$)/.test(key);
        // A fix made only of placeholders is filled from the error catalogue, whose fixes cite their pages.
        const onlyPlaceholders = body.replace(/%s/g, '').replace(/[^A-Za-z]/g, '').length < 20;
        if (isFix && !onlyPlaceholders && !CITATION.test(body)) missing.push(`${file} # ${key}: ${body}`);
      }
    }
    expect(missing, missing.join('\n')).to.deep.equal([]);
  });
});
