// Reads the API's OpenAPI document, then renders react-admin with a resource per collection.
// The API is this page's own origin unless the build says otherwise (VITE_API_URL, for a page
// served elsewhere: the API must then allow this origin with CORS, see the README).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';
import { describe } from './openapi.js';
import { makeDataProvider } from './dataProvider.js';

const apiUrl = (import.meta.env.VITE_API_URL ?? '').replace(/\/+$/, '') || window.location.origin;
const root = createRoot(document.getElementById('root'));

function Failure({ error }) {
  return (
    <div style={{ fontFamily: 'sans-serif', padding: 24 }}>
      <h1>The admin page could not read the API</h1>
      <p>
        <code>{apiUrl}/openapi.json</code>: {String(error?.message ?? error)}
      </p>
    </div>
  );
}

async function start() {
  const response = await fetch(`${apiUrl}/openapi.json`, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const doc = await response.json();
  const resources = describe(doc);
  if (resources.length === 0) throw new Error('the document lists no collection to show');
  const title = doc.info?.title ?? 'Admin';
  document.title = title;
  root.render(
    <StrictMode>
      <App resources={resources} dataProvider={makeDataProvider(apiUrl, resources)} title={title} />
    </StrictMode>,
  );
}

start().catch((error) => root.render(<Failure error={error} />));
