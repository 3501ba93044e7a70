import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { connect } from './api/connect';
import './styles.css';
import './i18n';

const connection = connect(window);

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App api={connection.api} onConnection={connection.onConnection} />
  </StrictMode>,
);
