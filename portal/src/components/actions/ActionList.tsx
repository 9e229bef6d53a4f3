import { Badge, Button, Group, Paper, Stack, Text, Tooltip } from '@mantine/core';
import { KIND_COLORS, KIND_HINTS, needsConfirmation, notAllowedReason, runLabel } from '../../api/actionParams.ts';
import type { ActionView } from '../../api/actions.ts';

interface Props {
  actions: ActionView[];
  environment: { name: string; type: string };
  /** A run is being followed: other runs wait until it ended. */
  busy: boolean;
  onRun(action: ActionView): void;
  /** Whether the caller holds action.run here (default true); the server checks every run anyway. */
  mayRun?: boolean | undefined;
}

/**
 * What the application offers (its template's actions, then its add-ons'), for the chosen environment:
 * title, description, where it comes from and what kind it is; those that may not run there are shown
 * disabled, with where they may.
 */
export function ActionList({ actions, environment, busy, onRun, mayRun = true }: Props) {
  if (actions.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        This application offers no actions: its template and add-ons declare none.
      </Text>
    );
  }
  return (
    <Stack gap="xs" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label={`Actions in ${environment.name}`} data-testid="actions-list">
      {actions.map((a) => {
        const reason = notAllowedReason(a) ?? (mayRun ? null : `you may not run actions in ${environment.type} environments of this application`);
        const confirm = needsConfirmation(a, environment.type);
        const titleId = `action-${a.key.replace(/[^a-z0-9-]/g, '-')}-title`;
        return (
          <Paper
            key={a.key}
            component="li"
            withBorder
            radius="md"
            px="md"
            py="sm"
            aria-labelledby={titleId}
            data-testid={`action-${a.key}`}
            data-allowed={reason ? 'false' : 'true'}
            bg={reason ? 'gray.0' : undefined}
          >
            <Group justify="space-between" wrap="nowrap" align="flex-start">
              <Stack gap={2} style={{ minWidth: 0 }}>
                <Group gap="xs" wrap="wrap">
                  <Text fw={600} size="sm" id={titleId} c={reason ? 'dimmed' : undefined}>
                    {a.title}
                  </Text>
                  <Text span ff="monospace" size="xs" c="dimmed">
                    {a.key}
                  </Text>
                  <Tooltip label={KIND_HINTS[a.kind]} withArrow>
                    <Badge size="xs" radius="sm" tt="none" variant="light" color={KIND_COLORS[a.kind]} data-testid="action-kind">
                      {a.kind}
                    </Badge>
                  </Tooltip>
                  {a.role === 'admin' && (
                    <Badge size="xs" radius="sm" tt="none" variant="outline" color="red">
                      admins only
                    </Badge>
                  )}
                  {confirm && !reason && (
                    <Badge size="xs" radius="sm" tt="none" variant="outline" color="orange">
                      asks to confirm
                    </Badge>
                  )}
                </Group>
                {a.description && (
                  <Text size="sm" c={reason ? 'dimmed' : undefined}>
                    {a.description}
                  </Text>
                )}
                <Text size="xs" c="dimmed" data-testid="action-source">
                  From {a.source}
                  {reason && (
                    <>
                      {' · '}
                      <Text span size="xs" fw={600} c="orange.8" id={`${titleId}-reason`} data-testid="action-not-allowed">
                        {reason}
                      </Text>
                    </>
                  )}
                </Text>
              </Stack>
              <Button
                size="xs"
                variant={reason ? 'default' : 'light'}
                disabled={reason !== null || busy}
                onClick={() => onRun(a)}
                aria-label={runLabel(a.title)}
                aria-describedby={reason ? `${titleId}-reason` : undefined}
                title={reason ? `${reason}; ${environment.name} is a ${environment.type} environment` : undefined}
                data-testid={`run-${a.key}`}
                style={{ flexShrink: 0 }}
              >
                Run…
              </Button>
            </Group>
          </Paper>
        );
      })}
    </Stack>
  );
}
