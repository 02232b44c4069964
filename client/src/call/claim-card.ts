/**
 * The claim card: number, status, where the flow is (in the designer's words, from the claim
 * machine's meta; the state path is kept in `data-path`), and each field as it is accepted.
 */
import { h, replaceChildren } from '../lib/dom';
import { formatAmount, formatClaimDate } from '../lib/format';
import { claimStepLabel } from '../machines';
import type { ClaimCard } from './protocol';

/** The card. */
export interface ClaimCardView {
  readonly element: HTMLElement;
  update(claim: ClaimCard): void;
  /** Shows the number as soon as the session starts (before the first claim update). */
  start(claimId: string): void;
  reset(): void;
}

/** Creates the card. */
export function createClaimCard(): ClaimCardView {
  const field = (label: string, key: string) => {
    const dd = h('dd', { 'data-field': key }, '—');
    return { dt: h('dt', null, label), dd };
  };
  const f = {
    claimId: field('Claim number', 'claimId'),
    claimStatus: field('Status', 'claimStatus'),
    path: field('Step', 'path'),
    claimDate: field('Incident date', 'claimDate'),
    claimAmount: field('Amount', 'claimAmount'),
  };
  const element = h(
    'section',
    { class: 'card claim-card', 'aria-labelledby': 'claim-card-title' },
    h('h2', { id: 'claim-card-title' }, 'Claim'),
    h(
      'dl',
      null,
      Object.values(f).map((x) => [x.dt, x.dd]),
    ),
  );
  const shown: Record<string, string> = {};
  const set = (key: keyof typeof f, text: string, filled: boolean) => {
    const dd = f[key].dd;
    if (shown[key] === text) return;
    const wasFilled = dd.classList.contains('filled');
    shown[key] = text;
    if (key === 'claimStatus') {
      replaceChildren(dd, h('span', { class: `badge badge-${text === 'Pending' ? 'ok' : 'neutral'}` }, text));
    } else replaceChildren(dd, text);
    dd.classList.toggle('filled', filled);
    if (filled && (!wasFilled || key === 'claimDate' || key === 'claimAmount')) {
      dd.classList.remove('just-filled');
      void dd.offsetWidth;
      dd.classList.add('just-filled');
    }
  };
  return {
    element,
    start(claimId) {
      set('claimId', claimId, true);
    },
    update(c) {
      set('claimId', c.claimId, true);
      set('claimStatus', c.claimStatus, c.claimStatus === 'Pending');
      set('path', claimStepLabel(c.path), false);
      f.path.dd.dataset.path = c.path;
      f.path.dd.title = `claim state ${c.path}`;
      set('claimDate', formatClaimDate(c.claimDate), c.claimDate !== null);
      set('claimAmount', formatAmount(c.claimAmount), c.claimAmount !== null);
    },
    reset() {
      for (const k of Object.keys(f) as Array<keyof typeof f>) {
        shown[k] = '—';
        replaceChildren(f[k].dd, '—');
        f[k].dd.classList.remove('filled', 'just-filled');
      }
      delete f.path.dd.dataset.path;
      f.path.dd.removeAttribute('title');
    },
  };
}
