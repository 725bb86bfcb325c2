/** Bootstrap: the page shell (header and main), the session, and the router that mounts one page at a time. */
import { el } from './components/dom';
import { mountAccountPage } from './pages/account';
import { mountHeader } from './components/header';
import { pageTitle } from './logic/format';
import { navSection, type Route } from './logic/routes';
import { mountBrowsePage } from './pages/browse';
import { mountClassPage } from './pages/classPage';
import { mountComparePage } from './pages/compare';
import { mountDatasetStatisticsPage } from './pages/datasetStatistics';
import type { PageContext } from './pageContext';
import { mountDatasetPage } from './pages/dataset';
import { mountImagePage } from './pages/image';
import { mountGuidePage } from './pages/guide';
import { mountLabelingPage, mountLabelingTaskPage } from './pages/labeling';
import { mountHardImagesPage } from './pages/hardImages';
import { mountLeaderboardPage } from './pages/leaderboard';
import { mountModelPage } from './pages/modelPage';
import { mountImportsPage } from './pages/imports';
import { mountNotFoundPage } from './pages/notFound';
import { mountPaperPage } from './pages/paper';
import { mountReviewPage } from './pages/review';
import { mountSignInPage } from './pages/signIn';
import { mountSubmitPage } from './pages/submit';
import { createRouter } from './router';
import { createSession } from './session';

function mountPage(root: HTMLElement, route: Route, ctx: PageContext): void {
  switch (route.page) {
    case 'leaderboard':
      return mountLeaderboardPage(root, ctx);
    case 'review':
      return mountReviewPage(root, ctx);
    case 'browse':
      return mountBrowsePage(root, ctx);
    case 'dataset':
      return mountDatasetPage(root, route, ctx);
    case 'class':
      return mountClassPage(root, route, ctx);
    case 'image':
      return mountImagePage(root, route, ctx);
    case 'model':
      return mountModelPage(root, route, ctx);
    case 'hard-images':
      return mountHardImagesPage(root, route, ctx);
    case 'compare':
      return mountComparePage(root, route, ctx);
    case 'paper':
      return mountPaperPage(root, route, ctx);
    case 'dataset-statistics':
      return mountDatasetStatisticsPage(root, route, ctx);
    case 'sign-in':
      return mountSignInPage(root, route, ctx);
    case 'account':
      return mountAccountPage(root, ctx);
    case 'submit':
      return mountSubmitPage(root, ctx);
    case 'imports':
      return mountImportsPage(root, ctx);
    case 'labeling':
      return mountLabelingPage(root, ctx);
    case 'guide':
      return mountGuidePage(root, route, ctx);
    case 'labeling-task':
      return mountLabelingTaskPage(root, route, ctx);
    case 'not-found':
      return mountNotFoundPage(root, route.path, ctx);
  }
}

function start(app: HTMLElement): void {
  const session = createSession();
  const headerRoot = el('header', { class: 'site-header' });
  const main = el('main', { class: 'site-main', attrs: { id: 'main', tabindex: '-1' } });
  // The first stop of the keyboard: past the navigation to the page's content (the router would treat "#main" as a route).
  const skip = el('a', { class: 'skip-link', testid: 'skip-link', attrs: { href: '#main' }, text: 'Skip to content' });
  skip.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  app.replaceChildren(skip, headerRoot, main);

  let route: Route | null = null;
  const header = mountHeader(headerRoot, {
    onSignOut: () =>
      session.signOut().catch((error: unknown) => {
        console.error('Sign-out failed', error);
      }),
  });
  const renderHeader = (): void => header.update({ section: route ? navSection(route) : null, session: session.state });
  session.subscribe(renderHeader);

  let leave: AbortController | null = null;
  const router = createRouter((next, _location, cause) => {
    leave?.abort();
    const controller = new AbortController();
    leave = controller;
    route = next;
    renderHeader();

    const root = el('div', { class: `page page-${next.page}`, attrs: { 'data-page': next.page } });
    main.replaceChildren(root);
    mountPage(root, next, {
      signal: controller.signal,
      session,
      location: () => router.location,
      navigate: (location, options) => router.navigate(location, options),
      replaceQuietly: (location) => router.replaceQuietly(location),
      pushQuietly: (location) => router.pushQuietly(location),
      setTitle: (...parts) => {
        if (!controller.signal.aborted) document.title = pageTitle(...parts);
      },
    });
    // Move focus to the new content (not on first load, which keeps the browser's default).
    if (cause !== 'start' && !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  });

  router.start();
  void session.refresh();
}

const app = document.getElementById('app');
if (app) start(app);
else console.error('Relabel: no #app element in the page.');
