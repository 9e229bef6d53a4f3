import { Alert, List } from '@mantine/core';
import type { FieldErrors } from '../api/inputs.ts';

/**
 * The summary above a form whose fields the server (or the form's own checks) refused: how many fields
 * need attention, and each one's label and message. Each field also shows its own error.
 */
export function FieldErrorSummary({ errors, labelOf }: { errors: FieldErrors; labelOf: (path: string) => string }) {
  const entries = Object.entries(errors);
  if (entries.length === 0) return null;
  return (
    <Alert color="red" variant="light" role="alert" title={`${entries.length === 1 ? 'One field needs' : `${entries.length} fields need`} your attention`}>
      <List size="sm">
        {entries.map(([path, message]) => (
          <List.Item key={path}>
            {labelOf(path)} {message}
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}
