/**
 * The portal's pure logic, without a browser: the README Markdown parser and the typed-input helpers
 * that the create-application form is built on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputField } from '../../portal/src/api/client.ts';
import { checkField, defaultValues, problemFieldErrors, toInputs } from '../../portal/src/api/inputs.ts';
import { parseInline, parseMarkdown } from '../../portal/src/components/markdown/parseMarkdown.ts';

const field = (f: Partial<InputField> & { name: string; type: string }): InputField => ({ title: f.name, required: false, editable: true, ...f });

describe('README markdown', () => {
  it('parses headings, lists, code, tables and links', () => {
    const blocks = parseMarkdown('# Title\n\nText with `code` and [a link](https://pave.dev).\n\n- one\n- two\n  - nested\n\n```sh\nnpm test\n```\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n');
    assert.deepEqual(
      blocks.map((b) => b.t),
      ['heading', 'paragraph', 'list', 'code', 'table'],
    );
    const list = blocks[2];
    assert.ok(list?.t === 'list' && list.items.length === 2 && list.items[1]?.[1]?.t === 'list', 'the nested list sits in the second item');
    const table = blocks[4];
    assert.ok(table?.t === 'table' && table.align[1] === 'right' && table.rows.length === 1);
    assert.deepEqual(parseInline('[a](https://x.dev)'), [{ t: 'link', href: 'https://x.dev', children: [{ t: 'text', text: 'a' }] }]);
  });

  it('keeps HTML as text and snake_case as it is', () => {
    assert.deepEqual(parseInline('<script>alert(1)</script> snake_case_name'), [{ t: 'text', text: '<script>alert(1)</script> snake_case_name' }]);
    assert.deepEqual(parseInline('**bold** and *em*').map((n) => n.t), ['strong', 'text', 'em']);
  });
});

describe('typed inputs', () => {
  const port = field({ name: 'port', type: 'integer', minimum: 1024, maximum: 65535, default: 8080 });
  const size = field({ name: 'size', type: 'string', enum: ['small', 'medium', 'large'], default: 'small' });
  const path = field({ name: 'healthPath', type: 'string', pattern: '^/', default: '/healthz' });
  const node = field({ name: 'nodeVersion', type: 'string', enum: ['22', '24'], default: '24', editable: false });
  const on = field({ name: 'debug', type: 'boolean' });

  it('prefills defaults and checks values as the schema would', () => {
    assert.deepEqual(defaultValues([port, size, path, node, on]), { port: 8080, size: 'small', healthPath: '/healthz', nodeVersion: '24', debug: false });
    assert.equal(checkField(port, 80), 'must be at least 1024');
    assert.equal(checkField(port, 8080.5), 'must be a whole number');
    assert.equal(checkField(port, 8080), null);
    assert.equal(checkField(size, 'huge'), 'must be one of small, medium, large');
    assert.equal(checkField(path, 'healthz'), 'must match ^/');
    assert.equal(checkField(field({ name: 'x', type: 'string', required: true }), ''), 'is required');
  });

  it('sends only what a developer may set', () => {
    assert.deepEqual(toInputs([port, size, node, field({ name: 'empty', type: 'string' })], { port: 9000, size: 'medium', nodeVersion: '24', empty: '' }), { port: 9000, size: 'medium' });
  });

  it('maps the server\'s field errors onto form paths', () => {
    const problem = {
      type: 'https://pave.dev/problems/validation', title: 'Invalid request', status: 400,
      errors: [{ path: 'body.inputs.port', message: 'must be >= 1024' }, { path: 'body.addons[0].inputs.size', message: 'bad' }, { path: 'body.template', message: 'unknown' }],
    };
    const out = problemFieldErrors(problem, (p) => p.startsWith('inputs.') || p.startsWith('addons.'), (p) => p.replace('addons[0]', 'addons.postgres'));
    assert.deepEqual(out.fields, { 'inputs.port': 'must be >= 1024', 'addons.postgres.inputs.size': 'bad' });
    assert.deepEqual(out.other, ['body.template: unknown']);
  });
});
