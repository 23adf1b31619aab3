// Page is the frame of every page: its heading, which receives the focus
// after a navigation (so that a screen reader says where the member is
// now), and the window's title.
import { html, useLayoutEffect, useRef } from './ui.js';

let firstPage = true;

export function Page({ title, children, wide = false }) {
  const ref = useRef(null);
  // Before the browser paints: a person (or a test) typing into the page's
  // first field as soon as it shows must not have the focus taken from
  // them a moment later, mid-word.
  useLayoutEffect(() => {
    document.title = `${title} · Relais`;
    if (firstPage) {
      firstPage = false;
    } else if (ref.current) {
      ref.current.focus();
    }
  }, [title]);
  return html`
    <section class="page ${wide ? 'page--wide' : ''}">
      <h1 tabindex="-1" ref=${ref}>${title}</h1>
      ${children}
    </section>`;
}

// safeNext is where to go after signing in: a path of the app given in
// ?next=, never another site (//host) nor the API.
export function safeNext(next) {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/v1/')) {
    return '/';
  }
  return next;
}
