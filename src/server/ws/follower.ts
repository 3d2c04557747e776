/**
 * @module server/ws/follower
 * One subscription of one WebSocket client to one task (or `*`, every task).
 *
 * Gap-free, duplicate-free logs: the follower subscribes to the EventBus *before* reading the log
 * file, queues live events while it sends the backlog, then uses each event's byte `offset` to
 * drop what the backlog already covered, trim an overlap, or read a gap back from the file (a bus
 * that dropped events). When the task is terminal it drains the file to its end and sends the
 * terminal `task.status` last, then stops. Everything runs on one promise chain, in order.
 *
 * Events are an accelerator, not the source of truth: a worker in another process (`fetchml
 * worker` beside `fetchml server` on the embedded in-process bus) publishes nowhere this server
 * hears, and a Redis bus may drop messages. So every `pollMs` the follower also reads the log file
 * from where it is and checks the task's status in the store — the same catch-up path as a gap.
 */
import type { WsLogEvent, WsServerMessage, WsStatusEvent } from '../../core/schemas/api.ts';
import { TERMINAL_STATUSES } from '../../core/schemas/task.ts';
import type { Task, TaskStatus } from '../../core/schemas/task.ts';
import type { TaskEvent, Unsubscribe } from '../../events/types.ts';
import type { RouteContext } from '../context.ts';
import { nowIso } from '../context.ts';
import { readLogRange } from '../log-file.ts';

/** Largest backlog message. */
export const BACKLOG_CHUNK_BYTES = 256 * 1024;
/** How often a follower re-reads the log file and the task status, by default. */
export const DEFAULT_FOLLOW_POLL_MS = 500;

export type Send = (message: WsServerMessage) => Promise<void>;

const isTerminal = (status: string) => TERMINAL_STATUSES.includes(status as TaskStatus);

/** The `task.status` event for a task's stored state (its end time once it has one). */
const statusEvent = (task: Task): WsStatusEvent => ({
  type: 'task.status',
  task_id: task.id,
  status: task.status,
  attempt: task.attempt,
  exit_code: task.exit_code,
  at: task.ended_at ?? task.updated_at,
});

export class TaskFollower {
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: Unsubscribe | null = null;
  /** Next log byte to send; null when the client asked for no backlog (live pass-through). */
  private sent: number | null;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastStatus: string | null = null;
  private readonly pollMs: number;

  private readonly ctx: RouteContext;
  private readonly send: Send;
  private readonly onError: (err: unknown) => void;
  readonly taskId: string;

  constructor(
    ctx: RouteContext,
    send: Send,
    taskId: string,
    logOffset: number | undefined,
    onError: (err: unknown) => void,
    pollMs: number = DEFAULT_FOLLOW_POLL_MS,
  ) {
    this.pollMs = pollMs;
    this.ctx = ctx;
    this.send = send;
    this.taskId = taskId;
    this.onError = onError;
    this.sent = logOffset ?? null;
  }

  /** Subscribes, sends `subscribed`, the backlog and, for a finished task, its final status. */
  start(): void {
    this.unsubscribe = this.ctx.events.subscribe(this.taskId, (event) => {
      this.enqueue(() => this.onEvent(event));
    });
    this.enqueue(() => this.begin());
    if (this.taskId !== '*' && this.pollMs > 0) {
      this.pollTimer = setInterval(() => {
        if (this.polling) return; // the previous poll is still queued
        this.polling = true;
        this.enqueue(() => this.poll().finally(() => (this.polling = false)));
      }, this.pollMs);
      this.pollTimer.unref();
    }
  }

  /** False once stopped (unsubscribed, the task ended or does not exist). */
  get active(): boolean {
    return !this.stopped;
  }

  /** Stops delivering; idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Resolves when everything queued so far was sent. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await step();
      } catch (err) {
        this.stop();
        this.onError(err);
      }
    });
  }

  private async begin(): Promise<void> {
    if (this.taskId === '*') {
      await this.send({ type: 'subscribed', task_id: '*', status: null });
      return;
    }
    const task = await this.ctx.store.getTask(this.taskId);
    if (!task) {
      this.stop();
      await this.send({
        type: 'error',
        code: 'ML_ERR_TASK_NOT_FOUND',
        message: `no such task: ${this.taskId}`,
      });
      return;
    }
    this.lastStatus = task.status;
    await this.send({ type: 'subscribed', task_id: task.id, status: task.status });
    if (this.sent !== null) await this.catchUp(Number.POSITIVE_INFINITY);
    if (isTerminal(task.status)) {
      await this.finish(statusEvent(task));
    }
  }

  /** The periodic catch-up: new log bytes from the file, and status changes from the store. */
  private async poll(): Promise<void> {
    if (this.sent !== null) await this.catchUp(Number.POSITIVE_INFINITY);
    const task = await this.ctx.store.getTask(this.taskId);
    if (!task || task.status === this.lastStatus || this.stopped) return;
    await this.onEvent(statusEvent(task));
  }

  private async onEvent(event: TaskEvent): Promise<void> {
    if (event.type === 'task.status') {
      if (event.task_id === this.taskId) this.lastStatus = event.status;
      if (this.taskId !== '*' && isTerminal(event.status)) await this.finish(event);
      else await this.send(event);
      return;
    }
    if (this.sent === null || this.taskId === '*') {
      await this.send(event);
      return;
    }
    const bytes = Buffer.from(event.text, 'utf8');
    const length = event.bytes ?? bytes.length;
    const end = event.offset + length;
    if (end <= this.sent) return; // already sent from the file
    if (event.offset > this.sent) await this.catchUp(event.offset); // a gap: read it back
    if (this.sent >= end) return;
    const from = Math.max(0, this.sent - event.offset);
    if (from > 0 && length !== bytes.length) {
      // An overlap in text that does not map byte for byte onto the file (invalid UTF-8): the
      // file is the truth, read the rest of this event from it.
      await this.catchUp(end);
      return;
    }
    const text = from === 0 ? event.text : bytes.subarray(from).toString('utf8');
    const out: WsLogEvent = { ...event, offset: event.offset + from, text, bytes: length - from };
    await this.send(out);
    this.sent = end;
  }

  /** Sends the file from `sent` up to `target` (or its current end). */
  private async catchUp(target: number): Promise<void> {
    const path = this.ctx.files.logPath(this.taskId);
    while (this.sent !== null && this.sent < target && !this.stopped) {
      const want = Math.min(BACKLOG_CHUNK_BYTES, target - this.sent);
      const range = await readLogRange(path, this.sent, want);
      if (range.text === '') return;
      await this.send({
        type: 'task.log',
        task_id: this.taskId,
        stream: 'stdout',
        offset: range.offset,
        text: range.text,
        bytes: range.next - range.offset,
        at: nowIso(this.ctx),
        replay: true,
      });
      this.sent = range.next;
    }
  }

  private async finish(status: WsStatusEvent): Promise<void> {
    if (this.sent !== null) await this.catchUp(Number.POSITIVE_INFINITY);
    await this.send(status);
    this.stop();
  }
}
