import { Anchor, List, Text, VisuallyHidden } from '@mantine/core';
import type { Entity } from '../api/client.ts';
import { isWebUrl } from '../api/spec.ts';

/** External links: a new tab, without giving the target page a handle on this one. */
export function EntityLinks({ links }: { links: Entity['links'] }) {
  if (links.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No links.
      </Text>
    );
  }
  return (
    <List spacing={6} size="sm" listStyleType="none" ml={0} pl={0}>
      {links.map((l) => (
        <List.Item key={l.url + (l.title ?? '')}>
          {isWebUrl(l.url) ? (
            <Anchor href={l.url} target="_blank" rel="noopener noreferrer nofollow" referrerPolicy="no-referrer" size="sm">
              {l.title ?? l.url} ↗<VisuallyHidden> (opens in a new tab)</VisuallyHidden>
            </Anchor>
          ) : (
            <Text span size="sm" title="not a web link, so not opened">
              {l.title ? `${l.title}: ` : ''}
              {l.url}
            </Text>
          )}
          {l.type && (
            <Text span size="xs" c="dimmed" ml={6}>
              {l.type}
            </Text>
          )}
        </List.Item>
      ))}
    </List>
  );
}
