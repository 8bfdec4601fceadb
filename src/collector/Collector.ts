// Types-only: what createCollector returns.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TelemetryEvent } from '../core/eventSchema';
import type { LeaderLease } from '../db/LeaderLease';
import type { AlertMonitor, AlertTransition } from './AlertMonitor';
import type { CollectorStorage } from './CollectorStorage';
import type { EventWriter } from './EventWriter';
import type { ModelKeyBudget } from './ModelKeyBudget';

export interface Collector {
  /** Serve the request if the collector owns its path (`/v1/*`, `/metrics`, `/dashboard*`); false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Evaluate alert rules now (normally on a timer and after ingest). */
  evaluateAlerts(): Promise<AlertTransition[]>;
  close(): Promise<void>;
  storage: CollectorStorage;
  /**
   * Events produced next to the collector (the inference server of `npm start`) go in here: the
   * storage's writer, followed by what ingest does after a commit (metrics, alert evaluation).
   */
  writer: EventWriter;
  /** The longest per-route body deadline: a server's whole-request timeout must not be shorter. */
  longestBodyTimeoutMs: number;
  /** Which model ids and versions count apart; published releases are added with `budget.addKnown`. */
  budget: ModelKeyBudget;
  /** Whether this instance does the once-only work (alerts here; rollout decisions, retention next to it). */
  leader: LeaderLease;
  /** This process's name among the instances. */
  instanceId: string;
  /** Subscribe to the events stored by ingest and `writer` (after commit); returns the unsubscribe function. */
  onEventsStored(listener: (events: readonly TelemetryEvent[]) => void): () => void;
  /** Subscribe to alert transitions (firing, resolved); returns the unsubscribe function. */
  onAlertTransition(listener: (t: AlertTransition) => void): () => void;
  /** Fire / resolve an alert no rule measures (one of `externalAlertRules`): stored, listed, sent to the webhook. */
  raiseAlert: AlertMonitor['raise'];
  clearAlert: AlertMonitor['clear'];
}
