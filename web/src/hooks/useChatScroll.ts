import { useCallback, useLayoutEffect, useRef, type RefObject } from 'react';

/** Within this many pixels of the bottom counts as "at the bottom". */
const NEAR_BOTTOM_PX = 80;
/** Within this many pixels of the top, older history is requested. */
const NEAR_TOP_PX = 48;
/** Room left above the anchor when the list opens on it. */
const ANCHOR_MARGIN_PX = 24;

export interface ChatScrollOptions {
  /** Keys of the first and last rendered message: what changed tells prepend from append. */
  firstKey: string | undefined;
  lastKey: string | undefined;
  count: number;
  /** Scroll down for a new last message even when the user had scrolled up (their own send). */
  forceToBottom: boolean;
  onReachTop: () => void;
  /** Told whenever the reader reaches the bottom (the newest message is on screen) or leaves it. */
  onAtBottom?: (atBottom: boolean) => void;
  /**
   * A key (the first unread message's) whose element marked `data-scroll-anchor` the list opens
   * on instead of the bottom, once per key, when the bottom would leave it above view.
   */
  anchor?: string | null;
}

export interface ChatScroll {
  ref: RefObject<HTMLDivElement | null>;
  onScroll: () => void;
}

/**
 * Keeps a message list scrolled sensibly: new messages scroll it down only if the reader was
 * already near the bottom; older messages loaded above keep what the reader sees in place.
 */
export function useChatScroll({ firstKey, lastKey, count, forceToBottom, onReachTop, onAtBottom, anchor = null }: ChatScrollOptions): ChatScroll {
  const ref = useRef<HTMLDivElement | null>(null);
  const nearBottom = useRef(true);
  const fromBottom = useRef(0);
  const previous = useRef({ firstKey, lastKey, count });
  const anchoredTo = useRef<string | null>(null);

  const reported = useRef<boolean | null>(null);
  const latestOnAtBottom = useRef(onAtBottom);
  useLayoutEffect(() => {
    latestOnAtBottom.current = onAtBottom;
  });

  const measure = useCallback((element: HTMLDivElement) => {
    fromBottom.current = element.scrollHeight - element.scrollTop;
    nearBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight <= NEAR_BOTTOM_PX;
    if (reported.current !== nearBottom.current) {
      reported.current = nearBottom.current;
      latestOnAtBottom.current?.(nearBottom.current);
    }
  }, []);

  const onScroll = useCallback(() => {
    const element = ref.current;
    if (!element) return;
    measure(element);
    if (element.scrollTop <= NEAR_TOP_PX && element.scrollHeight > element.clientHeight) onReachTop();
  }, [onReachTop, measure]);

  useLayoutEffect(() => {
    const element = ref.current;
    const before = previous.current;
    previous.current = { firstKey, lastKey, count };
    if (!element) return;
    // Pending messages stay last, so a message arriving above them changes only the count.
    const appended = lastKey !== before.lastKey || (count > before.count && firstKey === before.firstKey);
    const prepended = !appended && firstKey !== before.firstKey && before.firstKey !== undefined;
    if (prepended) {
      element.scrollTop = element.scrollHeight - fromBottom.current;
    } else if (appended && (nearBottom.current || forceToBottom)) {
      element.scrollTop = element.scrollHeight;
    }
    if (anchor !== null && anchor !== anchoredTo.current) {
      anchoredTo.current = anchor;
      const target = element.querySelector<HTMLElement>('[data-scroll-anchor]');
      const above = target ? target.getBoundingClientRect().top - element.getBoundingClientRect().top : 0;
      if (above < 0) element.scrollTop += above - ANCHOR_MARGIN_PX;
    }
    // Measured here, not left to the scroll event: the reader is not at the bottom before any
    // read marker could be sent for it.
    measure(element);
  }, [firstKey, lastKey, count, forceToBottom, measure, anchor]);

  return { ref, onScroll };
}
