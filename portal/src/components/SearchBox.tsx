import { CloseButton, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';

/**
 * Free-text search kept in the URL's `q` (so a search is a deep link). Typing updates the URL once the
 * user pauses; the URL changing otherwise (back button, a link) updates the box.
 */
export function SearchBox({ label, placeholder }: { label: string; placeholder: string }) {
  const [params, setParams] = useSearchParams();
  const urlQ = params.get('q') ?? '';
  const [text, setText] = useState(urlQ);
  const [debounced] = useDebouncedValue(text, 300);
  const pushed = useRef(urlQ);

  useEffect(() => {
    const q = debounced.trim();
    if (q === pushed.current) return;
    pushed.current = q;
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        if (q) n.set('q', q);
        else n.delete('q');
        return n;
      },
      { replace: true },
    );
  }, [debounced, setParams]);

  useEffect(() => {
    if (urlQ === pushed.current) return;
    pushed.current = urlQ;
    setText(urlQ);
  }, [urlQ]);

  return (
    <TextInput
      type="search"
      label={label}
      placeholder={placeholder}
      value={text}
      onChange={(e) => setText(e.currentTarget.value)}
      rightSection={text ? <CloseButton size="sm" aria-label="Clear search" onClick={() => setText('')} /> : null}
      style={{ flex: '1 1 280px' }}
    />
  );
}
