import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connect } from './api/connect';
import { TrafficFeed } from './traffic/traffic-feed';
import './styles.css';
import './i18n';

const connection = connect(window);
// The list's first rows are asked for now, before React's first render: the request leaves as
// soon as the socket opens.
const feed = new TrafficFeed(connection.api);
feed.start();

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App api={connection.api} onConnection={connection.onConnection} feed={feed} />
  </StrictMode>,
);
