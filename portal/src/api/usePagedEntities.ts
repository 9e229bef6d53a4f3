import { useCallback, useEffect, useRef, useState } from 'react';
import type { Entity, EntityListParams } from './client.ts';
import { useApi } from './session.tsx';

export interface PagedEntities {
  items: Entity[];
  status: 'loading' | 'ok' | 'error';
  /** Why the first page failed (status 'error') or the last "load more" failed. */
  error: unknown;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore(): void;
  reload(): void;
}

/** A catalog list that grows page by page ("Load more"); a new query starts again from the first page. */
export function usePagedEntities(query: EntityListParams): PagedEntities {
  const api = useApi();
  const key = JSON.stringify(query);
  const [items, setItems] = useState<Entity[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<PagedEntities['status']>('loading');
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const more = useRef<AbortController | null>(null);

  useEffect(() => {
    const ctl = new AbortController();
    more.current?.abort();
    setStatus('loading');
    setError(null);
    setLoadingMore(false);
    api.listEntities(JSON.parse(key) as EntityListParams, ctl.signal).then(
      (page) => {
        if (ctl.signal.aborted) return;
        setItems(page.items);
        setCursor(page.nextCursor);
        setStatus('ok');
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setItems([]);
        setCursor(null);
        setError(err);
        setStatus('error');
      },
    );
    return () => {
      ctl.abort();
      more.current?.abort();
    };
  }, [api, key, attempt]);

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return;
    const ctl = new AbortController();
    more.current = ctl;
    setLoadingMore(true);
    setError(null);
    api.listEntities({ ...(JSON.parse(key) as EntityListParams), cursor }, ctl.signal).then(
      (page) => {
        if (ctl.signal.aborted) return;
        setItems((prev) => [...prev, ...page.items]);
        setCursor(page.nextCursor);
        setLoadingMore(false);
      },
      (err: unknown) => {
        if (ctl.signal.aborted) return;
        setError(err);
        setLoadingMore(false);
      },
    );
  }, [api, key, cursor, loadingMore]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);

  return { items, status, error, hasMore: cursor !== null, loadingMore, loadMore, reload };
}
