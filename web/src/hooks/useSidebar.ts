import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * The sidebar as a drawer on narrow screens: opening moves focus into it; Escape, the backdrop
 * or the close button shut it and return focus to the toggle; navigating closes it.
 */
export function useSidebar(closeWhenChanges: unknown) {
  const [open, setOpen] = useState(false);
  const [shownFor, setShownFor] = useState(closeWhenChanges);
  if (!Object.is(shownFor, closeWhenChanges)) {
    setShownFor(closeWhenChanges);
    setOpen(false);
  }
  const panelRef = useRef<HTMLElement | null>(null);
  const toggleRef = useRef<HTMLButtonElement | null>(null);

  const close = useCallback(() => {
    setOpen(false);
    toggleRef.current?.focus();
  }, []);

  useEffect(() => {
    if (!open) return;
    const panel = panelRef.current;
    (panel?.querySelector<HTMLElement>('a[aria-current="page"]') ?? panel?.querySelector<HTMLElement>('a, input'))?.focus();
    const onKeyDown = (event: KeyboardEvent) => {
      // A dialog over the drawer handles its own Escape.
      if (event.key === 'Escape' && !event.defaultPrevented) close();
    };
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [open, close]);

  const toggle = useCallback(() => setOpen((value) => !value), []);
  return { open, toggle, close, panelRef, toggleRef };
}
