// SPDX-License-Identifier: MIT
// Synchronous publish/subscribe, supervisord's events.subscribe/notify/clear:
// a subscriber to a type receives that type and all its subtypes.
import { isEventOfType, type AnyEvent, type EventTypeName } from './types.js';

export type EventCallback = (event: AnyEvent) => void;

export class EventBus {
  // One entry per subscribe() call, in order, duplicates allowed: like
  // events.callbacks, a callback subscribed to two types an event matches is
  // called twice (listener pools rely on this to behave as supervisord's do).
  private callbacks: Array<{ type: EventTypeName; callback: EventCallback }> = [];

  /** Returns a function that undoes this one subscription. */
  subscribe(type: EventTypeName, callback: EventCallback): () => void {
    const entry = { type, callback };
    this.callbacks.push(entry);
    return () => {
      const i = this.callbacks.indexOf(entry);
      if (i >= 0) this.callbacks.splice(i, 1);
    };
  }

  /** events.unsubscribe: removes the first matching (type, callback) pair; false if none. */
  unsubscribe(type: EventTypeName, callback: EventCallback): boolean {
    const i = this.callbacks.findIndex((e) => e.type === type && e.callback === callback);
    if (i < 0) return false;
    this.callbacks.splice(i, 1);
    return true;
  }

  /**
   * events.notify: every matching callback, in subscription order, before
   * returning. Iterates over a snapshot, so a callback that (un)subscribes
   * affects the next notify, not this one (Python iterates the live list).
   */
  notify(event: AnyEvent): void {
    for (const { type, callback } of [...this.callbacks]) {
      if (isEventOfType(event.name, type)) callback(event);
    }
  }

  clear(): void {
    this.callbacks = [];
  }

  get size(): number {
    return this.callbacks.length;
  }
}
