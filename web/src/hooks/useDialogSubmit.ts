import { useState } from 'react';
import { errorText } from '../errors';

/** A dialog's one request at a time: `busy` while it runs, then `onDone` with its answer, or
 * `error` described by `describe` (the error's text by default). */
export function useDialogSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = <T,>(
    request: () => Promise<T>,
    onDone: (result: T) => void,
    describe: (failure: unknown) => string = errorText,
  ) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    request().then(
      (result) => {
        setBusy(false);
        onDone(result);
      },
      (failure: unknown) => {
        setBusy(false);
        setError(describe(failure));
      },
    );
  };

  return { busy, error, submit };
}
