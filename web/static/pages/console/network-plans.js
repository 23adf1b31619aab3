// The network's plans (admins): the memberships and packs valid on every
// site, shown and sold with the console's plans page (console-plans.js).
import { html } from '../../lib/ui.js';
import { useApp } from '../../lib/context.js';
import { Plans } from '../console-plans.js';
import { NetworkFrame } from '../../lib/console-network.js';

export default function NetworkPlans() {
  const { t } = useApp();
  return html`
    <${NetworkFrame} title=${t('consoled.plans.title')} current="/console/network/plans">
      <p class="hint">${t('consoled.plans.hint')}</p>
      <${Plans} site=${null} />
    <//>`;
}
