/**
 * A result that is ready now or later. The key-check hot path answers a cached key
 * without a single promise (each one costs a microtask, and an async-hooks callback
 * once anything in the process uses AsyncLocalStorage); only what needs I/O is async.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Any promise, also one from another realm (a vm context, as under Jest): anything with a `then`. */
export function isPromiseLike<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** `then` that stays synchronous when the value is already there; a throw in `next` throws (or rejects) likewise. */
export function andThen<T, U>(value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromiseLike(value) ? value.then(next) : next(value);
}
