// Routing with the history API: the server answers index.html for every
// path of the app, and this module decides what a path shows.
import { useState, useEffect } from './ui.js';

const listeners = new Set();

function current() {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

// navigate shows another path of the app without reloading.
export function navigate(to, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  listeners.forEach((f) => f());
}

// useLocation is the current path and query, updated on every navigation.
export function useLocation() {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

// matchRoute finds the route of path in routes ({path: '/waitlist/:id'}),
// with the path's parameters; null when none matches.
export function matchRoute(routes, path) {
  const parts = path.replace(/\/+$/, '').split('/');
  for (const route of routes) {
    const want = route.path.replace(/\/+$/, '').split('/');
    if (want.length !== parts.length) {
      continue;
    }
    const params = {};
    const ok = want.every((w, i) => {
      if (w.startsWith(':')) {
        params[w.slice(1)] = decodeURIComponent(parts[i]);
        return parts[i] !== '';
      }
      return w === parts[i];
    });
    if (ok) {
      return { route, params };
    }
  }
  return null;
}

// interceptLinks makes a click on a link to the app's own pages a
// navigation instead of a page load. Links to the API (a PDF, an export),
// to other sites, in a new tab or with a modifier key load as usual.
export function interceptLinks(root) {
  root.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) {
      return;
    }
    const a = e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin || a.pathname.startsWith('/v1/')) {
      return;
    }
    // A link within the page (the skip link to #main) is the browser's:
    // it moves the focus there.
    if (a.hash && a.pathname === location.pathname && a.search === location.search) {
      return;
    }
    e.preventDefault();
    navigate(a.pathname + a.search + a.hash);
  });
}
