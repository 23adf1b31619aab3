// What the network's pages share (admins only): their frame, which says
// in words that the page is the admins' to anyone else, and the fields of
// a legal identity with the API's checks (SIREN, SIRET, VAT number) shown
// next to each field.
import { html } from './ui.js';
import { useApp } from './context.js';
import { Page } from './page.js';
import { Field } from './forms.js';
import { ConsoleNav } from './console-nav.js';
import { euros } from './console.js';
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
  registry: '', registry_city: '', share_capital: '', variable_capital: false, rna: '',
};

function capitalText(cents) {
  return cents === undefined || cents === null ? '' : (cents / 100).toFixed(2).replace('.', ',').replace(/,00$/, '');
}

// legalOf: the form's values of a stored legal identity.
export function legalOf(l) {
  l = l || {}; // a host place has none
  return {
    ...l, company_name: l.company_name || '', legal_form: l.legal_form || '', siret: l.siret || '',
    vat_number: l.vat_number || '', vat_exempt: Boolean(l.vat_exempt),
    registry: l.registry || '', registry_city: l.registry_city || '', share_capital: capitalText(l.share_capital_cents),
    variable_capital: Boolean(l.variable_capital), rna: l.rna || '',
  };
}

// legalBody: what the API reads of the form's values. The SIREN is the
// SIRET's first nine digits: the API derives it, so that a new SIRET
// never disagrees with the old SIREN. The stored registration fields
// (registry, capital, RNA) go back as they were.
export function legalBody(v) {
  const out = { ...v };
  delete out.siren;
  delete out.share_capital;
  delete out.share_capital_cents;
  if (String(v.share_capital).trim() !== '') {
    const cents = euros(String(v.share_capital).replace(/\s/g, ''));
    out.share_capital_cents = Number.isFinite(cents) ? cents : -1;
  }
  for (const k of ['registry', 'registry_city', 'rna']) {
    if (!out[k]) {
      delete out[k];
    }
  }
  if (!out.variable_capital) {
    delete out.variable_capital;
  }
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
      <${Field} name="${prefix}-registry" label=${t('consoled.legal.registry')} hint=${t('consoled.legal.registry.hint')} value=${v.registry} onInput=${set('registry')} error=${f('registry')}>
        ${['', 'RCS', 'RM', 'none'].map((r) => html`<option key=${r} value=${r}>${t(`consoled.legal.registry.${r || 'unset'}`)}</option>`)}
      <//>
      ${(v.registry === 'RCS' || v.registry === 'RM') && html`<${Field} name="${prefix}-registry-city" label=${t('consoled.legal.registry_city')} value=${v.registry_city} onInput=${set('registry_city')} required error=${f('registry_city')} />`}
      <${Field} name="${prefix}-capital" label=${t('consoled.legal.share_capital')} hint=${t('consoled.legal.share_capital.hint')} inputmode="decimal" value=${v.share_capital} onInput=${set('share_capital')} error=${f('share_capital_cents')} />
      <div class="field field--check">
        <input id="${prefix}-variable" type="checkbox" checked=${v.variable_capital} onChange=${(e) => set('variable_capital')(e.target.checked)} />
        <label for="${prefix}-variable">${t('consoled.legal.variable_capital')}</label>
      </div>
      <${Field} name="${prefix}-rna" label=${t('consoled.legal.rna')} hint=${t('consoled.legal.rna.hint')} value=${v.rna} onInput=${set('rna')} error=${f('rna')} />
    </fieldset>`;
}

// The time zones of France and its overseas sites; the API takes any
// IANA zone, the form offers these.
export const zones = ['Europe/Paris', 'America/Cayenne', 'America/Guadeloupe', 'America/Martinique', 'Indian/Reunion', 'Indian/Mayotte', 'Pacific/Noumea', 'Pacific/Tahiti'];

export function zoneName(t, zone) {
  return zones.includes(zone) ? t(`consoled.zone.${zone}`) : zone;
}

// What a site may be (the API's SiteKind).
export const siteKinds = ['tiers_lieu', 'coworking', 'fablab', 'epn', 'host'];
