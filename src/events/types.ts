/**
 * @module events/types
 * EventBus: task status changes and log lines, fanned out to WebSocket subscribers.
 * In-process for the embedded setup (memory/), Redis pub/sub when server and workers are apart.
 *
 * Delivery is best-effort and at-most-once: events are for live views. Anything that must not be
 * lost (status, exit code, the log itself) is also written to the store or the log file, and a
 * subscriber that reconnects re-reads from there.
 */

export type TaskEvent =
  | {
      type: 'task.status';
      task_id: string;
      status: string;
      attempt: number;
      exit_code: number | null;
      at: string;
    }
  | {
      type: 'task.log';
      task_id: string;
      stream: 'stdout' | 'stderr' | 'system';
      /** Byte offset of `text` in the task's log file, so readers can stitch history and live lines. */
      offset: number;
      text: string;
      /**
       * How many bytes of the log file `text` stands for. Differs from the UTF-8 length of `text`
       * when the job printed invalid UTF-8 (each bad byte decodes to a 3-byte U+FFFD); offsets
       * must advance by this, not by the decoded text. Absent: the UTF-8 length of `text`.
       */
      bytes?: number;
      at: string;
    };

export type Unsubscribe = () => void;

export interface EventBus {
  /** Publishes to every subscriber of `event.task_id` and to wildcard subscribers. */
  publish(event: TaskEvent): Promise<void>;
  /** `taskId = '*'` receives every task's events. */
  subscribe(taskId: string, listener: (event: TaskEvent) => void): Unsubscribe;
  close(): Promise<void>;
}
