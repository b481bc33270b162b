/*
 * Writes the spec file's JSON Schema to spec-schema/integration-spec.schema.json from src/desired/file.ts.
 * Run: node --loader ts-node/esm scripts/spec-schema.ts   (test/unit/spec.test.ts checks the file is current)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { specFileSchemaText } from '../src/desired/file.js';

const SPEC_SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'spec-schema', 'integration-spec.schema.json');

await mkdir(dirname(SPEC_SCHEMA_PATH), { recursive: true });
await writeFile(SPEC_SCHEMA_PATH, specFileSchemaText());
process.stdout.write(`wrote ${SPEC_SCHEMA_PATH}\n`);
