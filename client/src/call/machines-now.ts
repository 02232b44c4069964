/**
 * "Machines now": both machines' current states in a few lines, for the Talk page's side column,
 * so the live states stay in view while the full charts are further down the page.
 */
import { h, replaceChildren } from '../lib/dom';
import { stateValueText } from '../lib/format';
import { claimStepLabel } from '../machines';

/** The card. */
export interface MachinesNowView {
  readonly element: HTMLElement;
  /** A `state.changed` of one machine. */
  set(actor: 'call' | 'claim', value: unknown, eventType: string | null): void;
  reset(): void;
}

/** Creates the card; `chartsId` is the id of the charts section it links to. */
export function createMachinesNow(chartsId: string): MachinesNowView {
  const row = (actor: 'call' | 'claim', name: string) => {
    const state = h('span', { class: 'now-state', 'data-now': actor }, 'not running');
    const detail = h('span', { class: 'now-detail' });
    return {
      state,
      detail,
      el: h('div', { class: 'now-row' }, h('dt', null, name), h('dd', null, state, detail)),
    };
  };
  const call = row('call', 'Call');
  const claim = row('claim', 'Claim');
  const element = h(
    'section',
    { class: 'card machines-now', 'aria-labelledby': 'machines-now-title' },
    h('h2', { id: 'machines-now-title' }, 'Machines now'),
    h('dl', null, call.el, claim.el),
    h('a', { href: `#${chartsId}`, class: 'now-link' }, 'Both charts ↓'),
  );
  // The charts section is an in-page target: the hash router must not treat it as a page.
  element.querySelector('a')?.addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById(chartsId)?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  });
  return {
    element,
    set(actor, value, eventType) {
      const r = actor === 'call' ? call : claim;
      const path = stateValueText(value);
      if (actor === 'claim') {
        replaceChildren(r.state, claimStepLabel(path));
        replaceChildren(r.detail, h('code', null, path));
      } else {
        replaceChildren(r.state, h('code', null, path));
        replaceChildren(r.detail, eventType ? `after ${eventType}` : '');
      }
    },
    reset() {
      for (const r of [call, claim]) {
        replaceChildren(r.state, 'not running');
        replaceChildren(r.detail, '');
      }
    },
  };
}
