// The attendance sheet of a session (/console/ateliers/{id}/sessions/{sid}),
// made for a tablet in the animateur's hand: one line a person, three big
// toggles (present, absent, excused), each pressed at once. Before the
// session starts the sheet says so in words and offers no toggle (the API
// refuses too).
import { html, useState, useEffect } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Page } from '../../lib/page.js';
import { errorText } from '../../lib/forms.js';
import { ConsoleFrame } from '../../lib/console.js';
import { formatTime } from '../../lib/format.js';
import { sessionWhen, sitesById } from '../../lib/services.js';
import { isManager } from '../../routes.js';
import '../../lib/console-words.js';

// useSheet loads the atelier, its site (any signed-in person reads the
// sites) and the registrations: the API lets the site's managers and the
// atelier's animateurs, who need not manage the site, read them.
function useSheet(id) {
  const { api } = useApp();
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    (async () => {
      const a = await api.get(`/v1/ateliers/${encodeURIComponent(id)}`);
      const [sites, regs] = await Promise.all([sitesById(api), api.get(`/v1/ateliers/${encodeURIComponent(id)}/registrations`)]);
      setState({ a, site: sites[a.site_id] || null, regs: regs.items });
    })().catch((error) => setState({ error }));
  }, [id]);
  return state;
}

// Frame: the console's for a manager; a plain page for an animateur who
// does not manage the site.
function Frame({ title, st, children }) {
  const { t, me } = useApp();
  if (isManager(me)) {
    const cs = { loading: st.loading, error: st.error, sites: st.site ? [st.site] : st.a ? [] : undefined, site: st.site };
    return html`<${ConsoleFrame} title=${title} current="/console/ateliers" cs=${cs}>${children}<//>`;
  }
  return html`
    <${Page} title=${title} wide>
      ${st.loading && html`<p role="status">${t('loading')}</p>`}
      ${st.error && html`<p class="alert alert--error" role="alert">${errorText(st.error, t)}</p>`}
      ${st.site && children}
    <//>`;
}

const marks = ['present', 'absent', 'excused'];

function Line({ r, started, onMark }) {
  const { t } = useApp();
  return html`
    <li class="services-sheet__row">
      <span class="services-sheet__name" id="sheet-${r.id}">${r.name}</span>
      <span class="services-sheet__marks" role="group" aria-labelledby="sheet-${r.id}">
        ${marks.map((m) => html`
          <button key=${m} type="button" class="services-mark services-mark--${m}" aria-pressed=${r.attendance === m ? 'true' : 'false'}
            disabled=${!started} onClick=${() => onMark(r, m)}>${t(`servicesapp.att.${m}`)}</button>`)}
      </span>
    </li>`;
}

export default function Attendance({ params }) {
  const { t, lang, api, announce, me } = useApp();
  const st = useSheet(params.id);
  const [error, setError] = useState(null);
  const [marked, setMarked] = useState({});
  const s = st.a && st.a.sessions.find((x) => x.id === params.sessionId);
  const tz = st.site && st.site.timezone;
  const title = st.a ? t('servicesapp.sheet.title', { title: st.a.title }) : t('servicesapp.sheet.title', { title: '' });
  const mark = async (r, m) => {
    setError(null);
    try {
      const out = await api.patch(`/v1/atelier-registrations/${encodeURIComponent(r.id)}`, { attendance: m });
      setMarked((x) => ({ ...x, [r.id]: out.attendance }));
      announce(t('servicesapp.sheet.marked', { name: r.name, mark: t(`servicesapp.att.${m}`) }));
    } catch (e) {
      setError(e);
    }
  };
  const started = s && new Date(s.start) <= new Date();
  const regs = st.regs ? st.regs.filter((r) => r.session_id === params.sessionId).map((r) => ({ ...r, attendance: marked[r.id] || r.attendance })) : [];
  const confirmed = regs.filter((r) => r.status === 'confirmed');
  const waiting = regs.filter((r) => r.status === 'waitlisted');
  return html`
    <${Frame} title=${title} st=${st}>
      ${st.a && st.site && !s && html`<p class="alert alert--error" role="alert">${t('servicesapp.sheet.nosession')}</p>`}
      ${s && html`
        ${isManager(me) && html`<p><a href="/console/ateliers/${encodeURIComponent(st.a.id)}">${t('servicesapp.sheet.back')}</a></p>`}
        <p class="services-sheet__when">${sessionWhen(s, lang, tz)}</p>
        ${!started && html`<p class="alert alert--info" role="status">${t('servicesapp.sheet.notyet', { time: formatTime(s.start, lang, tz) })}</p>`}
        ${error && html`<p class="alert alert--error" role="alert">${errorText(error, t)}</p>`}
        <p>${t('servicesapp.sheet.count', { n: confirmed.length, present: confirmed.filter((r) => r.attendance === 'present').length })}</p>
        ${confirmed.length === 0 && html`<p class="empty">${t('servicesapp.console.nobody')}</p>`}
        <ul class="services-sheet">
          ${confirmed.map((r) => html`<${Line} key=${r.id} r=${r} started=${started} onMark=${mark} />`)}
        </ul>
        ${waiting.length > 0 && html`
          <h2>${t('servicesapp.sheet.waiting')}</h2>
          <ol>${waiting.map((r) => html`<li key=${r.id}>${r.name}</li>`)}</ol>`}`}
    <//>`;
}
