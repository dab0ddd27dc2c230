/** One page of a list ordered newest first by time-sortable id. */
export class Page<T> {
  constructor(
    readonly items: T[],
    readonly hasMore: boolean,
    readonly nextCursor: string | null,
  ) {}

  map<U>(mapper: (item: T) => U): Page<U> {
    return new Page(this.items.map(mapper), this.hasMore, this.nextCursor);
  }
}

export interface PageRequest {
  limit: number;
  /** The id of the last item of the previous page (opaque to clients). */
  cursor?: string;
}
