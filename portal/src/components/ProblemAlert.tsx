import { Alert, Button, List, Text } from '@mantine/core';
import { ApiError, errorMessage } from '../api/client.ts';

/** An error from the API, with the problem+json title, detail and field errors when the server sent them. */
export function ProblemAlert({ error, title, onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  const problem = error instanceof ApiError ? error.problem : null;
  return (
    <Alert color="red" variant="light" title={title ?? problem?.title ?? 'Something went wrong'} role="alert">
      <Text size="sm">{errorMessage(error)}</Text>
      {problem?.errors && problem.errors.length > 0 && (
        <List size="sm" mt="xs">
          {problem.errors.map((e) => (
            <List.Item key={`${e.path}:${e.message}`}>
              <Text span ff="monospace" size="sm">
                {e.path}
              </Text>
              : {e.message}
            </List.Item>
          ))}
        </List>
      )}
      {onRetry && (
        <Button variant="light" color="red" size="xs" mt="sm" onClick={onRetry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}
