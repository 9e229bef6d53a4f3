import { Badge, Grid, Group, Stack, Text } from '@mantine/core';
import { useEffect } from 'react';
import { useLocation, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { useApi } from '../api/session.tsx';
import { useAsync } from '../api/useAsync.ts';
import { Loading } from '../components/Loading.tsx';
import { PageHeader } from '../components/PageHeader.tsx';
import { ProblemAlert } from '../components/ProblemAlert.tsx';
import { Section } from '../components/Section.tsx';
import { TagList } from '../components/TagList.tsx';
import { Markdown } from '../components/markdown/Markdown.tsx';
import { CreateApplicationForm } from '../components/templates/CreateApplicationForm.tsx';
import { TemplateFacts } from '../components/templates/TemplateFacts.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';

/** A template: its README, facts, and the form that creates an application from it (#create). */
export function TemplatePage() {
  const { name = '' } = useParams();
  const api = useApi();
  const { hash } = useLocation();
  const template = useAsync((signal) => api.templates.get(name, signal), [api, name]);

  // "Create application" in the gallery links to #create: go there once the form is on the page.
  useEffect(() => {
    if (template.status !== 'ok' || hash !== '#create') return;
    const el = document.getElementById('create');
    el?.scrollIntoView({ block: 'start' });
    el?.querySelector<HTMLElement>('input:not([readonly])')?.focus({ preventScroll: true });
  }, [template.status, hash]);

  if (template.status === 'loading') return <Loading label={`Loading template ${name}`} />;
  if (template.status === 'error') {
    if (template.error instanceof ApiError && template.error.status === 404) return <NotFoundPage what={`There is no template "${name}". It may not be published yet, or it was retired.`} />;
    return <ProblemAlert error={template.error} title="The template could not be loaded" onRetry={template.reload} />;
  }
  const t = template.data;
  return (
    <>
      <PageHeader
        title={t.title ?? t.name}
        crumbs={[{ label: 'Templates', to: '/templates' }]}
        badge={
          <Badge variant="light" radius="sm" tt="none" size="lg">
            {t.name} {t.version}
          </Badge>
        }
        description={t.description}
      />
      <Stack gap="lg">
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, lg: 7 }}>
            <Section title="README">
              {t.readme ? (
                <Markdown source={t.readme} aria-label={`README of ${t.name}`} />
              ) : (
                <Text size="sm" c="dimmed">
                  This template has no README.
                </Text>
              )}
            </Section>
          </Grid.Col>
          <Grid.Col span={{ base: 12, lg: 5 }}>
            <Section title="About this template">
              <TemplateFacts template={t} />
              <Group mt="md">
                <TagList tags={t.tags} empty="No tags" />
              </Group>
            </Section>
          </Grid.Col>
        </Grid>
        <div id="create" style={{ scrollMarginTop: 76 }}>
          <Section title="Create an application">
            <CreateApplicationForm key={`${t.name}@${t.version}`} template={t} />
          </Section>
        </div>
      </Stack>
    </>
  );
}
