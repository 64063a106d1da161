import { renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { unreadTitle, useDocumentTitle } from './useDocumentTitle';

describe('unreadTitle', () => {
  it('is the contract’s `(N) Parley`, and `Parley` with nothing unread', () => {
    expect(unreadTitle(3)).toBe('(3) Parley');
    expect(unreadTitle(103)).toBe('(103) Parley');
    expect(unreadTitle(0)).toBe('Parley');
  });
});

describe('useDocumentTitle', () => {
  it('sets the title while mounted and puts the previous one back', () => {
    document.title = 'before';
    const { rerender, unmount } = renderHook(({ unread }) => useDocumentTitle(unreadTitle(unread)), {
      initialProps: { unread: 2 },
    });
    expect(document.title).toBe('(2) Parley');
    rerender({ unread: 0 });
    expect(document.title).toBe('Parley');
    unmount();
    expect(document.title).toBe('before');
  });
});
