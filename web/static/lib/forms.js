// Forms everyone can use: a label on every field, its hint and error tied
// to it (aria-describedby), the API's problem shown in words above the
// form, and the result said in a live region.
import { html, useState, useEffect, useLayoutEffect, useRef } from './ui.js';
import { useApp } from './context.js';
import { ApiError } from './api.js';

// Field is one labelled input. error is the API's reason for this field.
export function Field({ name, label, type = 'text', value, onInput, error, hint, autocomplete, required = false, inputmode, children }) {
  const id = `field-${name}`;
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const common = {
    id, name, required, autocomplete, 'aria-describedby': described, 'aria-invalid': error ? 'true' : undefined,
  };
  return html`
    <div class="field ${error ? 'field--invalid' : ''}">
      <label for=${id}>${label}${required ? html`<span class="required" aria-hidden="true"> *</span>` : ''}</label>
      ${hint && html`<p class="hint" id="${id}-hint">${hint}</p>`}
      ${children
        ? html`<select ...${common} value=${value} onChange=${(e) => onInput(e.target.value)}>${children}</select>`
        : html`<input ...${common} type=${type} inputmode=${inputmode} value=${value} onInput=${(e) => onInput(e.target.value)} />`}
      ${error && html`<p class="field-error" id="${id}-error">${error}</p>`}
    </div>`;
}

// errorText is what to tell the member of a failed call, in words.
export function errorText(err, t) {
  if (err instanceof ApiError) {
    if (err.status === 0) {
      return t('error.network');
    }
    if (err.detail) {
      return err.detail;
    }
  }
  return t('error.unexpected');
}

// FormError shows a failed call's detail, announced at once (role=alert)
// and focused so that a keyboard or screen-reader user lands on it.
export function FormError({ error }) {
  const { t } = useApp();
  const ref = useRef(null);
  // Before the browser paints: the alert is focused as it appears, never
  // a moment later.
  useLayoutEffect(() => {
    if (error && ref.current) {
      ref.current.focus();
    }
  }, [error]);
  if (!error) {
    return null;
  }
  return html`<div class="alert alert--error" role="alert" tabindex="-1" ref=${ref}>${errorText(error, t)}</div>`;
}

// useSubmit runs a form's call once at a time: busy while it runs, the
// error it ended with (an ApiError, its fields for the inputs), or done.
export function useSubmit(call) {
  const [state, setState] = useState({ busy: false, error: null, done: false });
  const onSubmit = async (e) => {
    e.preventDefault();
    if (state.busy) {
      return;
    }
    setState({ busy: true, error: null, done: false });
    try {
      await call();
      setState({ busy: false, error: null, done: true });
    } catch (err) {
      setState({ busy: false, error: err, done: false });
    }
  };
  const fields = state.error instanceof ApiError ? state.error.fields : {};
  return { ...state, fields, onSubmit };
}
