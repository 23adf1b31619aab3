// The app's root: the session (who is signed in), the language, the
// layout every page shares, and the route table (routes.js).
import { html, render, useState, useEffect, useLayoutEffect, useMemo, useCallback } from './lib/ui.js';
import { AppContext, useApp } from './lib/context.js';
import { createClient } from './lib/api.js';
import { pickLanguage, translator, chosenLanguage, rememberLanguage } from './lib/i18n.js';
import { useLocation, matchRoute, navigate, interceptLinks } from './lib/router.js';
import { safeNext } from './lib/page.js';
import { routes, redirectFor, navOrder, isManager, landingFor } from './routes.js';
import NotFound from './pages/notfound.js';
import { registerServiceWorker, clearOfflineData } from './lib/offline.js';

// LazyPage loads a page's module on first use (the managers' console),
// then shows it; the browser keeps the module for the next time.
function LazyPage({ load, ...props }) {
  const { t } = useApp();
  const [page, setPage] = useState(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    load().then((mod) => live && setPage(() => mod.default), () => live && setFailed(true));
    return () => { live = false; };
  }, [load]);
  if (failed) {
    return html`<p class="alert alert--error" role="alert">${t('error.unexpected')}</p>`;
  }
  if (!page) {
    return html`<p class="loading" role="status">${t('loading')}</p>`;
  }
  return html`<${page} ...${props} />`;
}

function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function LanguageSwitch() {
  const { lang, changeLanguage } = useApp();
  const other = lang === 'fr' ? { code: 'en', label: 'English' } : { code: 'fr', label: 'Français' };
  return html`<button class="lang" type="button" lang=${other.code} onClick=${() => changeLanguage(other.code)}>${other.label}</button>`;
}

// byNavOrder sorts entries by navOrder; entries it does not name come last.
function byNavOrder(a, b) {
  const rank = (r) => (navOrder.includes(r.nav) ? navOrder.indexOf(r.nav) : navOrder.length);
  return rank(a) - rank(b);
}

function Nav({ path }) {
  const { t, me } = useApp();
  if (!me) {
    return null;
  }
  return html`
    <nav class="nav" aria-label=${t('nav.label')}>
      <ul>
        ${routes.filter((r) => r.nav && (r.access !== 'manager' || isManager(me))).sort(byNavOrder).map((r) => html`
          <li key=${r.path}><a href=${r.path} aria-current=${r.path === path ? 'page' : undefined}>${t(r.nav)}</a></li>`)}
      </ul>
    </nav>`;
}

function Layout({ path, children }) {
  const { t, me, announcement } = useApp();
  return html`
    <a class="skip" href="#main">${t('skip')}</a>
    <header class="topbar">
      <a class="brand" href="/"><span class="brand__mark" aria-hidden="true"></span>Relais</a>
      <${LanguageSwitch} />
    </header>
    <div class="shell ${me ? 'shell--nav' : ''}">
      <${Nav} path=${path} />
      <main id="main" tabindex="-1">${children}</main>
    </div>
    <div class="sr-only" role="status" aria-live="polite" aria-atomic="true">${announcement}</div>`;
}

function App() {
  const loc = useLocation();
  const [me, setMeState] = useState(undefined); // undefined: not known yet
  const [lang, setLang] = useState(() => pickLanguage(null, chosenLanguage(), navigator.languages || [navigator.language]));
  const [announcement, setAnnouncement] = useState('');
  const langRef = useMemo(() => ({ current: lang }), []);
  langRef.current = lang;
  const api = useMemo(() => createClient({ lang: () => langRef.current, onSignedOut: () => { setMeState(null); clearOfflineData(); } }), []);

  const setMe = useCallback((m) => {
    setMeState(m);
    if (m && m.language) {
      // The account's language becomes this device's too, for the pages
      // shown once signed out.
      setLang(pickLanguage(m.language));
      rememberLanguage(m.language);
    }
  }, []);
  const refreshMe = useCallback(async () => {
    const m = await api.get('/v1/me');
    setMe(m);
    return m;
  }, []);

  useEffect(() => {
    if (!api.hasSession()) {
      setMeState(null);
      return;
    }
    refreshMe().catch(() => setMeState(null));
  }, []);
  // Before the browser paints, so that the page's language and its words
  // change together (screen readers read by the lang attribute).
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  useEffect(() => {
    // Offline reading, for members only: nothing is kept for a visitor.
    if (me) {
      registerServiceWorker();
    }
  }, [Boolean(me)]);

  const ctx = {
    lang,
    t: translator(lang),
    api,
    me,
    setMe,
    refreshMe,
    announce: (text) => {
      // A new text each time, so that the same words are said again.
      setAnnouncement('');
      setTimeout(() => setAnnouncement(text), 50);
    },
    announcement,
    signedIn: async (next) => {
      const m = await refreshMe();
      // A manager lands on the console; a page asked for comes first.
      navigate(next ? safeNext(next) : landingFor(m), { replace: true });
    },
    signedOut: () => {
      setMeState(null);
      clearOfflineData();
    },
    changeLanguage: async (l) => {
      setLang(l);
      rememberLanguage(l);
      if (me) {
        // The member's language is the account's: mail speaks it too.
        try {
          setMeState(await api.patch('/v1/me', { language: l }));
        } catch {
          // The page stays in the chosen language; the account keeps its own.
        }
      }
    },
  };

  let content;
  if (me === undefined) {
    content = html`<p class="loading" role="status">${ctx.t('loading')}</p>`;
  } else {
    const m = matchRoute(routes, loc.path);
    const here = loc.path + (loc.query.toString() ? `?${loc.query}` : '');
    const to = m && redirectFor(m.route, me, here);
    if (to) {
      content = html`<${Redirect} to=${to} />`;
    } else if (m) {
      content = m.route.lazy
        ? html`<${LazyPage} key=${loc.path} load=${m.route.lazy} params=${m.params} query=${loc.query} />`
        : html`<${m.route.page} key=${loc.path} params=${m.params} query=${loc.query} />`;
    } else {
      content = html`<${NotFound} />`;
    }
  }
  return html`<${AppContext.Provider} value=${ctx}><${Layout} path=${loc.path}>${content}<//><//>`;
}

interceptLinks(document);
render(html`<${App} />`, document.getElementById('app'));
