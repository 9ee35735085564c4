/**
 * Browser script: polls /api/v1/summary every 2 s (a few hundred bytes per target); fetches /api/v1/incidents only when
 * the summary's incident fingerprint changes, and /api/v1/series only for the targets whose card is open (at once when
 * opened, then every 10 s or when a new failure shows). A 401 turns into a message about credentials, not a blank page.
 */
export const POLL_JS = String.raw`
const POLL_MS = 2000;
const SERIES_MS = 10000;
const state = { summary: null, incidents: [], incVersion: null, targets: new Map(), lastOk: 0, problem: null, html: new Map() };
class AuthError extends Error {}
async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store', credentials: 'same-origin' });
  if (res.status === 401) throw new AuthError(path);
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}
function targetState(t, count) {
  let st = state.targets.get(t.name);
  if (!st) state.targets.set(t.name, (st = { open: false, user: false, range: '1h', series: null, fetchedAt: 0, lastFailureAt: null, loading: false }));
  // Until the viewer decides, a card is open when its target has a problem, or when there are only a few targets.
  if (!st.user) st.open = count <= 3 || t.incidents.length > 0 || t.status === 'degraded' || t.status === 'down';
  return st;
}
async function loadSeries(name, st) {
  if (st.loading) return;
  st.loading = true;
  try {
    st.series = await getJson('api/v1/series?target=' + encodeURIComponent(name));
    st.fetchedAt = Date.now();
  } catch (err) {
    if (err instanceof AuthError) state.problem = { auth: true };
  } finally {
    st.loading = false;
  }
  render();
}
function refreshSeries() {
  const targets = state.summary ? state.summary.targets : [];
  for (const t of targets) {
    const st = targetState(t, targets.length);
    const lastFailureAt = t.lastFailure ? t.lastFailure.at : null;
    if (st.open && (!st.series || Date.now() - st.fetchedAt >= SERIES_MS || lastFailureAt !== st.lastFailureAt)) {
      st.lastFailureAt = lastFailureAt;
      void loadSeries(t.name, st);
    }
  }
}
async function poll() {
  try {
    const s = await getJson('api/v1/summary');
    skew = Date.parse(s.now) - Date.now();
    if (s.incidents.version !== state.incVersion) {
      state.incidents = (await getJson('api/v1/incidents')).incidents || [];
      state.incVersion = s.incidents.version;
    }
    state.summary = s;
    state.lastOk = Date.now();
    state.problem = null;
    refreshSeries();
  } catch (err) {
    state.problem = err instanceof AuthError ? { auth: true } : { message: err.message };
  }
  render();
}
function banner() {
  const p = state.problem;
  if (!p) return '';
  if (p.auth) {
    return '<div class="banner auth" id="auth-needed"><h2>Credentials needed</h2><div>The vipwatch API answered <b>401 Unauthorized</b>: it asks for credentials (<code>server.auth</code>) that this page does not have, or no longer has. ' +
      'Reload the page and sign in with the status page\'s user name and password (basic auth); a bearer token protects API clients only, a browser cannot send it from here.</div>' +
      (state.lastOk ? '<div class="muted">What follows is from ' + esc(localTime(state.lastOk + skew)) + ' and is not updated.</div>' : '') + '</div>';
  }
  return '<div class="banner" id="stale"><b>Update failed:</b> ' + esc(p.message) + (state.lastOk ? ' <span class="muted">(showing data from ' + esc(ago(state.lastOk + skew)) + ')</span>' : '') + '</div>';
}
function setHtml(id, html) {
  if (state.html.get(id) === html) return;
  state.html.set(id, html);
  document.getElementById(id).innerHTML = html;
}
function render() {
  const up = document.getElementById('updated');
  up.textContent = state.problem ? (state.problem.auth ? 'credentials needed' : 'update failed') : state.lastOk ? 'updated ' + new Date(state.lastOk).toLocaleTimeString() + ' · every 2 s' : 'loading…';
  up.className = 'meta' + (state.problem ? ' error' : '');
  setHtml('banner', banner());
  if (!state.summary) return;
  const open = state.incidents.filter((i) => i.status === 'open');
  const resolved = state.incidents.filter((i) => i.status === 'resolved').sort((a, b) => toMs(b.resolvedAt) - toMs(a.resolvedAt)).slice(0, 10);
  document.getElementById('incident-count').textContent = open.length ? '(' + open.length + ')' : '';
  setHtml('incidents', open.length ? open.map(openIncidentCard).join('') : '<p class="muted">No open incident.</p>');
  setHtml('resolved', resolved.length ? resolved.map(resolvedIncidentCard).join('') : '<p class="muted">None in the incident history.</p>');
  const targets = state.summary.targets;
  setHtml('targets', targets.length ? targets.map((t) => targetCard(t, targetState(t, targets.length), state.incidents)).join('') : '<p class="muted">No target configured.</p>');
}
document.addEventListener('click', (ev) => {
  const range = ev.target.closest('button[data-range]');
  const card = ev.target.closest('details.target');
  if (!card) return;
  const st = state.targets.get(card.dataset.target);
  if (!st) return;
  if (range) {
    st.range = range.dataset.range;
    render();
    return;
  }
  if (ev.target.closest('summary') && ev.target.closest('summary').parentElement === card) {
    ev.preventDefault();
    st.user = true;
    st.open = !st.open;
    if (st.open && !st.series) void loadSeries(card.dataset.target, st);
    render();
  }
});
/** For the browser test and curious viewers: the page's state and its incident renderers. */
window.vipwatchStatus = { state, render, openIncidentCard, resolvedIncidentCard };
poll();
setInterval(poll, POLL_MS);
`;
