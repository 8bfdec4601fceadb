// Worker-thread side of QueryWorker: exposes the read side (createQueryApi) through comlink from its
// own SQLite connection, and keeps the WAL checkpointed, both off the ingest thread.
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort, workerData } from 'node:worker_threads';
import { checkpointWal } from './checkpointWal';
import { openSqliteDatabase } from '../db/openSqliteDatabase';
import type { QueryApi, QueryWorkerData } from './queryProtocol';
import { createQueryApi } from './ReadQueries';
import { SqliteAlertStore } from './SqliteAlertStore';
import { SqliteEventQueries } from './SqliteEventQueries';
import { SqliteStatements } from './SqliteStatements';

const data = workerData as QueryWorkerData;
const port = parentPort!;
const db = openSqliteDatabase(data.dbPath);
const sql = new SqliteStatements(db);

const checkpoint = setInterval(() => {
  try {
    checkpointWal(db, data.restartWalAfterPages);
  } catch {
    // SQLITE_BUSY or similar: the next tick (or the main connection's auto-checkpoint) catches up.
  }
}, data.checkpointIntervalMs);

const api: QueryApi = createQueryApi(new SqliteEventQueries(sql), new SqliteAlertStore(sql));
Comlink.expose(api, nodeEndpoint(port));

port.once('close', () => {
  clearInterval(checkpoint);
  db.close();
});
