import { Anchor, Code, Table, Text, Typography, VisuallyHidden } from '@mantine/core';
import { createElement, useMemo, type ReactNode } from 'react';
import { isWebUrl } from '../../api/spec.ts';
import { parseMarkdown, type Block, type Inline } from './parseMarkdown.ts';

interface Props {
  source: string;
  /** The level the document's top headings get, so they sit under the page's own (default 3). */
  topLevel?: number;
  'aria-label'?: string;
}

function inlines(nodes: Inline[]): ReactNode[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case 'text':
        return n.text;
      case 'code':
        return <Code key={i}>{n.text}</Code>;
      case 'strong':
        return <strong key={i}>{inlines(n.children)}</strong>;
      case 'em':
        return <em key={i}>{inlines(n.children)}</em>;
      case 'link':
        // Only web and mail links become links; anything else (javascript:, data:, relative) stays text.
        return isWebUrl(n.href) ? (
          <Anchor key={i} href={n.href} target="_blank" rel="noopener noreferrer nofollow" referrerPolicy="no-referrer">
            {inlines(n.children)}
            <VisuallyHidden> (opens in a new tab)</VisuallyHidden>
          </Anchor>
        ) : (
          <span key={i}>{inlines(n.children)}</span>
        );
    }
  });
}

/** `tight`: a list item's first paragraph is its text, without paragraph spacing. */
function blocks(nodes: Block[], shift: number, tight = false): ReactNode[] {
  return nodes.map((b, i) => {
    switch (b.t) {
      case 'heading':
        return createElement(`h${Math.min(6, b.level + shift)}`, { key: i }, inlines(b.children));
      case 'paragraph':
        return tight && i === 0 ? <span key={i}>{inlines(b.children)}</span> : <p key={i}>{inlines(b.children)}</p>;
      case 'code':
        return (
          <pre key={i} data-lang={b.lang ?? undefined}>
            <code>{b.text}</code>
          </pre>
        );
      case 'list': {
        const items = b.items.map((item, j) => <li key={j}>{blocks(item, shift, true)}</li>);
        return b.ordered ? (
          <ol key={i} start={b.start === 1 ? undefined : b.start}>
            {items}
          </ol>
        ) : (
          <ul key={i}>{items}</ul>
        );
      }
      case 'quote':
        return <blockquote key={i}>{blocks(b.children, shift)}</blockquote>;
      case 'rule':
        return <hr key={i} />;
      case 'table':
        return (
          <Table.ScrollContainer key={i} minWidth={400} mb="md">
            <Table withTableBorder withColumnBorders verticalSpacing={6} fz="sm">
              <Table.Thead>
                <Table.Tr>
                  {b.head.map((cell, c) => (
                    <Table.Th key={c} scope="col" style={{ textAlign: b.align[c] ?? undefined }}>
                      {inlines(cell)}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {b.rows.map((row, r) => (
                  <Table.Tr key={r}>
                    {row.map((cell, c) => (
                      <Table.Td key={c} style={{ textAlign: b.align[c] ?? undefined }}>
                        {inlines(cell)}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        );
    }
  });
}

/** Markdown rendered as React elements (never as HTML), with headings shifted under the page's. */
export function Markdown({ source, topLevel = 3, ...rest }: Props) {
  const tree = useMemo(() => parseMarkdown(source), [source]);
  if (tree.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        Nothing written yet.
      </Text>
    );
  }
  const top = Math.min(...tree.map((b) => (b.t === 'heading' ? b.level : 6)));
  const shift = Math.max(0, topLevel - top);
  return (
    <Typography className="pave-markdown" {...rest}>
      {blocks(tree, shift)}
    </Typography>
  );
}
