import { Button, Group, Modal, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { BuildSource } from '../../api/deployments.ts';

/** Asks where to build from: a folder on the server's machine, or a git repository and ref. The build log streams on the page. */
export function BuildModal({ application, onClose, onBuild }: { application: string; onClose(): void; onBuild(source: BuildSource): void }) {
  const [kind, setKind] = useState<'path' | 'git'>('path');
  const [folder, setFolder] = useState('');
  const [url, setUrl] = useState('');
  const [ref, setRef] = useState('main');
  const [errors, setErrors] = useState<Record<string, string>>({});

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (kind === 'path' && !folder.trim()) found.path = 'give the folder to build, e.g. /srv/src/my-app';
    if (kind === 'git' && !url.trim()) found.url = 'give the repository to clone, e.g. https://github.com/acme/my-app.git';
    if (kind === 'git' && !ref.trim()) found.ref = 'give a branch, tag or commit';
    setErrors(found);
    if (Object.keys(found).length) return;
    onBuild(kind === 'path' ? { path: folder.trim() } : { git: { url: url.trim(), ref: ref.trim() } });
  }

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Build {application}</Text>}>
      <form onSubmit={submit} noValidate aria-label="Build the application">
        <Stack gap="md">
          <SegmentedControl
            aria-label="Source"
            value={kind}
            onChange={(v) => setKind(v as 'path' | 'git')}
            data={[
              { value: 'path', label: 'Folder on the server' },
              { value: 'git', label: 'Git repository' },
            ]}
          />
          {kind === 'path' ? (
            <TextInput
              label="Folder"
              description="A source folder on the Pave server's machine. Node.js is detected from package.json; a Procfile names the process types."
              placeholder="/srv/src/my-app"
              value={folder}
              onChange={(e) => setFolder(e.currentTarget.value)}
              error={errors.path}
              data-autofocus
              spellCheck={false}
              autoComplete="off"
              data-testid="build-path"
            />
          ) : (
            <>
              <TextInput
                label="Repository URL"
                placeholder="https://github.com/acme/my-app.git"
                value={url}
                onChange={(e) => setUrl(e.currentTarget.value)}
                error={errors.url}
                data-autofocus
                spellCheck={false}
                autoComplete="off"
              />
              <TextInput label="Ref" description="A branch, tag or commit." value={ref} onChange={(e) => setRef(e.currentTarget.value)} error={errors.ref} spellCheck={false} autoComplete="off" />
            </>
          )}
          <Text size="xs" c="dimmed">
            The same source built twice reuses the artifact of the first build.
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit">Start build</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
