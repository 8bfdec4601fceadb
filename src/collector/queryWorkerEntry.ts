// Worker-thread side of QueryWorker: answers QueryRequests from its own SQLite connection and keeps
// the WAL checkpointed, both off the ingest thread.
import { parentPort, workerData } from 'node:worker_threads';
import { buildDashboardData } from './buildDashboardData';
import { buildSummary } from './buildSummary';
import { measureRule } from './measureRule';
import type { QueryRequest, QueryResponse, QueryWorkerData } from './queryProtocol';
import { openSqliteEventStore } from './SqliteEventStore';

const data = workerData as QueryWorkerData;
const port = parentPort!;
const store = openSqliteEventStore(data.dbPath);

const checkpoint = setInterval(() => {
  try {
    store.checkpoint(data.restartWalAfterPages);
  } catch {
    // SQLITE_BUSY or similar: the next tick (or the main connection's auto-checkpoint) catches up.
  }
}, data.checkpointIntervalMs);

port.on('message', (request: QueryRequest) => {
  let response: QueryResponse;
  try {
    response = { id: request.id, ok: true, value: answer(request) };
  } catch (e) {
    response = { id: request.id, ok: false, error: (e as Error).message };
  }
  port.postMessage(response);
});

port.once('close', () => {
  clearInterval(checkpoint);
  store.close();
});

function answer(request: QueryRequest): unknown {
  switch (request.type) {
    case 'measure':
      return request.rules.map((rule) => measureRule(rule, store, request.nowMs));
    case 'summary':
      return buildSummary(store, request.windowMs, request.nowMs);
    case 'dashboard':
      return buildDashboardData(store, request.rules, request.windowMs, request.nowMs);
  }
}
