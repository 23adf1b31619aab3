// The API client: the app is a client of the public API like any other.
// The session lives in HttpOnly cookies the script never sees; every write
// repeats the readable CSRF cookie in X-CSRF-Token. An expired access
// cookie is renewed once from the refresh cookie, and the request sent
// again. Errors are the API's problem documents, their detail already in
// the reader's language (Accept-Language).

const csrfCookie = '__Host-relais_csrf';

// ApiError is a failed call: status 0 when the network failed, else the
// HTTP status with the problem document's detail and each field's reason.
export class ApiError extends Error {
  constructor(status, problem = {}) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || '';
    this.detail = problem.detail || '';
    this.fields = {};
    // The whole problem document, for the members it has beyond these
    // (an import's lines).
    this.problem = problem;
    for (const e of problem.errors || []) {
      // The first reason of each field is the one shown beside it.
      if (e && e.field && !(e.field in this.fields)) {
        this.fields[e.field] = e.reason;
      }
    }
  }
}

// RawBody is a request body sent as it is, with its content type.
class RawBody {
  constructor(data, type) {
    this.data = data;
    this.type = type;
  }
}

export function readCookie(name, cookies = document.cookie) {
  for (const c of cookies.split(';')) {
    const [k, ...v] = c.trim().split('=');
    if (k === name) {
      return decodeURIComponent(v.join('='));
    }
  }
  return '';
}

// newKey is an Idempotency-Key: 128 random bits (getRandomValues works
// outside secure contexts too, unlike randomUUID).
export function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

let servedOffline = null;

// offlineSince: when the last answer was read, if it came from the
// service worker's copy (offline), else null.
export function offlineSince() {
  return servedOffline;
}

// createClient returns the app's client. lang() is the language to ask
// for; onSignedOut() is called when the session is over (refresh refused).
export function createClient({ lang, onSignedOut }) {
  let refreshing = null;

  async function send(method, path, body, headers) {
    const h = { Accept: 'application/json, application/problem+json', 'Accept-Language': lang(), ...headers };
    // A body that is no JSON (a CSV file) comes with its own type, sent as it is.
    const raw = body instanceof RawBody;
    if (body !== undefined) {
      h['Content-Type'] = raw ? body.type : 'application/json';
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const csrf = readCookie(csrfCookie);
      if (csrf) {
        h['X-CSRF-Token'] = csrf;
      }
    }
    let res;
    try {
      res = await fetch(path, {
        method, headers: h, credentials: 'same-origin', cache: 'no-store',
        body: body === undefined ? undefined : (raw ? body.data : JSON.stringify(body)),
      });
    } catch {
      throw new ApiError(0);
    }
    return res;
  }

  // refresh renews the session from the refresh cookie. Concurrent calls
  // share one request: the refresh token rotates, and a second use of
  // the old one would end the session.
  function refresh() {
    if (!refreshing) {
      refreshing = send('POST', '/v1/auth/refresh', {}).then((r) => r.ok).finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  async function request(method, path, { body, idempotent = false } = {}) {
    const headers = idempotent ? { 'Idempotency-Key': newKey() } : {};
    // Signing in, up and the links' landings need no session: their 401
    // is a wrong password or token, not a session to renew.
    const needsSession = !path.startsWith('/v1/auth/') || path === '/v1/auth/logout';
    let res = await send(method, path, body, headers);
    if (res.status === 401 && needsSession && readCookie(csrfCookie)) {
      if (await refresh()) {
        res = await send(method, path, body, headers);
      }
    }
    if (res.status === 401 && needsSession) {
      onSignedOut();
    }
    if (!res.ok) {
      let problem = {};
      if ((res.headers.get('Content-Type') || '').includes('json')) {
        problem = await res.json().catch(() => ({}));
      }
      throw new ApiError(res.status, problem);
    }
    // The service worker answers a kept copy offline, saying since when.
    servedOffline = res.headers.get('X-Relais-Offline') || null;
    // 204, and the 202 of a mail queued, have no body.
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  return {
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    del: (path, opts) => request('DELETE', path, opts),
    // all reads every page of a list (200 items each, following
    // next_cursor) and returns its items: for the views that must show
    // all of a site's resources or a week's bookings, not the first
    // page. At most maxPages pages, so a runaway list cannot hold a view.
    all: async (path, maxPages = 50) => {
      const sep = path.includes('?') ? '&' : '?';
      let items = [];
      let cursor = '';
      for (let n = 0; n < maxPages; n++) {
        const page = await request('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        items = items.concat(page.items);
        if (!page.next_cursor) {
          break;
        }
        cursor = page.next_cursor;
      }
      return items;
    },
    hasSession: () => readCookie(csrfCookie) !== '',
    // postRaw sends data (a string or a Blob) as the body, of that type.
    postRaw: (path, data, type, opts) => request('POST', path, { ...opts, body: new RawBody(data, type) }),
  };
}
