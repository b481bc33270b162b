/*
 * The suite runs on the Node users run (22 or 24), the project's own: node_modules/.bin/node, which npm scripts
 * put first on PATH, so a machine whose system Node is older still tests the plugin on a supported one. CI runs
 * the suite once per supported major and says which in EXPECT_NODE_MAJOR.
 */
import { realpath, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../helpers/sf.js';

const major = Number(process.versions.node.split('.')[0]);

describe('the platform these tests run on', () => {
  it("is the project's own Node (node_modules/.bin/node), of a supported major", async () => {
    expect(await realpath(process.execPath)).to.equal(await realpath(join(PROJECT_ROOT, 'node_modules', '.bin', 'node')));
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const minimum = Number(/>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(minimum).to.equal(22);
    expect(major).to.be.at.least(minimum);
    if (process.env.EXPECT_NODE_MAJOR) expect(major).to.equal(Number(process.env.EXPECT_NODE_MAJOR));
  });

  it("ships no overrides: an installed plugin gets its dependencies' own ranges, so the tests must too", async () => {
    const pkg = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).to.not.have.property('overrides');
  });
});
