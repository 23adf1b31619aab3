// The app's service worker, served at /sw.js so that its scope is the
// whole app. web.go writes the release's version (a hash of every file
// of the app) and the list of its files in place of the two markers
// below: a new release is a new worker, whose install caches the new
// shell and whose activation deletes the old one.
//
// What it keeps: the shell (index.html and /static/), and the answers of
// the few API reads the home page makes for a signed-in member (who they
// are, their coming bookings, the sites' and resources' names), so that
// offline the home still shows them, with the date they were read. It
// keeps no other answer of the API, nothing for someone signed out (only
// a 200 is kept, and any 401 empties the data), and the app empties the
// data when the member signs out.
const VERSION = '__RELAIS_VERSION__';
const FILES = __RELAIS_FILES__;
const SHELL = `relais-shell-${VERSION}`;
const DATA = 'relais-data';

// homeReads are the API reads kept: each maps a request to the key it is
// kept under (the bookings' "from" changes at every visit: one entry).
function homeKey(url) {
  const p = url.pathname;
  if (p === '/v1/me') {
    return '/v1/me';
  }
  if (p === '/v1/reservations' && url.searchParams.get('status') === 'confirmed,held' && url.searchParams.has('from')) {
    return '/v1/reservations?upcoming';
  }
  // The names and zones the home reads with its bookings (home.js's
  // loadBookings), not the other reads of the same lists.
  if ((p === '/v1/sites' || /^\/v1\/sites\/[^/]+\/resources$/.test(p)) && url.search === '?limit=200') {
    return p + url.search;
  }
  return null;
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('relais-shell-') && k !== SHELL).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function fromData(event, key) {
  try {
    const res = await fetch(event.request);
    if (res.status === 200) {
      const copy = res.clone();
      const body = await copy.arrayBuffer();
      const headers = new Headers(copy.headers);
      headers.set('X-Relais-Offline', new Date().toISOString());
      const cache = await caches.open(DATA);
      await cache.put(key, new Response(body, { status: 200, headers }));
    } else if (res.status === 401) {
      // Signed out (or the session is over): nothing of theirs stays.
      await caches.delete(DATA);
    }
    return res;
  } catch (err) {
    // The network failed: the kept answer, which says since when in
    // X-Relais-Offline (the app shows it).
    const cache = await caches.open(DATA);
    const kept = await cache.match(key);
    if (kept) {
      return kept;
    }
    throw err;
  }
}

async function fromShell(event) {
  const cache = await caches.open(SHELL);
  if (event.request.mode === 'navigate') {
    // Every page of the app is index.html: the network first (a new
    // release), the kept one offline.
    try {
      return await fetch(event.request);
    } catch (err) {
      const kept = await cache.match('/');
      if (kept) {
        return kept;
      }
      throw err;
    }
  }
  // The files of this release, as kept at install (the cache is this
  // release's: its name carries the files' hash).
  const kept = await cache.match(event.request);
  return kept || fetch(event.request);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith('/v1/')) {
    const key = homeKey(url);
    if (key) {
      event.respondWith(fromData(event, key));
    }
    // Any other API answer goes to the network alone.
    return;
  }
  if (req.mode === 'navigate' || url.pathname.startsWith('/static/')) {
    event.respondWith(fromShell(event));
  }
});

self.addEventListener('message', (event) => {
  if (event.data === 'signed-out') {
    event.waitUntil(caches.delete(DATA));
  }
});
