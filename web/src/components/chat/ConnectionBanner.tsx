import type { ConnectionStatus } from '../../hooks/useConnectionStatus';

/** Always in the document, so screen readers announce the text when it appears. */
export function ConnectionBanner({ status }: { status: ConnectionStatus }) {
  return (
    <div className="banner" role="status" data-testid="connection-banner">
      {status === 'reconnecting' ? 'Reconnecting…' : ''}
    </div>
  );
}
