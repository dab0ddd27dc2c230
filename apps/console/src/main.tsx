import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './app';
import { RouterProvider } from './router';

import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <RouterProvider>
      <App />
    </RouterProvider>
  </StrictMode>,
);
