// What the network's pages share (admins only): their frame, which says
// in words that the page is the admins' to anyone else, and the fields of
// a legal identity with the API's checks (SIREN, SIRET, VAT number) shown
// next to each field.
import { html } from './ui.js';
import { useApp } from './context.js';
import { Page } from './page.js';
import { Field } from './forms.js';
import { ConsoleNav } from './console-nav.js';
import './console-words.js';

export function isAdmin(me) {
  return Boolean(me) && me.role === 'admin';
}

// NetworkFrame is a network page: its heading, the console's navigation,
// then the content for an admin, or why there is none for anyone else.
export function NetworkFrame({ title, current, children }) {
  const { t, me } = useApp();
  return html`
    <${Page} title=${title} wide>
      <${ConsoleNav} current=${current} />
      ${isAdmin(me) ? children : html`<p class="alert alert--error" role="alert">${t('consoled.adminonly')}</p>`}
    <//>`;
}

export const blankLegal = {
  company_name: '', legal_form: '', siret: '', vat_number: '', vat_exempt: false,
};

// legalOf: the form's values of a stored legal identity.
export function legalOf(l) {
  return {
    ...l, company_name: l.company_name || '', legal_form: l.legal_form || '', siret: l.siret || '',
    vat_number: l.vat_number || '', vat_exempt: Boolean(l.vat_exempt),
  };
}

// legalBody: what the API reads of the form's values. The SIREN is the
// SIRET's first nine digits: the API derives it, so that a new SIRET
// never disagrees with the old SIREN. The stored registration fields
// (registry, capital, RNA) go back as they were.
export function legalBody(v) {
  const out = { ...v };
  delete out.siren;
  if (out.vat_exempt) {
    delete out.vat_number;
  } else {
    delete out.vat_exempt_basis;
  }
  return out;
}

// LegalFields: the entity's name and form, SIRET, VAT number or
// exemption. fields are the API's reasons by field (legal.siret, …).
export function LegalFields({ prefix, v, set, fields }) {
  const { t } = useApp();
  const f = (k) => fields[`legal.${k}`];
  return html`
    <fieldset class="console-fieldset">
      <legend>${t('consoled.legal.legend')}</legend>
      <${Field} name="${prefix}-company" label=${t('consoled.legal.company_name')} value=${v.company_name} onInput=${set('company_name')} required error=${f('company_name')} />
      <${Field} name="${prefix}-form" label=${t('consoled.legal.legal_form')} hint=${t('consoled.legal.legal_form.hint')} value=${v.legal_form} onInput=${set('legal_form')} required error=${f('legal_form')} />
      <${Field} name="${prefix}-siret" label=${t('consoled.legal.siret')} hint=${t('consoled.legal.siret.hint')} inputmode="numeric" value=${v.siret} onInput=${set('siret')} required error=${f('siret') || f('siren')} />
      <div class="field field--check">
        <input id="${prefix}-vat-exempt" type="checkbox" checked=${v.vat_exempt} onChange=${(e) => set('vat_exempt')(e.target.checked)} />
        <label for="${prefix}-vat-exempt">${t('consoled.legal.vat_exempt')}</label>
      </div>
      ${!v.vat_exempt && html`<${Field} name="${prefix}-vat" label=${t('consoled.legal.vat_number')} hint=${t('consoled.legal.vat_number.hint')} value=${v.vat_number} onInput=${set('vat_number')} required error=${f('vat_number')} />`}
    </fieldset>`;
}

// The time zones of France and its overseas sites; the API takes any
// IANA zone, the form offers these.
export const zones = ['Europe/Paris', 'America/Cayenne', 'America/Guadeloupe', 'America/Martinique', 'Indian/Reunion', 'Indian/Mayotte', 'Pacific/Noumea', 'Pacific/Tahiti'];

export function zoneName(t, zone) {
  return zones.includes(zone) ? t(`consoled.zone.${zone}`) : zone;
}

// What a site may be (the API's SiteKind).
export const siteKinds = ['tiers_lieu', 'coworking', 'fablab', 'epn'];
