/** "/" and "/leaderboard": a placeholder until the metrics engine exists. */
import { el } from '../components/dom';
import type { PageContext } from '../pageContext';

export function mountLeaderboardPage(root: HTMLElement, ctx: PageContext): void {
  ctx.setTitle('Leaderboard');
  root.append(
    el('h1', { text: 'Leaderboard' }),
    el('p', { class: 'lead', text: 'The leaderboard arrives with the metrics engine.' }),
  );
}
