/**
 * React and the app frame with the traffic view: loaded by main.tsx while the list's first rows
 * and the UI text are already on their way.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from '../App';
import type { Connection } from '../api/connect';
import type { TrafficFeed } from '../traffic/traffic-feed';

export function mount(element: HTMLElement, connection: Connection, feed: TrafficFeed): void {
  createRoot(element).render(
    <StrictMode>
      <App api={connection.api} onConnection={connection.onConnection} feed={feed} />
    </StrictMode>,
  );
}
