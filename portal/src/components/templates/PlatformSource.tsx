import { Text } from '@mantine/core';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';

/** Where the golden patterns come from and when they were last synced; rejected files are flagged. */
export function PlatformSource() {
  const api = useApi();
  const status = useAsync((signal) => api.platformStatus(signal), [api]);
  if (status.status !== 'ok') return null;
  const s = status.data;
  const last = s.lastSync;
  return (
    <Text size="xs" c="dimmed" data-testid="platform-source">
      Published from <Text span ff="monospace" inherit>{s.source}</Text>
      {last?.finishedAt ? `; last synced ${new Date(last.finishedAt).toLocaleString()}${last.revision ? ` at ${last.revision.slice(0, 12)}` : ''}` : '; not synced yet'}.
      {last && last.errors.length > 0 && (
        <Text span c="orange.8" fw={600} inherit>
          {' '}
          {last.errors.length} file{last.errors.length === 1 ? ' was' : 's were'} rejected; ask your platform team.
        </Text>
      )}
    </Text>
  );
}
