import { Observable } from 'rxjs';
import type { FeedEvent } from '../domain/types.js';
import { type ConnectionOptions, FeedConnection } from './core/connection.js';

/**
 * A venue feed as an Observable: subscribing connects (and keeps reconnecting),
 * unsubscribing closes the socket and every timer.
 */
export function feed$(
  opts: Omit<ConnectionOptions, 'onEvent'>,
  onConnection?: (c: FeedConnection) => void,
): Observable<FeedEvent> {
  return new Observable<FeedEvent>((subscriber) => {
    const connection = new FeedConnection({ ...opts, onEvent: (ev) => subscriber.next(ev) });
    onConnection?.(connection);
    connection.start();
    return () => {
      void connection.close();
    };
  });
}
