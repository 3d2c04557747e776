import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { configJsonSchema, renderConfigTable, TABLE_BEGIN, TABLE_END } from './docs.ts';

const root = new URL('../../', import.meta.url);
const read = (rel: string) => readFileSync(new URL(rel, root), 'utf8');

describe('generated docs do not drift from the schema', () => {
  it('docs/config.schema.json matches the schema', () => {
    const committed: unknown = JSON.parse(read('docs/config.schema.json'));
    expect(
      committed,
      'docs/config.schema.json is out of date. Regenerate it with:\n' +
        '  npm run build && node bin/fetchml.js config schema > docs/config.schema.json && npx prettier --write docs/config.schema.json',
    ).toEqual(configJsonSchema());
  });

  it('the reference table in docs/configuration.md matches the schema', () => {
    const doc = read('docs/configuration.md');
    const start = doc.indexOf(TABLE_BEGIN);
    const end = doc.indexOf(TABLE_END);
    expect(start, `docs/configuration.md lacks the marker ${TABLE_BEGIN}`).toBeGreaterThan(-1);
    expect(
      doc.slice(start, end + TABLE_END.length),
      'The table in docs/configuration.md is out of date. Replace the block between the markers with the output of:\n' +
        '  npm run build && node bin/fetchml.js config schema --markdown',
    ).toBe(renderConfigTable());
  });

  it('the JSON Schema is strict and documents defaults', () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: { server: { properties: { port: { default: number; description: string } } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.server.properties.port.default).toBe(9101);
    expect(schema.properties.server.properties.port.description).toMatch(/9101/);
  });
});
