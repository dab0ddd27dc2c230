/**
 * A result that is ready now or later. The key-check hot path answers a cached key
 * without a single promise (each one costs a microtask, and an async-hooks callback
 * once anything in the process uses AsyncLocalStorage); only what needs I/O is async.
 */
export type MaybePromise<T> = T | Promise<T>;

/** `then` that stays synchronous when the value is already there; a throw in `next` throws (or rejects) likewise. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
