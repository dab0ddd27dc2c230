/** One page of a list: the envelope's `data`, `has_more` and `next_cursor` (docs/api-conventions.md). */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

/**
 * A list call: `await` it for the first page, or iterate it with `for await` for every
 * item of every page, asking for the next page (`?cursor=`) only when the previous one is
 * used up. `pages()` iterates page by page.
 */
export class PageList<T> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  private first: Promise<Page<T>> | undefined;

  constructor(private readonly fetchPage: (cursor: string | null) => Promise<Page<T>>) {}

  then<TResult1 = Page<T>, TResult2 = never>(
    onfulfilled?: ((value: Page<T>) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    this.first ??= this.fetchPage(null);
    return this.first.then(onfulfilled, onrejected);
  }

  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let cursor: string | null = null;
    const seen = new Set<string>();
    for (;;) {
      const page: Page<T> = await this.fetchPage(cursor);
      yield page;
      if (!page.hasMore || !page.nextCursor) return;
      // A server answering the same cursor twice would otherwise loop for ever.
      if (seen.has(page.nextCursor)) throw new Error(`the list answered the cursor ${page.nextCursor} twice`);
      seen.add(page.nextCursor);
      cursor = page.nextCursor;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.data;
  }

  /** Every item of every page, in order (for lists known to be short). */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }
}
