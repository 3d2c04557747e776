import { describe, expect, it } from 'vitest';

import type { TaskEvent } from '../types.ts';
import { createMemoryEventBus } from './index.ts';

const log = (task_id: string, text: string): TaskEvent => ({
  type: 'task.log',
  task_id,
  stream: 'stdout',
  offset: 0,
  text,
  at: new Date().toISOString(),
});

describe('memory event bus', () => {
  it('delivers to task and wildcard subscribers, not to others', async () => {
    const bus = createMemoryEventBus();
    const a: string[] = [];
    const all: string[] = [];
    const b: string[] = [];
    bus.subscribe('t1', (e) => a.push(e.type === 'task.log' ? e.text : e.status));
    bus.subscribe('*', (e) => all.push(e.task_id));
    bus.subscribe('t2', (e) => b.push(e.task_id));
    await bus.publish(log('t1', 'hello'));
    expect(a).toEqual(['hello']);
    expect(all).toEqual(['t1']);
    expect(b).toEqual([]);
  });

  it('stops delivering after unsubscribe and close; a throwing listener does not stop others', async () => {
    const bus = createMemoryEventBus();
    const seen: string[] = [];
    bus.subscribe('t', () => {
      throw new Error('boom');
    });
    const off = bus.subscribe('t', (e) => seen.push(e.task_id));
    await bus.publish(log('t', 'x'));
    off();
    await bus.publish(log('t', 'y'));
    expect(seen).toEqual(['t']);
    await bus.close();
    bus.subscribe('t', (e) => seen.push(e.task_id));
    await bus.publish(log('t', 'z'));
    expect(seen).toEqual(['t']);
  });
});
