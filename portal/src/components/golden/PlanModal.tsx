import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useApi } from '../../api/session.tsx';
import { useAsync } from '../../api/useAsync.ts';
import { Loading } from '../Loading.tsx';
import { ProblemAlert } from '../ProblemAlert.tsx';
import { PlanDiff } from './PlanDiff.tsx';

interface Props {
  namespace: string;
  application: string;
  environment: string;
  onClose(): void;
  onApply(environment: string): void;
}

/** Plans the environment and shows what would change; "Apply" starts the apply (progress shows on the page). */
export function PlanModal({ namespace, application, environment, onClose, onApply }: Props) {
  const api = useApi();
  const plan = useAsync((signal) => api.golden(namespace, application).plan(environment, signal), [api, namespace, application, environment]);
  const changes = plan.status === 'ok' ? plan.data.items.filter((i) => i.action !== 'noop').length : 0;
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Plan for {environment}</Text>} size="xl">
      <Stack gap="md">
        {plan.status === 'loading' && <Loading label="Planning" />}
        {plan.status === 'error' && <ProblemAlert error={plan.error} title="The plan could not be made" onRetry={plan.reload} />}
        {plan.status === 'ok' && <PlanDiff plan={plan.data} />}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose}>
            {changes === 0 ? 'Close' : 'Cancel'}
          </Button>
          <Button
            onClick={() => {
              onApply(environment);
              onClose();
            }}
            disabled={plan.status !== 'ok'}
            variant={changes === 0 ? 'light' : 'filled'}
          >
            {changes === 0 ? 'Apply anyway' : `Apply ${changes} change${changes === 1 ? '' : 's'}`}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
