import { useSyncExternalStore } from 'react';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('focus', onChange);
  window.addEventListener('blur', onChange);
  document.addEventListener('visibilitychange', onChange);
  return () => {
    window.removeEventListener('focus', onChange);
    window.removeEventListener('blur', onChange);
    document.removeEventListener('visibilitychange', onChange);
  };
}

const attending = () => document.visibilityState === 'visible' && document.hasFocus();

/** Whether the user is looking at this tab: it is visible and has the focus. */
export function usePageAttention(): boolean {
  return useSyncExternalStore(subscribe, attending);
}
